/// A JSON document as a value: what manifests, API bodies and the state files are made of.
///
/// Integers are kept apart from floating-point numbers so that `30` stays `30` through a
/// round trip (Kubernetes' int64 fields), and objects keep their key order (`JSONObject`) so
/// that output reads in the order Kubernetes prints fields.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

// MARK: - Accessors

extension JSONValue {
    /// The member `key` of an object; nil for a missing key or a value that is not an object.
    /// Setting a member of an object adds, replaces or (with nil) removes it; setting one on
    /// a value that is not an object changes nothing.
    public subscript(key: String) -> JSONValue? {
        get {
            guard case .object(let object) = self else { return nil }
            return object[key]
        }
        set {
            guard case .object(var object) = self else { return }
            self = .null  // drop the reference so that `object` is mutated in place
            object[key] = newValue
            self = .object(object)
        }
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }

    /// The string, if this is a string.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The boolean, if this is a boolean.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The integer, if this is an integer or a floating-point number with an integral value
    /// that fits (YAML and some encoders write `30.0` for 30).
    public var intValue: Int64? {
        switch self {
        case .int(let value):
            return value
        case .double(let value):
            // Int64(exactly:) refuses fractions, NaN, infinities and out-of-range values.
            return Int64(exactly: value)
        default:
            return nil
        }
    }

    /// The number as a Double, if this is a number.
    public var doubleValue: Double? {
        switch self {
        case .int(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
    }

    /// The elements, if this is an array.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, if this is an object.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// Whether this is the zero value of its type: null, false, 0, "", [] or {}. Kubernetes
    /// treats a field holding its zero value as unset.
    public var isZero: Bool {
        switch self {
        case .null: return true
        case .bool(let value): return !value
        case .int(let value): return value == 0
        case .double(let value): return value == 0
        case .string(let value): return value.isEmpty
        case .array(let value): return value.isEmpty
        case .object(let value): return value.isEmpty
        }
    }

    /// The JSON type's name, for error messages ("string", "number", ...).
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}

// MARK: - Size

extension JSONValue {
    /// The length of the compact JSON text, counted without writing it (strings as if no
    /// character needed escaping), and not past `limit`: the walk stops once the count
    /// reaches it, so that measuring a value that is too large costs no more than the limit.
    public func compactSize(upTo limit: Int = .max) -> Int {
        var size = 0
        var pending: [JSONValue] = [self]
        while let value = pending.popLast(), size < limit {
            switch value {
            case .null: size += 4
            case .bool(let b): size += b ? 4 : 5
            case .int(let i): size += String(i).utf8.count
            case .double(let d): size += d.description.utf8.count
            case .string(let s): size += s.utf8.count + 2
            case .array(let a):
                size += 2 + max(a.count - 1, 0)
                pending.append(contentsOf: a)
            case .object(let o):
                size += 2 + max(o.count - 1, 0)
                for (key, member) in o {
                    size += key.utf8.count + 3
                    pending.append(member)
                }
            }
        }
        return min(size, limit)
    }
}

// MARK: - Literals (for tests and for building API bodies by hand)

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(nilLiteral: ()) { self = .null }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// Keys keep the order they are written in.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The compact JSON text.
    public var description: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}
