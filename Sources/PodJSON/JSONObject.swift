/// The members of a JSON object, in order, with lookup by key.
///
/// Kubernetes prints an object's fields in the order its Go struct declares them; keeping the
/// order here lets podd print the same, and lets a manifest read back in the order it was
/// written. Keys are unique: setting an existing key replaces its value in place.
/// Two objects are equal when they hold the same members, whatever their order, as JSON
/// defines it.
public struct JSONObject: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    /// The members in order.
    public private(set) var entries: [(key: String, value: JSONValue)] = []
    /// Position of each key in `entries`, so that lookups stay O(1) on large objects
    /// (annotations, labels).
    private var positions: [String: Int] = [:]

    /// An empty object.
    public init() {}

    /// An object with these members in this order; a repeated key keeps its first position
    /// and its last value.
    public init(_ entries: [(String, JSONValue)]) {
        for (key, value) in entries { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The value of `key`; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = positions[key] else { return nil }
            return entries[position].value
        }
        set {
            if let newValue {
                if let position = positions[key] {
                    entries[position].value = newValue
                } else {
                    positions[key] = entries.count
                    entries.append((key: key, value: newValue))
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes `key` and returns its value, if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = positions.removeValue(forKey: key) else { return nil }
        let removed = entries.remove(at: position).value
        // Members after the removed one move up by one.
        for index in position..<entries.count { positions[entries[index].key] = index }
        return removed
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { positions[key] != nil }

    /// The keys in order.
    public var keys: [String] { entries.map(\.key) }

    /// The number of members.
    public var count: Int { entries.count }

    /// Whether there are no members.
    public var isEmpty: Bool { entries.isEmpty }

    public func makeIterator() -> IndexingIterator<[(key: String, value: JSONValue)]> {
        entries.makeIterator()
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.count == rhs.count else { return false }
        for (key, value) in lhs.entries where rhs[key] != value { return false }
        return true
    }
}
