/// How JSON text is laid out.
public struct JSONLayout: Sendable, Equatable {
    /// Spaces per level of nesting; 0 writes everything on one line.
    public var indent: Int
    /// Whether `<`, `>`, `&`, U+2028 and U+2029 are written as `\u` escapes, as Go's
    /// encoding/json does by default (and so kubectl's `-o json`).
    public var escapesHTML: Bool
    /// Whether the text ends with a newline (indented layouts only).
    public var endsWithNewline: Bool

    /// Creates a layout from its fields.
    public init(indent: Int, escapesHTML: Bool = false, endsWithNewline: Bool = false) {
        self.indent = indent
        self.escapesHTML = escapesHTML
        self.endsWithNewline = endsWithNewline
    }

    /// One line, as API bodies and podd's state files are written.
    public static let compact = JSONLayout(indent: 0)
    /// Two spaces per level and a final newline, as podd's own readable output.
    public static let pretty = JSONLayout(indent: 2, endsWithNewline: true)
    /// kubectl's `-o json`: Go's json.MarshalIndent with four spaces, HTML characters
    /// escaped, no final newline (the printer adds it).
    public static let kubectl = JSONLayout(indent: 4, escapesHTML: true)
}

extension JSONValue {
    /// The JSON text of this value as UTF-8 bytes: compact, or indented by two spaces per
    /// level and ending in a newline. Object members keep their order.
    /// NaN and infinities, which JSON cannot express, are written as null.
    public func serialized(pretty: Bool = false) -> [UInt8] {
        serialized(layout: pretty ? .pretty : .compact)
    }

    /// The JSON text of this value as UTF-8 bytes, laid out as `layout` says.
    public func serialized(layout: JSONLayout) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        JSONSerializer(layout: layout).write(self, into: &output, indent: 0)
        if layout.indent > 0 && layout.endsWithNewline { output.append(UInt8(ascii: "\n")) }
        return output
    }

    /// The JSON text of this value as a String.
    public func serializedString(pretty: Bool = false) -> String {
        String(decoding: serialized(pretty: pretty), as: UTF8.self)
    }

    /// The JSON text of this value as a String, laid out as `layout` says.
    public func serializedString(layout: JSONLayout) -> String {
        String(decoding: serialized(layout: layout), as: UTF8.self)
    }
}

/// Writes JSON text; `format` is also how podd prints a number in error messages.
public struct JSONSerializer {
    let layout: JSONLayout
    private var pretty: Bool { layout.indent > 0 }

    init(layout: JSONLayout) { self.layout = layout }

    func write(_ value: JSONValue, into output: inout [UInt8], indent: Int) {
        switch value {
        case .null:
            output.append(contentsOf: "null".utf8)
        case .bool(let flag):
            output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number):
            output.append(contentsOf: String(number).utf8)
        case .double(let number):
            output.append(contentsOf: Self.format(number).utf8)
        case .string(let text):
            Self.writeString(text, into: &output, escapesHTML: layout.escapesHTML)
        case .array(let elements):
            guard !elements.isEmpty else {
                output.append(contentsOf: "[]".utf8)
                return
            }
            output.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent + 1)
                write(element, into: &output, indent: indent + 1)
            }
            newline(into: &output, indent: indent)
            output.append(UInt8(ascii: "]"))
        case .object(let object):
            guard !object.isEmpty else {
                output.append(contentsOf: "{}".utf8)
                return
            }
            output.append(UInt8(ascii: "{"))
            for (index, entry) in object.entries.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                newline(into: &output, indent: indent + 1)
                Self.writeString(entry.key, into: &output, escapesHTML: layout.escapesHTML)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                write(entry.value, into: &output, indent: indent + 1)
            }
            newline(into: &output, indent: indent)
            output.append(UInt8(ascii: "}"))
        }
    }

    private func newline(into output: inout [UInt8], indent: Int) {
        guard pretty else { return }
        output.append(UInt8(ascii: "\n"))
        output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * layout.indent))
    }

    /// A Double as JSON, as Go's encoding/json writes a float64 (and so Kubernetes): the
    /// shortest text that reads back to the same number, in plain decimal between 1e-6 and
    /// 1e21 (`30`, `0.000001`, `150000000000000000000`) and in exponent form outside it
    /// (`1e+21`, `1e-7`). NaN and infinities, which JSON cannot carry, as null.
    public static func format(_ number: Double) -> String {
        guard number.isFinite else { return "null" }
        if number == 0 { return number.sign == .minus ? "-0" : "0" }
        // Swift's description is the shortest round-tripping digits, e.g. "1.5e+20", "0.001".
        let shortest = "\(number)"
        let negative = shortest.hasPrefix("-")
        let unsigned = negative ? String(shortest.dropFirst()) : shortest
        let mantissa: Substring
        var exponent = 0
        if let e = unsigned.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = unsigned[..<e]
            exponent = Int(unsigned[unsigned.index(after: e)...]) ?? 0
        } else {
            mantissa = unsigned[...]
        }
        // digits × 10^(pointPosition - digits.count)
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        var digits = String(parts[0]) + (parts.count > 1 ? String(parts[1]) : "")
        var point = parts[0].count + exponent
        while digits.count > 1, digits.hasPrefix("0") {
            digits.removeFirst()
            point -= 1
        }
        while digits.count > 1, digits.hasSuffix("0") { digits.removeLast() }
        let magnitude = abs(number)
        var text: String
        if magnitude >= 1e21 || magnitude < 1e-6 {
            // strconv's 'e' form keeps two exponent digits (e+21, e-07); encoding/json then
            // drops the zero of a negative one (e-7).
            let decimalExponent = point - 1
            text = String(digits.prefix(1))
            if digits.count > 1 { text += "." + digits.dropFirst() }
            let exponentDigits = String(abs(decimalExponent))
            text += decimalExponent < 0 ? "e-" + exponentDigits
                : "e+" + (exponentDigits.count < 2 ? "0" + exponentDigits : exponentDigits)
        } else if point <= 0 {
            text = "0." + String(repeating: "0", count: -point) + digits
        } else if point >= digits.count {
            text = digits + String(repeating: "0", count: point - digits.count)
        } else {
            let split = digits.index(digits.startIndex, offsetBy: point)
            text = digits[..<split] + "." + digits[split...]
        }
        return negative ? "-" + text : text
    }

    /// Writes `text` as a JSON string literal: quotes, backslashes and control characters
    /// escaped, everything else as UTF-8.
    static func writeString(_ text: String, into output: inout [UInt8], escapesHTML: Bool = false) {
        output.append(UInt8(ascii: "\""))
        if escapesHTML {
            writeEscapingHTML(text, into: &output)
            output.append(UInt8(ascii: "\""))
            return
        }
        // The runs between characters to escape go in whole: nearly every string of a pod
        // (names, paths, timestamps) has none, and is one copy.
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for i in bytes.indices {
                let byte = bytes[i]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                if i > start { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<i])) }
                appendEscape(byte, into: &output)
                start = i + 1
            }
            if start < bytes.count { output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...])) }
        }
        output.append(UInt8(ascii: "\""))
    }

    /// A quote, a backslash or a control character, escaped.
    private static func appendEscape(_ byte: UInt8, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        default:
            let digits: StaticString = "0123456789abcdef"
            output.append(contentsOf: "u00".utf8)
            output.append(digits.utf8Start[Int(byte >> 4)])
            output.append(digits.utf8Start[Int(byte & 0x0F)])
        }
    }

    /// The characters Go's encoder escapes for HTML safety, then the usual escapes.
    private static func writeEscapingHTML(_ text: String, into output: inout [UInt8]) {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                output.append(contentsOf: Array("\\u".utf8))
                for shift in stride(from: 12, through: 0, by: -4) {
                    output.append(digits[Int((scalar.value >> UInt32(shift)) & 0xF)])
                }
            default:
                var buffer: [UInt8] = []
                UTF8.encode(scalar) { buffer.append($0) }
                for byte in buffer {
                    switch byte {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), 0..<0x20:
                        // Go writes \u00XX for control characters other than \n \r \t.
                        var single: [UInt8] = []
                        writeString(String(decoding: [byte], as: UTF8.self), into: &single)
                        output.append(contentsOf: single.dropFirst().dropLast())
                    default:
                        output.append(byte)
                    }
                }
            }
        }
    }
}
