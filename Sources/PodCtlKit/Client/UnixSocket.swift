import Glibc

/// A connected AF_UNIX stream socket.
final class UnixSocket {
    let fd: Int32
    let path: String

    /// The errno of a failed send or receive.
    struct IOError: Error {
        var code: Int32
    }

    /// Connects to the socket at `path`. A failure reads as podctl prints it, with a hint on
    /// what to do (start podd, or get access to its socket).
    init(connectingTo path: String) throws(PodctlError) {
        self.path = path
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard !pathBytes.isEmpty, pathBytes.count < capacity else {
            throw PodctlError("cannot connect to podd at \(path): the socket path must be 1 to \(capacity - 1) bytes long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: pathBytes)
            raw[pathBytes.count] = 0
        }
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else {
            throw PodctlError("cannot create a socket: \(errorText(errno))")
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + 1)
        var result: Int32
        repeat {
            result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, length) }
            }
        } while result != 0 && errno == EINTR
        if result != 0 {
            let code = errno
            close(fd)
            let hint: String
            switch code {
            case EACCES, EPERM:
                hint = "(podd lets in root and members of the socket's group; check the group of \(path))"
            default:
                hint = "(is podd running? start it with 'make run' or 'systemctl start podd.socket')"
            }
            throw PodctlError("cannot connect to podd at \(path): \(errorText(code)) \(hint)")
        }
        self.fd = fd
    }

    deinit {
        close(fd)
    }

    func send(_ bytes: UnsafeRawBufferPointer) throws(IOError) {
        guard var base = bytes.baseAddress else { return }
        var remaining = bytes.count
        while remaining > 0 {
            let sent = Glibc.send(fd, base, remaining, Int32(MSG_NOSIGNAL))
            if sent < 0 {
                if errno == EINTR { continue }
                throw IOError(code: errno)
            }
            remaining -= sent
            base += sent
        }
    }

    func send(_ bytes: [UInt8]) throws(IOError) {
        var failure: IOError?
        bytes.withUnsafeBytes { raw in
            do throws(IOError) { try send(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Reads what is available into `buffer`, appending; returns the count, 0 at end of stream.
    func receive(appendingTo buffer: inout [UInt8], upTo maximum: Int = 65536) throws(IOError) -> Int {
        let oldCount = buffer.count
        var received = 0
        var failure: Int32 = 0
        buffer.append(contentsOf: repeatElement(0, count: maximum))
        buffer.withUnsafeMutableBytes { raw in
            guard let base = raw.baseAddress else { return }
            while true {
                let count = recv(fd, base + oldCount, maximum, 0)
                if count < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                received = count
                return
            }
        }
        buffer.removeLast(maximum - received)
        if failure != 0 { throw IOError(code: failure) }
        return received
    }

    /// Stops sending, so a server reading to the end of the request sees it.
    func shutdownWrite() {
        _ = shutdown(fd, Int32(SHUT_WR))
    }
}
