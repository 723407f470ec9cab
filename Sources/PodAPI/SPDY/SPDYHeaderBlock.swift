/// A header block's uncompressed form (SPDY/3 section 2.6.10): the number of pairs, then each
/// name and value with its 32-bit length before it, all big-endian.
enum SPDYHeaderBlock {
    struct Malformed: Error, Sendable, CustomStringConvertible {
        var reason: String
        var description: String { "malformed SPDY header block: \(reason)" }
    }

    static func encode(_ headers: SPDYHeaders) -> [UInt8] {
        var out: [UInt8] = []
        append(UInt32(headers.fields.count), to: &out)
        for field in headers.fields {
            append(UInt32(field.name.utf8.count), to: &out)
            out += field.name.utf8
            append(UInt32(field.value.utf8.count), to: &out)
            out += field.value.utf8
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) throws(Malformed) -> SPDYHeaders {
        var at = 0
        func word() throws(Malformed) -> Int {
            guard at + 4 <= bytes.count else { throw Malformed(reason: "cut short at byte \(at)") }
            defer { at += 4 }
            return Int(bytes[at]) << 24 | Int(bytes[at + 1]) << 16 | Int(bytes[at + 2]) << 8 | Int(bytes[at + 3])
        }
        func string(_ n: Int) throws(Malformed) -> String {
            guard n <= bytes.count - at else { throw Malformed(reason: "a length of \(n) runs past the block") }
            defer { at += n }
            return String(decoding: bytes[at..<at + n], as: UTF8.self)
        }
        let count = try word()
        guard count <= bytes.count / 8 else { throw Malformed(reason: "\(count) pairs cannot fit in \(bytes.count) bytes") }
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(count)
        for _ in 0..<count {
            let name = try string(try word())
            guard !name.isEmpty else { throw Malformed(reason: "an empty header name") }
            let value = try string(try word())
            fields.append((name, value))
        }
        return SPDYHeaders(fields)
    }

    private static func append(_ v: UInt32, to out: inout [UInt8]) {
        out += [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)]
    }
}
