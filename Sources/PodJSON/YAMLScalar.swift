/// What a YAML scalar means, decided as Kubernetes decides it: sigs.k8s.io/yaml converts YAML
/// to JSON through go-yaml v2, whose `resolve` (resolve.go) reads a plain scalar as
///
/// - null: empty, `~`, `null`, `Null`, `NULL`;
/// - a YAML 1.1 boolean: `y Y yes Yes YES on On ON true True TRUE` and
///   `n N no No NO off Off OFF false False FALSE` (only these spellings: `yES` is a string);
/// - an integer as Go's `strconv.ParseInt(s, 0, 64)` (then ParseUint) reads it once `_` are
///   removed: decimal, `0x1F`, `0o17`, `0b101`, and a leading `0` for octal (`0777` is 511);
/// - a float matching `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?` (`08` is 8.0);
///   `.inf`, `-.inf`, `.nan` and their case forms are floats JSON cannot carry;
/// - anything else, timestamps included (go-yaml hands them to sigs.k8s.io/yaml as their
///   text), a string.
///
/// Quoted and block scalars are strings. podd (manifests, static pods, its config) and podctl
/// (`apply -f`) both read YAML through this one table, so they cannot read a manifest two ways.
/// It is done here rather than with Yams' resolver, whose rules are YAML 1.1 as PyYAML reads
/// it (`1:30` is the integer 90, `y` a string) and need Foundation's regular expressions.
public enum YAMLScalar {
    /// What a scalar resolves to.
    public enum Resolution: Sendable, Equatable {
        /// A value JSON can carry.
        case value(JSONValue)
        /// `.inf`, `-.inf` or `.nan`: a float JSON cannot carry (Kubernetes refuses it with
        /// "json: unsupported value").
        case nonFiniteFloat
    }

    /// The meaning of a plain (unquoted, untagged) scalar.
    public static func resolvePlain(_ text: String) -> Resolution {
        switch text {
        case "", "~", "null", "Null", "NULL":
            return .value(.null)
        case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "true", "True", "TRUE":
            return .value(.bool(true))
        case "n", "N", "no", "No", "NO", "off", "Off", "OFF", "false", "False", "FALSE":
            return .value(.bool(false))
        case ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
            return .nonFiniteFloat
        default:
            break
        }
        guard let first = text.utf8.first else { return .value(.string(text)) }
        if first == UInt8(ascii: ".") {
            // go-yaml tries strconv.ParseFloat on the text as it is.
            return float(text).map { .value(.double($0)) } ?? .value(.string(text))
        }
        let isDigit = first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9")
        guard isDigit || first == UInt8(ascii: "+") || first == UInt8(ascii: "-") else { return .value(.string(text)) }
        let plain = text.replacing("_", with: "")
        if let integer = integer(plain) { return .value(integer) }
        if let number = float(plain) { return .value(.double(number)) }
        return .value(.string(text))
    }

    /// An integer as Go's strconv.ParseInt(text, 0, 64) reads it, else ParseUint (as a
    /// Double: JSONValue has no unsigned case), else nil.
    static func integer(_ text: String) -> JSONValue? {
        var digits = Substring(text)
        var negative = false
        if let sign = digits.first, sign == "+" || sign == "-" {
            negative = sign == "-"
            digits = digits.dropFirst()
        }
        var radix = 10
        if digits.count > 2, digits.first == "0", let marker = digits.dropFirst().first {
            switch marker {
            case "x", "X": radix = 16
            case "o", "O": radix = 8
            case "b", "B": radix = 2
            default: break
            }
            if radix != 10 { digits = digits.dropFirst(2) }
        }
        if radix == 10, digits.count > 1, digits.first == "0" {
            radix = 8
            digits = digits.dropFirst()
        }
        // Swift's radix parser takes a sign; Go takes none after the prefix.
        guard let lead = digits.first, lead != "+", lead != "-", let magnitude = UInt64(digits, radix: radix) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return .int(magnitude == UInt64(Int64.max) + 1 ? .min : -Int64(magnitude))
        }
        if let signed = Int64(exactly: magnitude) { return .int(signed) }
        return .double(Double(magnitude))
    }

    /// A finite float in go-yaml's form `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
    static func float(_ text: String) -> Double? {
        let bytes = Array(text.utf8)
        var index = 0
        func digitRun() -> Int {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") { index += 1 }
            return index - start
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard digitRun() > 0 else { return nil }
        } else {
            guard digitRun() > 0 else { return nil }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                _ = digitRun()
            }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard digitRun() > 0 else { return nil }
        }
        // Swift's Double(String) takes "1." and ".5" as Go does; it needs no leading "+".
        let literal = text.hasPrefix("+") ? String(text.dropFirst()) : text
        guard index == bytes.count, let value = Double(literal), value.isFinite else { return nil }
        return value
    }

    /// Whether a string must be quoted in YAML output to read back as that string: its plain
    /// form would resolve to something else (`yes`, `0777`, `1.0`, `null`, `.inf`), or go-yaml's
    /// encoder would quote it when kubectl prints `-o yaml` (`<<`, a timestamp, a YAML 1.1
    /// base 60 number such as `1:20`). Syntax (`: `, a leading `-`) is left to the emitter,
    /// which quotes such strings itself.
    public static func needsQuotes(_ text: String) -> Bool {
        guard case .value(.string) = resolvePlain(text) else { return true }
        return text == "<<" || isBase60Float(text) || looksLikeTimestamp(text)
    }

    /// go-yaml's isBase60Float: `[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?`.
    static func isBase60Float(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        var index = 0
        func isDigit(_ at: Int) -> Bool { at < bytes.count && bytes[at] >= UInt8(ascii: "0") && bytes[at] <= UInt8(ascii: "9") }
        if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard isDigit(index) else { return false }
        index += 1
        while isDigit(index) || (index < bytes.count && bytes[index] == UInt8(ascii: "_")) { index += 1 }
        var groups = 0
        while index < bytes.count, bytes[index] == UInt8(ascii: ":") {
            index += 1
            if isDigit(index), isDigit(index + 1) {
                guard bytes[index] <= UInt8(ascii: "5") else { return false }
                index += 2
            } else if isDigit(index) {
                index += 1
            } else {
                return false
            }
            groups += 1
        }
        guard groups > 0 else { return false }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            while isDigit(index) || (index < bytes.count && bytes[index] == UInt8(ascii: "_")) { index += 1 }
        }
        return index == bytes.count
    }

    /// Whether the text may be one of go-yaml's timestamps (`2006-1-2`, `2006-1-2T15:4:5Z`,
    /// `2006-1-2 15:4:5.999`): four digits, a dash, then only date and time characters. Errs
    /// towards yes: a needless quote changes nothing when read back.
    static func looksLikeTimestamp(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard bytes.count > 5, bytes[0..<4].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }),
              bytes[4] == UInt8(ascii: "-") else { return false }
        let allowed = Set("0123456789-:.+ TtZ".utf8)
        return bytes.allSatisfy { allowed.contains($0) }
    }
}
