/// Times as kubectl and the API server's printers show them.
public enum PrintedTime {
    /// An RFC 3339 timestamp as seconds since the epoch; nil when absent or unreadable.
    public static func seconds(_ text: String) -> Double? {
        guard let time = Timestamp(rfc3339: text) else { return nil }
        return Double(time.seconds) + Double(time.nanoseconds) / 1e9
    }

    /// The time since an RFC 3339 timestamp as kubectl renders ages
    /// (`translateTimestampSince`): `<unknown>` when the field is absent or unreadable.
    public static func age(since timestamp: String, now: Double) -> String {
        guard !timestamp.isEmpty, let then = seconds(timestamp) else { return "<unknown>" }
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

/// A duration as Go's `time.Duration.String` prints it, to the millisecond, as kubelet's
/// messages show durations: `512ms`, `1.5s`, `1m30s`, `5m0s`, `1h0m0s`, `0s`.
public func goDuration(_ seconds: Double) -> String {
    let total = Int((seconds * 1000).rounded())
    if total == 0 { return "0s" }
    if total < 0 { return "-" + goDuration(-seconds) }
    if total < 1000 { return "\(total)ms" }
    let hours = total / 3_600_000, minutes = total / 60_000 % 60
    var secondsText = String(total / 1000 % 60)
    if total % 1000 > 0 {
        var fraction = String(total % 1000)
        while fraction.count < 3 { fraction = "0" + fraction }
        while fraction.hasSuffix("0") { fraction.removeLast() }
        secondsText += "." + fraction
    }
    if hours > 0 { return "\(hours)h\(minutes)m\(secondsText)s" }
    if minutes > 0 { return "\(minutes)m\(secondsText)s" }
    return "\(secondsText)s"
}
