import PodModel

/// Reads the CRI-format log files the monitor writes (`TIMESTAMP STREAM TAG CONTENT`, tag F
/// for a full line, P for part of a longer one) back into what `podctl logs` prints.
public struct CRILogOptions: Sendable {
    public var timestamps = false
    public var tailLines: Int?
    public var since: Timestamp?
    public var limitBytes: Int?
    /// "stdout" or "stderr" for one stream only (PodLogOptions.stream), nil for both.
    public var stream: String?

    public init() {}
}

public enum CRILog {
    public struct Line: Sendable {
        public var time: String
        public var stream: String
        public var content: Substring
    }

    /// Parses complete lines of `bytes`; returns them and how many bytes were consumed (a
    /// trailing line without its newline is left for the next read).
    public static func parse(_ bytes: [UInt8], stream: String? = nil) -> (lines: [(time: Substring, full: Bool, content: Substring)], consumed: Int) {
        var out: [(Substring, Bool, Substring)] = []
        let text = String(decoding: bytes, as: UTF8.self)
        var consumed = 0
        var rest = Substring(text)
        // Newlines are found among the bytes, not the Characters: a terminal's "\r\n" is one
        // Character, and its "\n" would not be seen.
        while let nl = rest.utf8.firstIndex(of: UInt8(ascii: "\n")) {
            let line = rest[..<nl]
            consumed += line.utf8.count + 1
            rest = rest[rest.utf8.index(after: nl)...]
            let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
            guard parts.count >= 3 else { continue }
            if let stream, parts[1] != stream { continue }
            out.append((parts[0], parts[2] != "P", parts.count > 3 ? parts[3] : ""))
        }
        return (out, consumed)
    }

    /// Renders parsed lines per the options; partial lines are joined to their end.
    public static func render(_ lines: [(time: Substring, full: Bool, content: Substring)], options: CRILogOptions,
                              pending: inout String, pendingTime: inout Substring?) -> [String] {
        var out: [String] = []
        for l in lines {
            if let since = options.since, let t = Timestamp(rfc3339: String(l.time)), t < since { continue }
            if pendingTime == nil { pendingTime = l.time }
            pending += l.content
            if l.full {
                out.append(options.timestamps ? "\(pendingTime ?? l.time) \(pending)\n" : pending + "\n")
                pending = ""
                pendingTime = nil
            }
        }
        return out
    }
}
