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
    /// Position of each key in `entries`, kept once the object has more than
    /// `indexedFrom` members, so that lookups stay O(1) on large objects (annotations,
    /// labels). Smaller objects, nearly all of a pod, are searched in order: comparing a
    /// few short keys costs less than hashing every key of every object built or parsed.
    private var positions: [String: Int]?
    static let indexedFrom = 16

    /// An empty object.
    public init() {}

    /// An object with these members in this order; a repeated key keeps its first position
    /// and its last value.
    public init(_ entries: [(String, JSONValue)]) {
        self.entries.reserveCapacity(entries.count)
        for (key, value) in entries { self[key] = value }
    }

    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    private func position(of key: String) -> Int? {
        if let positions { return positions[key] }
        return entries.firstIndex { $0.key == key }
    }

    /// The value of `key`; setting nil removes the member.
    public subscript(key: String) -> JSONValue? {
        get {
            guard let position = position(of: key) else { return nil }
            return entries[position].value
        }
        set {
            if let newValue {
                if let position = position(of: key) {
                    entries[position].value = newValue
                } else {
                    positions?[key] = entries.count
                    entries.append((key: key, value: newValue))
                    if positions == nil && entries.count > Self.indexedFrom {
                        var index: [String: Int] = [:]
                        index.reserveCapacity(entries.count * 2)
                        for (i, entry) in entries.enumerated() { index[entry.key] = i }
                        positions = index
                    }
                }
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Removes `key` and returns its value, if it was present.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let position = position(of: key) else { return nil }
        let removed = entries.remove(at: position).value
        if positions != nil {
            positions?[key] = nil
            // Members after the removed one move up by one.
            for index in position..<entries.count { positions?[entries[index].key] = index }
        }
        return removed
    }

    /// Whether `key` is present.
    public func contains(_ key: String) -> Bool { position(of: key) != nil }

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
