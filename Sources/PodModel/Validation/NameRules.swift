/// Kubernetes' format rules for label keys and values, annotation keys, environment variable
/// names, port names and HTTP header names (apimachinery's util/validation), with its
/// messages word for word.
enum NameRules {
    // MARK: Messages

    /// "must be no more than N characters" (util/validation's wording, used for names).
    static func maxLengthCharacters(_ length: Int) -> String { "must be no more than \(length) characters" }

    /// "must be no more than N bytes" (validate/content's wording, used for labels).
    static func maxLengthBytes(_ length: Int) -> String { "must be no more than \(length) bytes" }

    /// Kubernetes' RegexError: the message, examples and the regex.
    static func regexError(_ message: String, _ format: String, examples: [String]) -> String {
        guard !examples.isEmpty else { return message + " (regex used for validation is '" + format + "')" }
        var text = message + " (e.g. "
        for (index, example) in examples.enumerated() {
            if index > 0 { text += " or " }
            text += "'" + example + "', "
        }
        return text + "regex used for validation is '" + format + "')"
    }

    static func inclusiveRange(_ low: Int, _ high: Int) -> String { "must be between \(low) and \(high), inclusive" }

    // MARK: Labels and annotations

    static let labelKeyFormat = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
    static let labelKeyMessage = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelValueFormat = "(" + labelKeyFormat + ")?"
    static let labelValueMessage = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
    static let labelMaxLength = 63

    /// What is wrong with a label key or annotation key ("qualified name"): an optional
    /// DNS subdomain prefix and '/', then a name of at most 63 characters.
    static func qualifiedNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = String(parts[0])
            name = parts[1]
            if prefix.isEmpty {
                errors.append("prefix part must be non-empty")
            } else {
                let prefixErrors = DNS1123.subdomainErrors(prefix, maxLengthMessage: maxLengthBytes(DNS1123.subdomainMaxLength))
                errors += prefixErrors.map { "prefix part " + $0 }
            }
        default:
            return ["a valid label key " + regexError(labelKeyMessage, labelKeyFormat, examples: ["MyName", "my.name", "123-abc"])
                + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"]
        }
        if name.isEmpty {
            errors.append("name part must be non-empty")
        } else if name.utf8.count > labelMaxLength {
            errors.append("name part " + maxLengthBytes(labelMaxLength))
        }
        if !matchesLabelKey(name.utf8) {
            errors.append("name part " + regexError(labelKeyMessage, labelKeyFormat, examples: ["MyName", "my.name", "123-abc"]))
        }
        return errors
    }

    /// What is wrong with a label value: empty, or a name of at most 63 characters.
    static func labelValueErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > labelMaxLength { errors.append(maxLengthBytes(labelMaxLength)) }
        if !value.isEmpty && !matchesLabelKey(value.utf8[...]) {
            errors.append(regexError(labelValueMessage, labelValueFormat, examples: ["MyValue", "my_value", "12345"]))
        }
        return errors
    }

    /// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`.
    private static func matchesLabelKey(_ bytes: Substring.UTF8View) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isAlphanumeric(first), isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    // MARK: Environment variables

    /// Kubernetes' relaxed rule (RelaxedEnvironmentVariableValidation): printable ASCII
    /// other than '='.
    static func environmentVariableNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.isEmpty { errors.append("environment variable name must be non-empty") }
        if value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value > 0x7E || $0 == "=" }) {
            errors.append("a valid environment variable name must consist only of printable ASCII characters other than '='")
        }
        return errors
    }

    // MARK: Ports

    /// What is wrong with a port name: at most 15 characters of a-z, 0-9 and '-', at least
    /// one letter, no leading, trailing or double hyphen.
    static func portNameErrors(_ value: String) -> [String] {
        var errors: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 15 { errors.append(maxLengthCharacters(15)) }
        let isLower = { (byte: UInt8) in byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z") }
        let isDigit = { (byte: UInt8) in byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }
        if bytes.isEmpty || !bytes.allSatisfy({ isLower($0) || isDigit($0) || $0 == UInt8(ascii: "-") }) {
            errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if !bytes.contains(where: isLower) { errors.append("must contain at least one letter (a-z)") }
        if value.contains("--") { errors.append("must not contain consecutive hyphens") }
        if let first = bytes.first, let last = bytes.last, first == UInt8(ascii: "-") || last == UInt8(ascii: "-") {
            errors.append("must not begin or end with a hyphen")
        }
        return errors
    }

    /// What is wrong with a port number: outside 1-65535.
    static func portNumberErrors(_ value: Int64) -> [String] {
        (1...65535).contains(value) ? [] : [inclusiveRange(1, 65535)]
    }

    // MARK: HTTP

    /// What is wrong with an HTTP header name: `[-A-Za-z0-9]+`.
    static func httpHeaderNameErrors(_ value: String) -> [String] {
        let valid = !value.isEmpty && value.utf8.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") }
        return valid ? [] : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", "[-A-Za-z0-9]+",
                                        examples: ["X-Header-Name"])]
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
            || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}

/// The label rules a label selector's terms are checked against (the API server refuses a
/// selector whose key or value no label could have).
public enum LabelRules {
    /// What is wrong with a label key; empty when it is a valid one.
    public static func keyErrors(_ key: String) -> [String] { NameRules.qualifiedNameErrors(key) }
    /// What is wrong with a label value; empty when it is a valid one.
    public static func valueErrors(_ value: String) -> [String] { NameRules.labelValueErrors(value) }
}
