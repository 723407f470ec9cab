// The printers walk Kubernetes objects in which almost every field is optional. These
// accessors read a missing field, or one of another type, as Go's zero value ("", 0, false,
// []), which is what the API server's printers test against, so that
// `pod["status"]["phase"].string` reads as the field's path. (podctl has the same accessors
// for its own printers; these stay internal to PodModel.)

extension Optional where Wrapped == JSONValue {
    subscript(key: String) -> JSONValue? { self?[key] }
    subscript(index: Int) -> JSONValue? { self?[index] }
    var string: String { self?.printedString ?? "" }
    var int: Int { self?.printedInt ?? 0 }
    var bool: Bool { self?.boolValue ?? false }
    var array: [JSONValue] { self?.arrayValue ?? [] }
    var isObject: Bool { self?.objectValue != nil }
    var isNull: Bool { self?.isNull ?? true }
}

extension JSONValue {
    var printedString: String { stringValue ?? "" }
    /// The integer, also from a string of digits (some fields are IntOrString).
    var printedInt: Int {
        if let number = intValue { return Int(exactly: number) ?? 0 }
        if case .string(let text) = self { return Int(text) ?? 0 }
        return 0
    }
}
