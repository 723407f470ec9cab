import Glibc

/// Wall-clock time as seconds since the Unix epoch; Foundation's Date is not needed for the
/// little podctl does with time.
public enum Clock {
    public static func now() -> Double {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }

    /// Parses an RFC 3339 timestamp as Kubernetes writes them (`2024-05-01T10:00:00Z`,
    /// optionally with a fraction and a numeric offset).
    public static func parseRFC3339(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ digits: Int) -> Int? {
            guard index + digits <= bytes.count else { return nil }
            var value = 0
            for _ in 0..<digits {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
                index += 1
            }
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
              let second = number(2)
        else { return nil }
        var fraction = 0.0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var scale = 0.1
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                fraction += Double(bytes[index] - UInt8(ascii: "0")) * scale
                scale /= 10
                index += 1
            }
        }
        var offset = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2) else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }
        return Double(daysFromCivil(year: year, month: month, day: day) * 86400 + hour * 3600 + minute * 60 + second - offset)
            + fraction
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146097 + dayOfEra - 719468
    }

    /// Formats a time as Go's RFC1123Z in the local time zone (`Mon, 02 Jan 2006 15:04:05
    /// -0700`), as `kubectl describe` prints times.
    public static func formatRFC1123Z(_ seconds: Double) -> String {
        format(seconds, "%a, %d %b %Y %H:%M:%S %z")
    }

    /// An RFC 3339 timestamp in UTC with whole seconds, as Kubernetes writes them.
    public static func formatRFC3339(_ seconds: Double) -> String {
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        return strftime(&parts, "%Y-%m-%dT%H:%M:%SZ")
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

/// kubectl's rendering of a duration (apimachinery `duration.HumanDuration`): about two
/// significant units (`5s`, `3m2s`, `15m`, `5h3m`, `2d3h`, `200d`, `3y20d`).
public func humanDuration(_ seconds: Double) -> String {
    let totalSeconds = Int(seconds.rounded(.towardZero))
    if totalSeconds < -1 { return "<invalid>" }
    if totalSeconds < 0 { return "0s" }
    if totalSeconds < 60 * 2 { return "\(totalSeconds)s" }
    let minutes = totalSeconds / 60
    if minutes < 10 {
        let rest = totalSeconds % 60
        return rest == 0 ? "\(minutes)m" : "\(minutes)m\(rest)s"
    }
    if minutes < 60 * 3 { return "\(minutes)m" }
    let hours = totalSeconds / 3600
    if hours < 8 {
        let rest = minutes % 60
        return rest == 0 ? "\(hours)h" : "\(hours)h\(rest)m"
    }
    if hours < 48 { return "\(hours)h" }
    if hours < 24 * 8 {
        let rest = hours % 24
        return rest == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(rest)h"
    }
    if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
    if hours < 24 * 365 * 8 {
        let rest = (hours / 24) % 365
        return rest == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(rest)d"
    }
    return "\(hours / 24 / 365)y"
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
