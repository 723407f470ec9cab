import CSystemd
import Glibc
import Logging

/// podd's own log records, sent to the journal with sd_journal_sendv(3) as structured entries:
/// MESSAGE, PRIORITY, SYSLOG_IDENTIFIER, CODE_FILE/CODE_LINE/CODE_FUNC, and POD_NAME,
/// POD_NAMESPACE, CONTAINER_NAME where the record is about a pod, so that
/// `journalctl POD_NAME=web` finds podd's lines about that pod beside its containers' output.
///
/// A record is about a pod when its metadata says so (`pod` as "NAMESPACE/NAME", or
/// `pod.name`/`pod.namespace`, and `container`), or, failing that, when its message starts as
/// podd's messages about pods do: "pod NAMESPACE/NAME: ..." or "pod NAME: container C ...".
/// Other metadata becomes fields of its own (upper-cased, [A-Z0-9_] only).
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public let setting: LogLevelSetting
    let identifier: String

    public init(identifier: String = "podd", setting: LogLevelSetting) {
        self.identifier = identifier
        self.setting = setting
    }

    public var logLevel: Logger.Level {
        get { setting.level }
        set { setting.level = newValue }
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    /// Whether stderr is connected to the journal: JOURNAL_STREAM ("DEVICE:INODE") names the
    /// stream systemd connected stdout/stderr to, and stderr is still that stream (not
    /// redirected by a wrapper), as systemd.exec(5) recommends to check.
    public static func stderrIsJournal() -> Bool {
        guard let value = getenv("JOURNAL_STREAM").map({ String(cString: $0) }) else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let dev = UInt64(parts[0]), let ino = UInt64(parts[1]) else { return false }
        var st = stat()
        guard fstat(2, &st) == 0 else { return false }
        return UInt64(st.st_dev) == dev && UInt64(st.st_ino) == ino
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let m = event.metadata { merged.merge(m) { _, new in new } }
        let message = event.message.description
        let fields = Self.fields(message: message, level: event.level, metadata: merged, identifier: identifier,
                                 file: event.file, function: event.function, line: event.line)
        Self.send(fields)
    }

    /// The entry's KEY=VALUE fields, in order.
    static func fields(message: String, level: Logger.Level, metadata: Logger.Metadata, identifier: String,
                       file: String, function: String, line: UInt) -> [String] {
        var out = ["MESSAGE=" + message, "PRIORITY=\(priority(level))", "SYSLOG_IDENTIFIER=" + identifier,
                   "CODE_FILE=" + file, "CODE_LINE=\(line)", "CODE_FUNC=" + function]
        var pod = PodRef(metadata: metadata)
        if pod.name == nil { pod = PodRef(message: message) }
        if let n = pod.name { out.append("POD_NAME=" + n) }
        if let ns = pod.namespace { out.append("POD_NAMESPACE=" + ns) }
        if let c = pod.container { out.append("CONTAINER_NAME=" + c) }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where !PodRef.keys.contains(key) {
            let name = fieldName(key)
            guard !name.isEmpty else { continue }
            out.append(name + "=" + "\(value)")
        }
        return out
    }

    /// A journal field name: upper case letters, digits and underscores, not starting with
    /// an underscore (those are trusted fields only journald sets) or a digit.
    static func fieldName(_ key: String) -> String {
        var name = String(key.uppercased().map { ($0.isASCII && ($0.isLetter || $0.isNumber)) ? $0 : "_" })
        while name.first == "_" || (name.first?.isNumber ?? false) { name.removeFirst() }
        return String(name.prefix(64))
    }

    static func send(_ fields: [String]) {
        // One contiguous buffer, so that every iovec points into memory valid for the call.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        for f in fields {
            let start = bytes.count
            bytes.append(contentsOf: f.utf8)
            ranges.append(start..<bytes.count)
        }
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            let iov = ranges.map { iovec(iov_base: UnsafeMutableRawPointer(mutating: base + $0.lowerBound), iov_len: $0.count) }
            _ = iov.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) }
        }
    }

    struct PodRef {
        static let keys: Set<String> = ["pod", "pod.name", "pod.namespace", "namespace", "container"]
        var name: String?
        var namespace: String?
        var container: String?

        init(metadata m: Logger.Metadata) {
            if let pod = m["pod"].map({ "\($0)" }) {
                let parts = pod.split(separator: "/", maxSplits: 1)
                if parts.count == 2 {
                    namespace = String(parts[0])
                    name = String(parts[1])
                } else {
                    name = pod
                }
            }
            if let n = m["pod.name"] { name = "\(n)" }
            if let ns = m["pod.namespace"] ?? m["namespace"] { namespace = "\(ns)" }
            if let c = m["container"] { container = "\(c)" }
        }

        /// "pod NS/NAME: ...", "pod NAME: container C ...".
        init(message: String) {
            guard message.hasPrefix("pod ") else { return }
            let rest = message.dropFirst(4)
            guard let end = rest.firstIndex(where: { $0 == ":" || $0 == " " }) else { return }
            let ref = rest[..<end]
            let parts = ref.split(separator: "/", maxSplits: 1)
            guard let last = parts.last, !last.isEmpty, last.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "." }) else { return }
            name = String(last)
            if parts.count == 2 { namespace = String(parts[0]) }
            let after = rest[end...].drop { $0 == ":" || $0 == " " }
            if after.hasPrefix("container ") {
                let c = after.dropFirst("container ".count).prefix { $0.isLetter || $0.isNumber || $0 == "-" }
                if !c.isEmpty { container = String(c) }
            }
        }
    }
}
