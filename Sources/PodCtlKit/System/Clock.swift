import PodModel
import Glibc

/// Wall-clock time as seconds since the Unix epoch; Foundation's Date is not needed for the
/// little podctl does with time. RFC 3339 is read and written by PodModel's `Timestamp`, the
/// one parser podd uses too.
public enum Clock {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Parses an RFC 3339 timestamp as Kubernetes writes them, with podd's own parser
    /// (PodModel's `Timestamp`), to seconds since the epoch.
    public static func parseRFC3339(_ text: String) -> Double? {
        guard let time = Timestamp(rfc3339: text) else { return nil }
        return Double(time.seconds) + Double(time.nanoseconds) / 1e9
    }

    /// Formats a time as Go's RFC1123Z in the local time zone (`Mon, 02 Jan 2006 15:04:05
    /// -0700`), as `kubectl describe` prints times.
    public static func formatRFC1123Z(_ seconds: Double) -> String {
        format(seconds, "%a, %d %b %Y %H:%M:%S %z")
    }

    static func format(_ seconds: Double, _ pattern: String) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        localtime_r(&time, &parts)
        return strftime(&parts, pattern)
    }

    private static func strftime(_ parts: inout tm, _ pattern: String) -> String {
        var buffer = [CChar](repeating: 0, count: 128)
        let length = Glibc.strftime(&buffer, buffer.count, pattern, &parts)
        return String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The time since an RFC 3339 timestamp as kubectl renders ages (`translateTimestampSince`):
    /// `<unknown>` when the field is absent or unreadable.
    public static func age(since timestamp: String, now: Double = Clock.now()) -> String {
        guard !timestamp.isEmpty, let then = parseRFC3339(timestamp) else { return "<unknown>" }
        return humanDuration(now - then)
    }
}

/// Parses a Go duration (`time.ParseDuration`: `30s`, `1.5h`, `2h45m`, `300ms`) into seconds,
/// as kubectl's `--since` and `--timeout` take them.
public func parseGoDuration(_ text: String) -> Double? {
    var scalars = Substring(text).unicodeScalars[...]
    var sign = 1.0
    if let first = scalars.first, first == "+" || first == "-" {
        sign = first == "-" ? -1 : 1
        scalars = scalars.dropFirst()
    }
    if String(scalars) == "0" { return 0 }
    guard !scalars.isEmpty else { return nil }
    var total = 0.0
    while !scalars.isEmpty {
        var digits = ""
        while let scalar = scalars.first, ("0"..."9").contains(scalar) || scalar == "." {
            digits.unicodeScalars.append(scalar)
            scalars = scalars.dropFirst()
        }
        guard !digits.isEmpty, digits != ".", let value = Double(digits) else { return nil }
        var unit = ""
        while let scalar = scalars.first, !("0"..."9").contains(scalar), scalar != "." {
            unit.unicodeScalars.append(scalar)
            scalars = scalars.dropFirst()
        }
        let scale: Double
        switch unit {
        case "ns": scale = 1e-9
        case "us", "µs", "μs": scale = 1e-6
        case "ms": scale = 1e-3
        case "s": scale = 1
        case "m": scale = 60
        case "h": scale = 3600
        default: return nil
        }
        total += value * scale
    }
    return sign * total
}
