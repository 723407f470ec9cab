extension JSON {
    /// Compact JSON text, as sent in request bodies.
    public var compactText: String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        JSONWriter(indent: nil).write(self, into: &out, level: 0)
        return String(decoding: out, as: UTF8.self)
    }

    public var compactBytes: [UInt8] {
        var out: [UInt8] = []
        JSONWriter(indent: nil).write(self, into: &out, level: 0)
        return out
    }

    /// Indented JSON text as kubectl's `-o json` prints it (Go's `json.MarshalIndent` with four
    /// spaces, which also escapes `<`, `>` and `&`), without a trailing newline.
    public var prettyText: String {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        JSONWriter(indent: 4).write(self, into: &out, level: 0)
        return String(decoding: out, as: UTF8.self)
    }
}

struct JSONWriter {
    /// Spaces per level, or nil for compact output.
    var indent: Int?

    func write(_ value: JSON, into out: inout [UInt8], level: Int) {
        switch value {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let flag): out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let text): out.append(contentsOf: text.utf8)
        case .string(let text): Self.writeString(text, into: &out)
        case .array(let items):
            if items.isEmpty {
                out.append(contentsOf: "[]".utf8)
                return
            }
            out.append(UInt8(ascii: "["))
            for (position, item) in items.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, level: level + 1)
                write(item, into: &out, level: level + 1)
            }
            newline(into: &out, level: level)
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            if object.isEmpty {
                out.append(contentsOf: "{}".utf8)
                return
            }
            out.append(UInt8(ascii: "{"))
            for (position, member) in object.members.enumerated() {
                if position > 0 { out.append(UInt8(ascii: ",")) }
                newline(into: &out, level: level + 1)
                Self.writeString(member.key, into: &out)
                out.append(UInt8(ascii: ":"))
                if indent != nil { out.append(UInt8(ascii: " ")) }
                write(member.value, into: &out, level: level + 1)
            }
            newline(into: &out, level: level)
            out.append(UInt8(ascii: "}"))
        }
    }

    private func newline(into out: inout [UInt8], level: Int) {
        guard let indent else { return }
        out.append(UInt8(ascii: "\n"))
        out.append(contentsOf: repeatElement(UInt8(ascii: " "), count: indent * level))
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out.append(contentsOf: "\\\"".utf8)
            case "\\": out.append(contentsOf: "\\\\".utf8)
            case "\n": out.append(contentsOf: "\\n".utf8)
            case "\r": out.append(contentsOf: "\\r".utf8)
            case "\t": out.append(contentsOf: "\\t".utf8)
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                appendUnicodeEscape(scalar.value, into: &out)
            default:
                if scalar.value < 0x20 {
                    appendUnicodeEscape(scalar.value, into: &out)
                } else {
                    UTF8.encode(scalar) { out.append($0) }
                }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func appendUnicodeEscape(_ value: UInt32, into out: inout [UInt8]) {
        out.append(contentsOf: "\\u".utf8)
        for shift in stride(from: 12, through: 0, by: -4) {
            out.append(hexDigits[Int((value >> UInt32(shift)) & 0xF)])
        }
    }
}
