import PodModel
import PodOS

/// A terminated container's message, as kubelet reads it (getTerminationMessage): what the
/// container left in the file bound at its terminationMessagePath, its last 4 KiB; with
/// FallbackToLogsOnError, when that is empty and the container failed, the end of its log
/// (its last 80 lines, their last 2 KiB).
extension PodController {
    static let maximumTerminationMessageBytes = 4096
    static let fallbackLogLines = 80
    static let fallbackLogBytes = 2048

    func terminationMessage(_ name: String, exitCode: Int32) -> String? {
        guard let definition = streamDefinition(name) else { return nil }
        if let bytes = FileSystem.readTail(layout.terminationLog(name), limit: Self.maximumTerminationMessageBytes), !bytes.isEmpty {
            return String(decoding: bytes, as: UTF8.self)
        }
        guard definition.terminationMessagePolicy == .fallbackToLogsOnError, exitCode != 0,
              let log = logFile(container: name, previous: false) else { return nil }
        let tail = Self.logTail(ContainerLogFiles.list(log.path))
        return tail.isEmpty ? nil : tail
    }

    /// The last lines of a run's log (its files oldest first), as `logs --tail=80` prints
    /// them, cut to their last 2 KiB. Only the end of the newest file with anything in it is
    /// read (64 KiB): a log's size does not matter.
    static func logTail(_ files: [String]) -> String {
        for file in files.reversed() {
            guard let bytes = FileSystem.readTail(file, limit: 64 << 10), !bytes.isEmpty else { continue }
            // A read that starts mid-file starts mid-record: skip to the first whole one.
            var start = bytes.startIndex
            if bytes.count == 64 << 10, let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) { start = newline + 1 }
            var pending = ""
            var pendingTime: Substring?
            let parsed = CRILog.parse(Array(bytes[start...])).lines
            let lines = CRILog.render(parsed, options: CRILogOptions(), pending: &pending, pendingTime: &pendingTime)
            let text = Array((lines + (pending.isEmpty ? [] : [pending])).suffix(fallbackLogLines).joined().utf8)
            guard text.count > fallbackLogBytes else { return String(decoding: text, as: UTF8.self) }
            // The last 2 KiB, from a character's first byte.
            var cut = text.count - fallbackLogBytes
            while cut < text.count, text[cut] & 0xC0 == 0x80 { cut += 1 }
            return String(decoding: text[cut...], as: UTF8.self)
        }
        return ""
    }
}
