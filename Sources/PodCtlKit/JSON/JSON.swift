/// A JSON value as podctl reads and writes it: objects keep their key order, and numbers keep
/// their literal text, so an object read from podd prints back exactly as it was sent and an
/// integer in a manifest stays an integer on the wire.
///
/// Accessors are forgiving (a missing key or a value of another kind reads as `.null`, `nil`,
/// or empty), because the printers walk Kubernetes objects in which almost every field is
/// optional.
public enum JSON: Equatable, Sendable {
    case null
    case bool(Bool)
    /// A number as its JSON literal text (`3`, `-1.5`, `1e+20`).
    case number(String)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public static func int(_ value: Int) -> JSON { .number(String(value)) }

    /// The member named `key` of an object, else `.null`.
    public subscript(key: String) -> JSON {
        get {
            if case .object(let object) = self { return object[key] ?? .null }
            return .null
        }
        set {
            if case .object(var object) = self {
                object[key] = newValue
                self = .object(object)
            }
        }
    }

    /// The element at `index` of an array, else `.null`.
    public subscript(index: Int) -> JSON {
        if case .array(let items) = self, items.indices.contains(index) { return items[index] }
        return .null
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The string, or `""` when absent: Go's zero value, which kubectl's printers test against.
    public var string: String { stringValue ?? "" }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var bool: Bool { boolValue ?? false }

    public var intValue: Int? {
        switch self {
        case .number(let text):
            if let value = Int(text) { return value }
            if let value = Double(text), value.isFinite, value == value.rounded(.towardZero),
               abs(value) < 9.2e18 {
                return Int(value)
            }
            return nil
        case .string(let text):
            return Int(text)
        default:
            return nil
        }
    }

    public var int: Int { intValue ?? 0 }

    public var array: [JSON] {
        if case .array(let items) = self { return items }
        return []
    }

    public var objectValue: JSONObject? {
        if case .object(let object) = self { return object }
        return nil
    }

    public var isObject: Bool { objectValue != nil }

    /// The members of an object whose values are strings (labels, annotations, selectors).
    public var stringMap: [(key: String, value: String)] {
        guard let object = objectValue else { return [] }
        return object.members.compactMap { member in
            switch member.value {
            case .string(let value): return (member.key, value)
            case .number(let value): return (member.key, value)
            case .bool(let value): return (member.key, value ? "true" : "false")
            default: return nil
            }
        }
    }

    /// The value with every object's keys sorted, as Go prints a map; used for comparisons and
    /// for the sorted-key output of `-o json` and `-o yaml`, which is what kubectl prints.
    public var sortedKeys: JSON {
        switch self {
        case .array(let items):
            return .array(items.map(\.sortedKeys))
        case .object(let object):
            let members = object.members
                .map { (key: $0.key, value: $0.value.sortedKeys) }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(members))
        default:
            return self
        }
    }
}

/// A JSON object: an ordered list of members with unique keys.
public struct JSONObject: Equatable, Sendable {
    public private(set) var members: [(key: String, value: JSON)]

    public init() { members = [] }

    public init(_ members: [(key: String, value: JSON)]) {
        self.members = []
        for member in members { self[member.key] = member.value }
    }

    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }
    public var keys: [String] { members.map(\.key) }

    /// Reading returns the value; assigning `nil` removes the member, assigning a value
    /// replaces it in place or appends it.
    public subscript(key: String) -> JSON? {
        get { members.first(where: { $0.key == key })?.value }
        set {
            let index = members.firstIndex(where: { $0.key == key })
            switch (index, newValue) {
            case (let index?, let value?): members[index].value = value
            case (let index?, nil): members.remove(at: index)
            case (nil, let value?): members.append((key, value))
            case (nil, nil): break
            }
        }
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.members.count == rhs.members.count
            && zip(lhs.members, rhs.members).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}

extension JSON: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}
