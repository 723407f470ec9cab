extension JSON {
    /// Block YAML in the style kubectl's `-o yaml` prints (go-yaml v2 as used by
    /// sigs.k8s.io/yaml): two-space indentation, sequences inside mappings not indented,
    /// strings quoted only when a plain scalar would read back as something else, multi-line
    /// strings as literal blocks. Keys are printed in the order they have; pass `sortedKeys`
    /// for kubectl's alphabetical order. Ends with a newline.
    public var yamlText: String {
        var lines: [String] = []
        YAMLWriter.emit(self, indent: 0, into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }
}

enum YAMLWriter {
    static func emit(_ value: JSON, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let object) where !object.isEmpty:
            for member in object.members {
                let key = pad + scalar(member.key)
                emitMember(key: key, value: member.value, indent: indent, into: &lines)
            }
        case .array(let items) where !items.isEmpty:
            for item in items {
                emitSequenceItem(item, indent: indent, into: &lines)
            }
        case .string(let text) where text.contains("\n"):
            if let block = literalBlock(text, indent: indent + 2) {
                lines.append(pad + block.header)
                lines.append(contentsOf: block.body)
            } else {
                lines.append(pad + doubleQuoted(text))
            }
        default:
            lines.append(pad + inlineScalar(value))
        }
    }

    /// `key: value`, or `key:` followed by the nested block.
    private static func emitMember(key: String, value: JSON, indent: Int, into lines: inout [String]) {
        switch value {
        case .object(let object) where !object.isEmpty:
            lines.append(key + ":")
            emit(value, indent: indent + 2, into: &lines)
        case .array(let items) where !items.isEmpty:
            lines.append(key + ":")
            emit(value, indent: indent, into: &lines)
        case .string(let text) where text.contains("\n"):
            if let block = literalBlock(text, indent: indent + 2) {
                lines.append(key + ": " + block.header)
                lines.append(contentsOf: block.body)
            } else {
                lines.append(key + ": " + doubleQuoted(text))
            }
        default:
            lines.append(key + ": " + inlineScalar(value))
        }
    }

    /// `- item`; a nested mapping or sequence starts on the dash's line.
    private static func emitSequenceItem(_ item: JSON, indent: Int, into lines: inout [String]) {
        let pad = String(repeating: " ", count: indent)
        switch item {
        case .object(let object) where !object.isEmpty:
            var nested: [String] = []
            emit(item, indent: indent + 2, into: &nested)
            nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
            lines.append(contentsOf: nested)
        case .array(let items) where !items.isEmpty:
            var nested: [String] = []
            emit(item, indent: indent + 2, into: &nested)
            nested[0] = pad + "- " + nested[0].dropFirst(indent + 2)
            lines.append(contentsOf: nested)
        case .string(let text) where text.contains("\n"):
            if let block = literalBlock(text, indent: indent + 2) {
                lines.append(pad + "- " + block.header)
                lines.append(contentsOf: block.body)
            } else {
                lines.append(pad + "- " + doubleQuoted(text))
            }
        default:
            lines.append(pad + "- " + inlineScalar(item))
        }
    }

    static func inlineScalar(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .number(let text): return text
        case .string(let text): return scalar(text)
        case .array: return "[]"
        case .object: return "{}"
        }
    }

    /// A literal block (`|`, `|-` or `|+`) for a multi-line string, or nil when one cannot
    /// carry it exactly (leading spaces, trailing spaces on a line, control characters).
    static func literalBlock(_ text: String, indent: Int) -> (header: String, body: [String])? {
        var content = Substring(text)
        var trailingNewlines = 0
        while content.hasSuffix("\n") {
            content = content.dropLast()
            trailingNewlines += 1
        }
        let chomp: String
        switch trailingNewlines {
        case 0: chomp = "-"
        case 1: chomp = ""
        default: chomp = "+"
        }
        let bodyLines = content.split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = bodyLines.first, !first.isEmpty, first.first != " " else { return nil }
        for line in bodyLines {
            if line.last == " " || line.last == "\t" { return nil }
            if line.unicodeScalars.contains(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
                return nil
            }
        }
        let pad = String(repeating: " ", count: indent)
        var body = bodyLines.map { $0.isEmpty ? "" : pad + $0 }
        if trailingNewlines > 1 {
            body.append(contentsOf: repeatElement("", count: trailingNewlines - 1))
        }
        return ("|" + chomp, body)
    }

    /// A one-line string as a plain, single-quoted or double-quoted scalar.
    static func scalar(_ text: String) -> String {
        if text.isEmpty { return "\"\"" }
        if text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) || $0 == "\u{FEFF}" }) {
            return doubleQuoted(text)
        }
        if readsAsNonString(text) { return doubleQuoted(text) }
        if needsQuotes(text) { return "'" + text.replacing("'", with: "''") + "'" }
        return text
    }

    /// Whether a plain scalar with this text would resolve to a null, bool, number or
    /// timestamp under YAML 1.1, as go-yaml resolves it. Errs on the side of quoting.
    static func readsAsNonString(_ text: String) -> Bool {
        switch text {
        case "~", "null", "Null", "NULL",
            "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
            "true", "True", "TRUE", "false", "False", "FALSE",
            "on", "On", "ON", "off", "Off", "OFF",
            ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF",
            ".nan", ".NaN", ".NAN", "<<", "=":
            return true
        default:
            break
        }
        var scalars = Substring(text).unicodeScalars[...]
        if let first = scalars.first, first == "+" || first == "-" { scalars = scalars.dropFirst() }
        if scalars.first == "." { scalars = scalars.dropFirst() }
        guard let lead = scalars.first, ("0"..."9").contains(lead) else { return false }
        let numeric = Set("0123456789abcdefABCDEFxXoO_.:+-eETtZ ".unicodeScalars)
        return text.unicodeScalars.allSatisfy { numeric.contains($0) }
    }

    static func needsQuotes(_ text: String) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return true }
        if first == " " || last == " " || last == ":" { return true }
        switch first {
        case "?", ":", ",", "[", "]", "{", "}", "#", "&", "*", "!", "|", ">", "'", "\"", "%", "@", "`":
            return true
        case "-":
            let second = text.unicodeScalars.dropFirst().first
            if second == nil || second == " " { return true }
        default:
            break
        }
        return text.contains(": ") || text.contains(" #") || text.contains("\t")
    }

    static func doubleQuoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case "\0": out += "\\0"
            default:
                if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar == "\u{FEFF}" {
                    out += "\\u" + hex4(scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private static func hex4(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }
}
