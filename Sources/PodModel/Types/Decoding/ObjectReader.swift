/// Problems found while decoding one document, split by how the API answers them.
struct DecodingProblems: Sendable {
    /// Unknown fields and wrong types: 400 BadRequest.
    var malformed: [FieldError] = []
    /// Unsupported fields and values outside an enumeration: 422 Invalid.
    var invalid: [FieldError] = []

    var isEmpty: Bool { malformed.isEmpty && invalid.isEmpty }

    mutating func absorb(_ error: ManifestError) {
        switch error.kind {
        case .decoding: malformed += error.causes
        case .invalid: invalid += error.causes
        }
    }

    /// The error to throw: malformed input first, as the API server refuses to decode before
    /// it validates.
    var error: ManifestError {
        malformed.isEmpty ? .invalid(invalid, objectName: "") : .decoding(malformed)
    }
}

/// Reads the members of one JSON object field by field, collecting every problem instead of
/// stopping at the first, and remembering which members were read so that `finish()` can
/// report the ones nobody asked for as unknown fields.
///
/// A member that is null counts as absent, as in Go's decoder.
struct ObjectReader {
    let path: FieldPath
    let object: JSONObject
    private var seen: Set<String> = []
    private(set) var problems = DecodingProblems()

    /// A reader over `value`, which must be an object.
    init(_ value: JSONValue, path: FieldPath) throws(ManifestError) {
        guard case .object(let object) = value else {
            throw .decoding([.typeInvalid(path, value, "must be an object, not \(Self.article(value.typeName))")])
        }
        self.path = path
        self.object = object
    }

    // MARK: Recording problems

    /// Records a malformed-input problem (400).
    mutating func malformed(_ error: FieldError) { problems.malformed.append(error) }

    /// Records a validation-style problem found while decoding (422).
    mutating func invalid(_ error: FieldError) { problems.invalid.append(error) }

    /// Records whatever a nested decode threw.
    mutating func absorb(_ error: ManifestError) { problems.absorb(error) }

    /// Throws everything collected, plus the members nobody read (unknown fields).
    func finish() throws(ManifestError) {
        var problems = self.problems
        for key in object.keys where !seen.contains(key) {
            problems.malformed.append(.unknownField(path.child(key)))
        }
        if !problems.isEmpty { throw problems.error }
    }

    // MARK: Raw access

    /// The member `key`, nil when absent or null; marks it read.
    mutating func value(_ key: String) -> JSONValue? {
        seen.insert(key)
        guard let value = object[key], !value.isNull else { return nil }
        return value
    }

    /// Whether `key` is present and not null (does not mark it read).
    func has(_ key: String) -> Bool {
        guard let value = object[key] else { return false }
        return !value.isNull
    }

    /// Marks members as read and drops them: server-owned fields podd accepts so that
    /// `get -o yaml | apply -f -` works, but does not keep (managedFields, selfLink).
    mutating func ignore(_ keys: [String]) {
        for key in keys { seen.insert(key) }
    }

    /// Kubernetes fields podd does not implement. Each one set is refused with its path
    /// (never silently ignored), unless it holds its zero value or the default the API server
    /// would fill in (`terminationMessagePath: /dev/termination-log` from `kubectl get -o yaml`),
    /// which mean the same as leaving it out.
    mutating func reject(_ keys: [String], unlessEqual defaults: [String: JSONValue] = [:]) {
        for key in keys {
            guard let value = value(key), !value.isZero, defaults[key] != value else { continue }
            invalid(.notSupportedByPodd(path.child(key)))
        }
    }

    // MARK: Scalars

    mutating func string(_ key: String) -> String? {
        guard let value = value(key) else { return nil }
        return expectString(value, at: path.child(key))
    }

    mutating func bool(_ key: String) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else {
            malformed(.typeInvalid(path.child(key), value, "must be a boolean"))
            return nil
        }
        return flag
    }

    mutating func int64(_ key: String) -> Int64? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue else {
            malformed(.typeInvalid(path.child(key), value, "must be an integer"))
            return nil
        }
        return number
    }

    mutating func int32(_ key: String) -> Int32? {
        guard let value = value(key) else { return nil }
        guard let number = value.intValue.flatMap({ Int32(exactly: $0) }) else {
            malformed(.typeInvalid(path.child(key), value, value.intValue == nil ? "must be an integer" : "must fit in a 32-bit integer"))
            return nil
        }
        return number
    }

    mutating func timestamp(_ key: String) -> Timestamp? {
        guard let value = value(key), let text = expectString(value, at: path.child(key)) else { return nil }
        guard let time = Timestamp(rfc3339: text) else {
            malformed(.typeInvalid(path.child(key), value, "must be an RFC 3339 time such as \"2006-01-02T15:04:05Z\""))
            return nil
        }
        return time
    }

    /// A quantity, written as a string ("64Mi") or a bare number (1000), as Kubernetes accepts.
    mutating func quantity(_ key: String) -> Quantity? {
        guard let value = value(key) else { return nil }
        let text: String
        switch value {
        case .string(let string): text = string
        case .int(let number): text = String(number)
        case .double(let number): text = JSONSerializer.format(number)
        default:
            malformed(.typeInvalid(path.child(key), value, "must be a quantity such as \"64Mi\""))
            return nil
        }
        do {
            return try Quantity(parsing: text)
        } catch {
            malformed(.typeInvalid(path.child(key), value, error.reason))
            return nil
        }
    }

    mutating func intOrString(_ key: String) -> IntOrString? {
        guard let value = value(key) else { return nil }
        switch value {
        case .string(let text):
            return .string(text)
        case .int, .double:
            if let number = value.intValue.flatMap({ Int32(exactly: $0) }) { return .int(number) }
            malformed(.typeInvalid(path.child(key), value, "must be a 32-bit integer or a string"))
            return nil
        default:
            malformed(.typeInvalid(path.child(key), value, "must be an integer or a string"))
            return nil
        }
    }

    /// A string that must be one of an enumeration's raw values; another string is reported
    /// as Kubernetes' "Unsupported value" listing the supported ones, in `order`.
    mutating func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type, order: [E]? = nil) -> E?
    where E.RawValue == String {
        guard let value = value(key), let text = expectString(value, at: path.child(key)) else { return nil }
        if let parsed = E(rawValue: text) { return parsed }
        invalid(.notSupported(path.child(key), value, supported: (order ?? Array(E.allCases)).map(\.rawValue)))
        return nil
    }

    // MARK: Collections

    /// A list of strings; absent is empty.
    mutating func strings(_ key: String) -> [String] {
        guard let value = value(key) else { return [] }
        guard case .array(let elements) = value else {
            malformed(.typeInvalid(path.child(key), value, "must be an array of strings"))
            return []
        }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            if let text = expectString(element, at: path.child(key).index(index)) { result.append(text) }
        }
        return result
    }

    /// A map of strings (labels, annotations); absent is empty. A null value reads as "",
    /// as Go does.
    mutating func stringMap(_ key: String) -> [String: String] {
        guard let value = value(key) else { return [:] }
        guard case .object(let members) = value else {
            malformed(.typeInvalid(path.child(key), value, "must be an object of strings"))
            return [:]
        }
        var result: [String: String] = [:]
        for (name, member) in members {
            if member.isNull {
                result[name] = ""
            } else if let text = expectString(member, at: path.child(key).key(name)) {
                result[name] = text
            }
        }
        return result
    }

    /// A nested object.
    mutating func decode<T: JSONConvertible>(_ key: String, as type: T.Type) -> T? {
        guard let value = value(key) else { return nil }
        do {
            return try T(json: value, path: path.child(key))
        } catch {
            absorb(error)
            return nil
        }
    }

    /// A list of objects; absent is empty. Elements that fail are left out after their
    /// problems are recorded.
    mutating func list<T: JSONConvertible>(_ key: String, of type: T.Type) -> [T] {
        guard let value = value(key) else { return [] }
        guard case .array(let elements) = value else {
            malformed(.typeInvalid(path.child(key), value, "must be an array"))
            return []
        }
        var result: [T] = []
        for (index, element) in elements.enumerated() {
            do {
                result.append(try T(json: element, path: path.child(key).index(index)))
            } catch {
                absorb(error)
            }
        }
        return result
    }

    // MARK: Helpers

    private mutating func expectString(_ value: JSONValue, at field: FieldPath) -> String? {
        guard case .string(let text) = value else {
            malformed(.typeInvalid(field, value, "must be a string"))
            return nil
        }
        return text
    }

    static func article(_ typeName: String) -> String {
        ["array", "object"].contains(typeName) ? "an \(typeName)" : "a \(typeName)"
    }
}

/// Builds a JSON object in Kubernetes' field order, leaving out unset fields as the API
/// server's encoder does (`omitempty`).
struct ObjectWriter {
    private(set) var object = JSONObject()

    /// Always written.
    mutating func set(_ key: String, _ value: JSONValue) { object[key] = value }

    /// Written when present.
    mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { object[key] = value }
    }

    /// Written when present and not empty.
    mutating func set(_ key: String, nonEmpty value: String?) {
        if let value, !value.isEmpty { object[key] = .string(value) }
    }

    /// Written when present.
    mutating func set(_ key: String, _ value: String?) {
        if let value { object[key] = .string(value) }
    }

    mutating func set(_ key: String, _ value: Int64?) {
        if let value { object[key] = .int(value) }
    }

    mutating func set(_ key: String, _ value: Int32?) {
        if let value { object[key] = .int(Int64(value)) }
    }

    mutating func set(_ key: String, _ value: Bool?) {
        if let value { object[key] = .bool(value) }
    }

    mutating func set(_ key: String, _ value: Timestamp?) {
        if let value { object[key] = .string(value.rfc3339) }
    }

    /// Written when true (Go's omitempty on a bool).
    mutating func set(_ key: String, ifTrue value: Bool) {
        if value { object[key] = .bool(true) }
    }

    /// Written when not empty.
    mutating func set(_ key: String, strings: [String]) {
        if !strings.isEmpty { object[key] = .array(strings.map(JSONValue.string)) }
    }

    /// Written when not empty, keys sorted as Go encodes maps.
    mutating func set(_ key: String, map: [String: String]) {
        guard !map.isEmpty else { return }
        object[key] = .object(JSONObject(map.keys.sorted().map { ($0, .string(map[$0] ?? "")) }))
    }

    mutating func set<T: JSONConvertible>(_ key: String, _ value: T?) {
        if let value { object[key] = value.json }
    }

    /// Written when not empty.
    mutating func set<T: JSONConvertible>(_ key: String, list: [T]) {
        if !list.isEmpty { object[key] = .array(list.map(\.json)) }
    }

    var json: JSONValue { .object(object) }
}
