/// What a plain (unquoted) YAML scalar means, decided as go-yaml v2 decides it for kubectl
/// (sigs.k8s.io/yaml, `resolve`): null, YAML 1.1 booleans, Go integers (0x, 0o, 0b, leading-0
/// octal, `_` separators), floats, `<<`; anything else, timestamps included, is a string.
///
/// podctl does this itself rather than through Yams' resolver, whose regular expressions
/// need Foundation's ICU and cost more than the rest of `apply`.
enum PlainScalar {
    static func resolve(_ text: String) -> JSON {
        switch text {
        case "", "~", "null", "Null", "NULL":
            return .null
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE":
            return .bool(true)
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE":
            return .bool(false)
        case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
            // Floats JSON cannot carry; kept as text for the server to reject with a reason.
            return .string(text)
        default:
            break
        }
        guard let first = text.utf8.first else { return .string(text) }
        let isDigit = first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")
        if first == UInt8(ascii: ".") {
            return decimalFloat(text).map { .number($0) } ?? .string(text)
        }
        guard isDigit || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else { return .string(text) }
        let plain = text.replacing("_", with: "")
        if let integer = goInteger(plain) { return .number(integer) }
        if let float = decimalFloat(plain) { return .number(float) }
        return .string(text)
    }

    /// An integer as Go's strconv.ParseInt(s, 0, 64) (or ParseUint) reads it, as decimal
    /// JSON text.
    static func goInteger(_ text: String) -> String? {
        var digits = Substring(text)
        var negative = false
        if digits.hasPrefix("+") || digits.hasPrefix("-") {
            negative = digits.hasPrefix("-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var radix = 10
        let lower = digits.lowercased()
        if lower.hasPrefix("0x") {
            radix = 16
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0o") {
            radix = 8
            digits = digits.dropFirst(2)
        } else if lower.hasPrefix("0b") {
            radix = 2
            digits = digits.dropFirst(2)
        } else if digits.count > 1 && digits.hasPrefix("0") {
            radix = 8
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty, let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == 0 ? "0" : "-" + String(magnitude)
        }
        return String(magnitude)
    }

    /// A float in go-yaml's accepted form (`[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`)
    /// as JSON number text (Go's json writes 1.0 as 1).
    static func decimalFloat(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        var index = 0
        func digitsRun() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digitsRun() > 0 else { return nil }
        } else {
            guard digitsRun() > 0 else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = digitsRun()
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digitsRun() > 0 else { return nil }
        }
        guard index == bytes.count, let value = Double(text), value.isFinite else { return nil }
        if value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return "\(value)"
    }
}
