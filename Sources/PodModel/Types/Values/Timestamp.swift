#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time, as seconds and nanoseconds since the Unix epoch (UTC).
///
/// Kubernetes prints times as RFC 3339 in UTC with whole seconds ("2026-11-25T14:11:12Z");
/// `rfc3339` does the same. Parsing accepts that form, fractional seconds and numeric
/// offsets. Formatting and parsing are done by hand: DateFormatter is slow and pulls in
/// Foundation's locale machinery for no gain here.
public struct Timestamp: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Whole seconds since 1970-01-01T00:00:00Z (negative before it).
    public var seconds: Int64
    /// Nanoseconds within the second, 0 ..< 1_000_000_000.
    public var nanoseconds: Int32

    /// A timestamp; nanoseconds outside 0 ..< 1e9 carry into the seconds. A time outside
    /// `earliest...latest` (years 0001-9999, all RFC 3339 can write) is clamped to it.
    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        let carry = Int64(nanoseconds) / 1_000_000_000
        var nanos = Int64(nanoseconds) % 1_000_000_000
        var secs = Self.saturatingSum(seconds, carry)
        if nanos < 0 {
            nanos += 1_000_000_000
            secs = Self.saturatingSum(secs, -1)
        }
        if secs < Self.earliestSeconds {
            (secs, nanos) = (Self.earliestSeconds, 0)
        } else if secs > Self.latestSeconds {
            (secs, nanos) = (Self.latestSeconds, 999_999_999)
        }
        self.seconds = secs
        self.nanoseconds = Int32(nanos)
    }

    /// 0001-01-01T00:00:00Z, the earliest time a Timestamp holds.
    public static let earliest = Timestamp(seconds: earliestSeconds)
    /// 9999-12-31T23:59:59.999999999Z, the latest time a Timestamp holds.
    public static let latest = Timestamp(seconds: latestSeconds, nanoseconds: 999_999_999)

    /// Seconds of 0001-01-01T00:00:00Z and of 9999-12-31T23:59:59Z since the epoch.
    static let earliestSeconds: Int64 = -62_135_596_800
    static let latestSeconds: Int64 = 253_402_300_799

    /// `a + b`, or the Int64 bound it would pass.
    static func saturatingSum(_ a: Int64, _ b: Int64) -> Int64 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// The current wall-clock time. Code that must be testable takes the time as a
    /// parameter instead (the lifecycle state machine does); this is for the edges.
    public static func now() -> Timestamp {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return Timestamp(seconds: Int64(spec.tv_sec), nanoseconds: Int32(spec.tv_nsec))
    }

    /// This time moved by `seconds` (fractions kept to the nanosecond). Never traps: a move
    /// beyond year 9999 or before year 1 (Double.infinity, Int64.max seconds) stops at
    /// `latest` or `earliest`, and NaN moves nothing.
    public func adding(seconds delta: Double) -> Timestamp {
        guard !delta.isNaN else { return self }
        // Any larger move leaves the representable range whatever the start.
        let span = Double(Self.latestSeconds - Self.earliestSeconds) + 1
        if delta > span { return .latest }
        if delta < -span { return .earliest }
        let whole = delta.rounded(.down)
        let nanos = ((delta - whole) * 1_000_000_000).rounded()
        return Timestamp(seconds: Self.saturatingSum(seconds, Int64(whole)), nanoseconds: nanoseconds + Int32(nanos))
    }

    /// Seconds elapsed from `earlier` to this time (negative if `earlier` is later).
    public func seconds(since earlier: Timestamp) -> Double {
        Double(seconds - earlier.seconds) + Double(nanoseconds - earlier.nanoseconds) / 1_000_000_000
    }

    /// This time moved by a Duration, clamped to `earliest...latest` as `adding` is.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        let (secs, attoseconds) = rhs.components
        return Timestamp(seconds: saturatingSum(lhs.seconds, secs), nanoseconds: lhs.nanoseconds + Int32(attoseconds / 1_000_000_000))
    }

    /// The Duration from `rhs` to `lhs`.
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .seconds(lhs.seconds - rhs.seconds) + .nanoseconds(Int64(lhs.nanoseconds - rhs.nanoseconds))
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    public var description: String { rfc3339 }
}

// MARK: - Formatting

extension Timestamp {
    /// RFC 3339 in UTC with whole seconds, as Kubernetes' metav1.Time: "2026-11-25T14:11:12Z".
    public var rfc3339: String { format(fractionDigits: 0) }

    /// RFC 3339 in UTC with microseconds, as Kubernetes' metav1.MicroTime (Event.eventTime):
    /// "2026-11-25T14:11:12.123456Z".
    public var rfc3339Micro: String { format(fractionDigits: 6) }

    /// RFC 3339 in UTC with nanoseconds, as the CRI log format and `kubectl logs --timestamps`
    /// print: "2026-11-25T14:11:12.123456789Z".
    public var rfc3339Nano: String { format(fractionDigits: 9) }

    private func format(fractionDigits: Int) -> String {
        let days = Self.floorDivide(seconds, 86_400)
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = Self.civil(fromDays: days)
        guard (0...9999).contains(year), (0..<1_000_000_000).contains(nanoseconds) else {
            // Only a value whose fields were set past what `init` normalizes them to.
            return Timestamp(seconds: seconds, nanoseconds: nanoseconds).format(fractionDigits: fractionDigits)
        }
        // Written digit by digit into the string's own storage: a status carries a few of
        // these, and every publication of a pod writes them all.
        let length = 20 + (fractionDigits > 0 ? fractionDigits + 1 : 0)
        return String(unsafeUninitializedCapacity: length) { buffer in
            var at = 0
            func put(_ value: Int64, _ width: Int) {
                var value = value
                for i in stride(from: at + width - 1, through: at, by: -1) {
                    buffer[i] = UInt8(truncatingIfNeeded: 48 + value % 10)
                    value /= 10
                }
                at += width
            }
            func put(_ byte: Unicode.Scalar) {
                buffer[at] = UInt8(byte.value)
                at += 1
            }
            put(year, 4); put("-"); put(month, 2); put("-"); put(day, 2); put("T")
            put(secondOfDay / 3600, 2); put(":"); put(secondOfDay / 60 % 60, 2); put(":"); put(secondOfDay % 60, 2)
            if fractionDigits > 0 {
                var divisor: Int64 = 1
                for _ in 0..<(9 - fractionDigits) { divisor *= 10 }
                put("."); put(Int64(nanoseconds) / divisor, fractionDigits)
            }
            put("Z")
            return at
        }
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : (a - b + 1) / b
    }

    /// Days since 1970-01-01 to (year, month, day), proleptic Gregorian (H. Hinnant's
    /// civil_from_days).
    private static func civil(fromDays days: Int64) -> (Int64, Int64, Int64) {
        let z = days + 719_468
        let era = floorDivide(z, 146_097)
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    /// (year, month, day) to days since 1970-01-01 (H. Hinnant's days_from_civil).
    static func days(year: Int64, month: Int64, day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = floorDivide(y, 400)
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

// MARK: - Parsing

extension Timestamp {
    /// Parses RFC 3339 as Go's time.Parse(time.RFC3339, ...) reads Kubernetes' times:
    /// "2026-11-25T14:11:12Z", with fractional seconds of any length after a `.` or `,`
    /// ("...12.5Z", digits past nanoseconds truncated), `Z` or a numeric offset
    /// ("...12+02:00", "...12-07:30"). RFC 3339 also allows a lowercase `t` and `z`; they are
    /// accepted. nil if the text is not such a time.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        var index = 0

        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<(index + width)] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }

        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var nanos: Int64 = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") || bytes[index] == UInt8(ascii: ",") {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                // Digits beyond nanoseconds are dropped (truncated, as Go does).
                if digits < 9 { nanos = nanos * 10 + Int64(bytes[index] - UInt8(ascii: "0")) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 9) { nanos *= 10 }
        }

        var offset: Int64 = 0
        if expect("Zz") {
            offset = 0
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHours = number(2), expect(":"), let offsetMinutes = number(2),
                offsetHours < 24, offsetMinutes < 60
            else { return nil }
            offset = sign * (offsetHours * 3600 + offsetMinutes * 60)
        } else {
            return nil
        }
        guard index == bytes.count else { return nil }

        let days = Self.days(year: year, month: month, day: day)
        self.init(seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanoseconds: Int32(nanos))
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}
