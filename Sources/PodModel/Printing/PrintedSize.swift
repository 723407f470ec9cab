/// Sizes as docker and podman print them.

/// A size in SI units with three significant digits, as `docker images` prints it
/// (go-units HumanSizeWithPrecision(size, 3)): `980B`, `4.27MB`, `1.2GB`.
public func humanSize(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    var size = Double(bytes)
    var unit = 0
    while size >= 1000, unit < units.count - 1 {
        size /= 1000
        unit += 1
    }
    return formatSignificant(size, digits: 3) + units[unit]
}

/// `%.Ng` for values below 1000: N significant digits, trailing zeros dropped.
func formatSignificant(_ value: Double, digits: Int) -> String {
    guard value != 0 else { return "0" }
    var magnitude = 0
    var probe = abs(value)
    while probe >= 10 { probe /= 10; magnitude += 1 }
    while probe < 1 { probe *= 10; magnitude -= 1 }
    let decimals = max(0, digits - 1 - magnitude)
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
}

/// podman's SIZE column (`podman images`): `humanSize` with a space before the unit
/// (`4.27 MB`).
public func imageSize(_ bytes: Int) -> String {
    let text = humanSize(bytes)
    guard let unit = text.firstIndex(where: { $0.isLetter }) else { return text }
    return text[..<unit] + " " + text[unit...]
}
