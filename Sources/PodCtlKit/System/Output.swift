import Glibc

/// Unbuffered writes to stdout and stderr through write(2).
///
/// podctl does its own buffering (a table is built whole, a log chunk is written as it
/// arrives), so nothing waits in a stdio buffer while `logs -f` or `get -w` stream, and
/// ordering between stdout and stderr is the order of the calls.
public enum Output {
    public static func write(_ text: String) {
        var text = text
        text.withUTF8 { writeAll(fd: 1, UnsafeRawBufferPointer($0)) }
    }

    public static func write(_ bytes: some Collection<UInt8>) {
        if let done: Void = bytes.withContiguousStorageIfAvailable({ writeAll(fd: 1, UnsafeRawBufferPointer($0)) }) {
            return done
        }
        let copy = Array(bytes)
        copy.withUnsafeBytes { writeAll(fd: 1, $0) }
    }

    /// Writes `text` and a newline to stderr.
    public static func error(_ text: String) {
        var line = text + "\n"
        line.withUTF8 { writeAll(fd: 2, UnsafeRawBufferPointer($0)) }
    }

    static func writeAll(fd: Int32, _ buffer: UnsafeRawBufferPointer) {
        guard var base = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let written = Glibc.write(fd, base, remaining)
            if written < 0 {
                if errno == EINTR { continue }
                // A closed pipe (`podctl logs -f | head`) ends the output quietly, as kubectl's
                // SIGPIPE does; any other failure leaves nothing useful to do either.
                exit(errno == EPIPE ? 0 : 1)
            }
            remaining -= written
            base += written
        }
    }
}
