/// DNS-1123 names, the rules Kubernetes applies to object names, namespaces, container and
/// volume names and hostnames. Checked by hand: the rules are simple, and a regex engine
/// would cost more than the check.
public enum DNS1123 {
    /// A label's maximum length.
    public static let labelMaxLength = 63
    /// A subdomain's maximum length.
    public static let subdomainMaxLength = 253

    static let labelFormat = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
    static let subdomainFormat = labelFormat + "(\\." + labelFormat + ")*"
    static let labelMessage = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    static let subdomainMessage = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"

    /// Whether `value` is a DNS-1123 label: 1-63 characters of a-z, 0-9 and '-', starting
    /// and ending with a letter or digit ("my-name", "123-abc").
    public static func isLabel(_ value: String) -> Bool { labelErrors(value).isEmpty }

    /// Whether `value` is a DNS-1123 subdomain: labels joined by '.', at most 253 characters
    /// ("example.com").
    public static func isSubdomain(_ value: String) -> Bool { subdomainErrors(value).isEmpty }

    /// What is wrong with `value` as a label, in Kubernetes' words; empty when it is one.
    public static func labelErrors(_ value: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > labelMaxLength { errors.append(NameRules.maxLengthCharacters(labelMaxLength)) }
        if !matchesLabel(value.utf8[...]) {
            if matchesSubdomain(value) {
                // A valid subdomain that is not a label: the dots are the problem.
                errors.append("must not contain dots")
            } else {
                errors.append(NameRules.regexError(labelMessage, labelFormat, examples: ["my-name", "123-abc"]))
            }
        }
        return errors
    }

    /// What is wrong with `value` as a subdomain, in Kubernetes' words; empty when it is one.
    public static func subdomainErrors(_ value: String) -> [String] {
        subdomainErrors(value, maxLengthMessage: NameRules.maxLengthCharacters(subdomainMaxLength))
    }

    static func subdomainErrors(_ value: String, maxLengthMessage: String) -> [String] {
        var errors: [String] = []
        if value.utf8.count > subdomainMaxLength { errors.append(maxLengthMessage) }
        if !matchesSubdomain(value) {
            errors.append(NameRules.regexError(subdomainMessage, subdomainFormat, examples: ["example.com"]))
        }
        return errors
    }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, without the length limit.
    static func matchesLabel(_ bytes: Substring.UTF8View) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last) else {
            return false
        }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    /// Labels separated by single dots, without the length limit.
    static func matchesSubdomain(_ value: String) -> Bool {
        value.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { matchesLabel($0.utf8) }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }
}
