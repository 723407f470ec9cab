/// A message of the monitor protocol (docs/monitor-protocol.md): NUL-terminated `key=value`
/// fields, the first being `op=...`. Keys may repeat; order is kept.
public struct ControlMessage: Sendable, Equatable, CustomStringConvertible {
    public var fields: [(key: String, value: String)]

    public init(op: String) { fields = [("op", op)] }

    public static func == (a: ControlMessage, b: ControlMessage) -> Bool {
        a.fields.elementsEqual(b.fields) { $0.key == $1.key && $0.value == $1.value }
    }

    public var op: String { fields.first?.value ?? "" }

    public subscript(key: String) -> String? { fields.first { $0.key == key }?.value }

    public func all(_ key: String) -> [String] { fields.filter { $0.key == key }.map(\.value) }

    public mutating func append(_ key: String, _ value: String) { fields.append((key, value)) }

    public func int(_ key: String) -> Int64? { self[key].flatMap { Int64($0) } }

    /// Wire form. Values must not contain NUL; a NUL is cut there (it cannot come from a
    /// validated manifest, whose strings are JSON and checked).
    public var bytes: [UInt8] {
        var out: [UInt8] = []
        for (k, v) in fields {
            out.append(contentsOf: k.utf8)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: v.utf8.prefix { $0 != 0 })
            out.append(0)
        }
        return out
    }

    public init?(bytes: some Collection<UInt8>) {
        var result: [(String, String)] = []
        for field in bytes.split(separator: 0, omittingEmptySubsequences: true) {
            guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else { return nil }
            result.append((String(decoding: field[field.startIndex..<eq], as: UTF8.self),
                           String(decoding: field[field.index(after: eq)...], as: UTF8.self)))
        }
        guard let first = result.first, first.0 == "op" else { return nil }
        fields = result
    }

    public var description: String { fields.map { "\($0.key)=\($0.value)" }.joined(separator: " ") }
}
