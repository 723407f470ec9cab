import PodModel

// The printers walk Kubernetes objects in which almost every field is optional. These
// accessors read a missing field, or one of another type, as Go's zero value ("", 0, false,
// []), which is what kubectl's printers test against, so that `pod["status"]["phase"].string`
// reads as the field's path.

extension Optional where Wrapped == JSONValue {
    /// The member `key` of an object; nil when absent or not an object. Setting it sets the
    /// member of an object present here (`pod["metadata"]["namespace"] = ...`).
    subscript(key: String) -> JSONValue? {
        get { self?[key] }
        set { self?[key] = newValue }
    }

    /// The element at `index` of an array; nil when out of range or not an array.
    subscript(index: Int) -> JSONValue? { self?[index] }

    /// The string, if the field holds one.
    var stringValue: String? { self?.stringValue }
    /// The string, else "".
    var string: String { self?.string ?? "" }
    /// The integer, else 0.
    var int: Int { self?.int ?? 0 }
    /// The boolean, else false.
    var bool: Bool { self?.bool ?? false }
    /// The elements, else none.
    var array: [JSONValue] { self?.array ?? [] }
    /// Whether the field is present and an object.
    var isObject: Bool { self?.isObject ?? false }
    /// Whether the field is absent or null.
    var isNull: Bool { self?.isNull ?? true }
    /// The members, if this is an object.
    var objectValue: JSONObject? { self?.objectValue }
    /// The integer, if the field holds one (or a string of one).
    var lenientInt: Int? { self?.lenientInt }
    /// See `JSONValue.stringMap`.
    var stringMap: [(key: String, value: String)] { self?.stringMap ?? [] }
    /// See `JSONValue.intOrString`.
    var intOrString: String? { self?.intOrString }
}

extension JSONValue {
    /// The string, else "".
    var string: String { stringValue ?? "" }
    /// The integer (or a string holding one), else 0.
    var int: Int { lenientInt ?? 0 }
    /// The boolean, else false.
    var bool: Bool { boolValue ?? false }
    /// The elements, else none.
    var array: [JSONValue] { arrayValue ?? [] }
    /// Whether this is an object.
    var isObject: Bool { objectValue != nil }

    /// The integer, also from a string of digits (some fields are IntOrString).
    var lenientInt: Int? {
        if let number = intValue { return Int(exactly: number) }
        if case .string(let text) = self { return Int(text) }
        return nil
    }

    /// An IntOrString field as Go prints one (`8080`, `50%`, `http`); nil when it is neither.
    var intOrString: String? { stringValue ?? intValue.map { String($0) } }

    /// The members of an object whose values are scalars, as text (labels, annotations,
    /// selectors).
    var stringMap: [(key: String, value: String)] {
        guard let object = objectValue else { return [] }
        return object.compactMap { member in
            switch member.value {
            case .string(let value): return (member.key, value)
            case .int, .double: return (member.key, member.value.description)
            case .bool(let value): return (member.key, value ? "true" : "false")
            default: return nil
            }
        }
    }

    /// This value with every object's keys sorted by their UTF-8 bytes, as Go prints a map:
    /// kubectl's `-o json` and `-o yaml` print objects so.
    var sortedKeys: JSONValue {
        switch self {
        case .array(let items):
            return .array(items.map(\.sortedKeys))
        case .object(let object):
            let members = object.entries
                .map { (key: $0.key, value: $0.value.sortedKeys) }
                .sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            return .object(JSONObject(members.map { ($0.key, $0.value) }))
        default:
            return self
        }
    }

    /// Indented JSON as kubectl's `-o json` prints it, with a final newline.
    var kubectlJSONText: String { serializedString(layout: .kubectl) + "\n" }

    /// Block YAML as kubectl's `-o yaml` prints it (see `JSONValue.yamlText`).
    func kubectlYAMLText() throws(PodctlError) -> String {
        do {
            return try yamlText()
        } catch {
            throw PodctlError("cannot print the object as YAML: \(error)")
        }
    }

    /// The compact JSON bytes of a request body.
    var compactBytes: [UInt8] { serialized() }
}
