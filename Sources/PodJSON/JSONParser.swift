/// A text that could not be read as JSON or YAML, with where it went wrong.
public struct DocumentParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. "invalid character '}' looking for beginning of value".
    public var message: String
    /// 1-based line and column of the problem, when known.
    public var line: Int?
    public var column: Int?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(message: String, line: Int? = nil, column: Int? = nil) {
        self.message = message
        self.line = line
        self.column = column
    }

    public var description: String {
        guard let line else { return message }
        if let column { return "line \(line), column \(column): \(message)" }
        return "line \(line): \(message)"
    }
}

extension JSONValue {
    /// Parses one JSON value (RFC 8259, strictly: no comments, trailing commas, leading zeros,
    /// duplicate keys or trailing text). Integer literals come back as `.int` when they fit
    /// in Int64; other numbers as `.double`.
    public static func parse(_ bytes: [UInt8]) throws(DocumentParseError) -> JSONValue {
        var parser = JSONParser(bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.atEnd else { throw parser.error("invalid character \(parser.describeCurrent()) after top-level value") }
        return value
    }

    /// Parses a JSON text.
    public static func parse(_ text: String) throws(DocumentParseError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    /// Parses a stream of JSON values separated by whitespace, as `kubectl apply -f` accepts
    /// (`{...} {...}`).
    public static func parseStream(_ bytes: [UInt8]) throws(DocumentParseError) -> [JSONValue] {
        var parser = JSONParser(bytes)
        var values: [JSONValue] = []
        parser.skipWhitespace()
        while !parser.atEnd {
            values.append(try parser.parseValue(depth: 0))
            parser.skipWhitespace()
        }
        return values
    }
}

/// A recursive-descent parser over UTF-8 bytes.
struct JSONParser {
    /// Deeper nesting than this is refused rather than risking the stack on hostile input;
    /// no real manifest comes close.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { position >= bytes.count }

    mutating func skipWhitespace() {
        while position < bytes.count {
            switch bytes[position] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\n"), UInt8(ascii: "\r"):
                position += 1
            default:
                return
            }
        }
    }

    mutating func parseValue(depth: Int) throws(DocumentParseError) -> JSONValue {
        guard depth < Self.maximumDepth else { throw error("exceeded max depth of \(Self.maximumDepth)") }
        guard position < bytes.count else { throw error("unexpected end of JSON input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("invalid character \(describeCurrent()) looking for beginning of value")
        }
    }

    private mutating func parseObject(depth: Int) throws(DocumentParseError) -> JSONValue {
        position += 1  // {
        var object = JSONObject()
        skipWhitespace()
        if peek() == UInt8(ascii: "}") {
            position += 1
            return .object(object)
        }
        while true {
            skipWhitespace()
            guard peek() == UInt8(ascii: "\"") else {
                throw error("invalid character \(describeCurrent()) looking for beginning of object key string")
            }
            let keyStart = position
            let key = try parseString()
            skipWhitespace()
            guard peek() == UInt8(ascii: ":") else { throw error("invalid character \(describeCurrent()) after object key") }
            position += 1
            skipWhitespace()
            let value = try parseValue(depth: depth + 1)
            // Kubernetes' strict decoding refuses a repeated key rather than silently keeping
            // one of the two values.
            guard !object.contains(key) else { throw error("duplicate field \"\(key)\"", at: keyStart) }
            object[key] = value
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .object(object)
            default:
                throw error("invalid character \(describeCurrent()) after object key:value pair")
            }
        }
    }

    private mutating func parseArray(depth: Int) throws(DocumentParseError) -> JSONValue {
        position += 1  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek() == UInt8(ascii: "]") {
            position += 1
            return .array(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            switch peek() {
            case UInt8(ascii: ","):
                position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .array(elements)
            default:
                throw error("invalid character \(describeCurrent()) after array element")
            }
        }
    }

    private mutating func parseString() throws(DocumentParseError) -> String {
        position += 1  // opening quote
        let start = position
        // Fast path: no escapes, the bytes are the string.
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let value = String(decoding: bytes[start..<position], as: UTF8.self)
                position += 1
                return value
            }
            if byte == UInt8(ascii: "\\") { break }
            guard byte >= 0x20 else { throw error("invalid character \(describeCurrent()) in string literal") }
            position += 1
        }
        var buffer = Array(bytes[start..<position])
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "\""):
                position += 1
                return String(decoding: buffer, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try parseEscape(into: &buffer)
            case 0..<0x20:
                throw error("invalid character \(describeCurrent()) in string literal")
            default:
                buffer.append(byte)
                position += 1
            }
        }
        throw error("unexpected end of JSON input")
    }

    private mutating func parseEscape(into buffer: inout [UInt8]) throws(DocumentParseError) {
        guard let byte = peek() else { throw error("unexpected end of JSON input") }
        position += 1
        switch byte {
        case UInt8(ascii: "\""): buffer.append(UInt8(ascii: "\""))
        case UInt8(ascii: "\\"): buffer.append(UInt8(ascii: "\\"))
        case UInt8(ascii: "/"): buffer.append(UInt8(ascii: "/"))
        case UInt8(ascii: "b"): buffer.append(0x08)
        case UInt8(ascii: "f"): buffer.append(0x0C)
        case UInt8(ascii: "n"): buffer.append(0x0A)
        case UInt8(ascii: "r"): buffer.append(0x0D)
        case UInt8(ascii: "t"): buffer.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try parseHex4()
            if (0xD800...0xDBFF).contains(scalar) {
                // A high surrogate must be followed by an escaped low surrogate; a lone one
                // becomes U+FFFD, as Go's decoder (and so Kubernetes) does.
                if peek() == UInt8(ascii: "\\"), peek(offset: 1) == UInt8(ascii: "u") {
                    let save = position
                    position += 2
                    let low = try parseHex4()
                    if (0xDC00...0xDFFF).contains(low) {
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else {
                        position = save
                        scalar = 0xFFFD
                    }
                } else {
                    scalar = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(scalar) {
                scalar = 0xFFFD
            }
            let character = Unicode.Scalar(scalar) ?? "\u{FFFD}"
            buffer.append(contentsOf: Array(String(Character(character)).utf8))
        default:
            position -= 1
            throw error("invalid character \(describeCurrent()) in string escape code")
        }
    }

    private mutating func parseHex4() throws(DocumentParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = peek() else { throw error("unexpected end of JSON input") }
            let digit: UInt32
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(byte - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(byte - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(byte - UInt8(ascii: "A") + 10)
            default: throw error("invalid character \(describeCurrent()) in \\u hexadecimal character escape")
            }
            value = value << 4 | digit
            position += 1
        }
        return value
    }

    private mutating func parseNumber() throws(DocumentParseError) -> JSONValue {
        let start = position
        var isInteger = true
        if peek() == UInt8(ascii: "-") { position += 1 }
        guard let first = peek(), isDigit(first) else {
            throw error("invalid character \(describeCurrent()) in numeric literal")
        }
        if first == UInt8(ascii: "0") {
            position += 1
            if let next = peek(), isDigit(next) {
                throw error("invalid character \(describeCurrent()) after top-level value")
            }
        } else {
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard let byte = peek(), isDigit(byte) else {
                throw error("invalid character \(describeCurrent()) after decimal point in numeric literal")
            }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { position += 1 }
            guard let byte = peek(), isDigit(byte) else {
                throw error("invalid character \(describeCurrent()) in exponent of numeric literal")
            }
            while let byte = peek(), isDigit(byte) { position += 1 }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        // Integers beyond Int64 and every fraction or exponent: a Double, as Go decodes
        // numbers into interface{}.
        guard let value = Double(text) else { throw error("invalid number \(text)", at: start) }
        return .double(value)
    }

    private mutating func expectLiteral(_ literal: String) throws(DocumentParseError) {
        for expected in literal.utf8 {
            guard peek() == expected else {
                throw error("invalid character \(describeCurrent()) in literal \(literal) (expecting '\(Character(Unicode.Scalar(expected)))')")
            }
            position += 1
        }
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private func peek(offset: Int = 0) -> UInt8? {
        let index = position + offset
        return index < bytes.count ? bytes[index] : nil
    }

    /// The current character as Go's decoder names it in errors: 'x', or "end of input".
    func describeCurrent() -> String {
        guard position < bytes.count else { return "end of input" }
        let byte = bytes[position]
        switch byte {
        case 0x20..<0x7F:
            return byte == UInt8(ascii: "'") ? "'\\''" : "'\(Character(Unicode.Scalar(byte)))'"
        default:
            let hex = String(byte, radix: 16, uppercase: false)
            return "'\\x\(hex.count == 1 ? "0" : "")\(hex)'"
        }
    }

    /// An error at the current position (or `offset`), with its line and column.
    func error(_ message: String, at offset: Int? = nil) -> DocumentParseError {
        let end = min(offset ?? position, bytes.count)
        var line = 1
        var column = 1
        for byte in bytes[0..<end] {
            if byte == UInt8(ascii: "\n") {
                line += 1
                column = 1
            } else if byte & 0xC0 != 0x80 {
                // Count characters, not UTF-8 continuation bytes.
                column += 1
            }
        }
        return DocumentParseError(message: message, line: line, column: column)
    }
}
