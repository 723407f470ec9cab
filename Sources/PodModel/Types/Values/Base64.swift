/// Base64 as Go's `encoding/base64.StdEncoding` writes and reads it (the encoding of `[]byte`
/// fields in Kubernetes' JSON: Secret `data`, ConfigMap `binaryData`): padded, and on reading
/// carriage returns and newlines skipped, anything else outside the alphabet an error naming
/// the byte's offset, as Go's `CorruptInputError` does.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    /// Why a text is not base64: Go's wording, "illegal base64 data at input byte N".
    public struct DecodingError: Error, Sendable, Equatable, CustomStringConvertible {
        public var offset: Int
        public var description: String { "illegal base64 data at input byte \(offset)" }
    }

    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var i = 0
        while i + 2 < bytes.count {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2])
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], alphabet[Int(n & 63)]]
            i += 3
        }
        let rest = bytes.count - i
        if rest == 1 {
            let n = UInt32(bytes[i]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], UInt8(ascii: "="), UInt8(ascii: "=")]
        } else if rest == 2 {
            let n = UInt32(bytes[i]) << 16 | UInt32(bytes[i + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)], UInt8(ascii: "=")]
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func value(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): return UInt32(byte - UInt8(ascii: "A"))
        case UInt8(ascii: "a")...UInt8(ascii: "z"): return UInt32(byte - UInt8(ascii: "a") + 26)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0") + 52)
        case UInt8(ascii: "+"): return 62
        case UInt8(ascii: "/"): return 63
        default: return nil
        }
    }

    /// Decodes `text` strictly (padding required), as Go's StdEncoding.DecodeString.
    public static func decode(_ text: String) throws(DecodingError) -> [UInt8] {
        // Go drops \r and \n wherever they are; offsets count the input as given.
        let input = Array(text.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var quantum: [UInt32] = []
        var quantumStart = 0
        var i = 0
        func next() -> Int? {
            while i < input.count, input[i] == UInt8(ascii: "\r") || input[i] == UInt8(ascii: "\n") { i += 1 }
            return i < input.count ? i : nil
        }
        while let at = next() {
            if quantum.isEmpty { quantumStart = at }
            let byte = input[at]
            if byte == UInt8(ascii: "=") {
                // Padding ends the input: "xx==" or "xxx=".
                switch quantum.count {
                case 2:
                    i += 1
                    // Go reports a missing second '=' at the end of the input, a wrong one before it.
                    guard let second = next() else { throw DecodingError(offset: input.count) }
                    guard input[second] == UInt8(ascii: "=") else { throw DecodingError(offset: second - 1) }
                    i += 1
                case 3:
                    i += 1
                default:
                    throw DecodingError(offset: at)
                }
                if let trailing = next() { throw DecodingError(offset: trailing) }
                let n = quantum.enumerated().reduce(UInt32(0)) { $0 | $1.element << (18 - 6 * UInt32($1.offset)) }
                out.append(UInt8(n >> 16 & 0xff))
                if quantum.count == 3 { out.append(UInt8(n >> 8 & 0xff)) }
                return out
            }
            guard let v = value(byte) else { throw DecodingError(offset: at) }
            quantum.append(v)
            i += 1
            if quantum.count == 4 {
                let n = quantum[0] << 18 | quantum[1] << 12 | quantum[2] << 6 | quantum[3]
                out += [UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff)]
                quantum = []
            }
        }
        // Input that ends inside a quantum lacks its padding.
        if !quantum.isEmpty { throw DecodingError(offset: quantumStart) }
        return out
    }
}
