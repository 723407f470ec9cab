/// A Kubernetes API type that reads itself from JSON, strictly, and writes itself back.
///
/// Decoding reports every problem of a document at once, each with its full field path:
/// unknown fields and wrong types as `.decoding` (400), Kubernetes fields podd does not
/// implement and values outside an enumeration as `.invalid` (422). Writing omits unset
/// optional fields the way the API server does, in Kubernetes' field order.
public protocol JSONConvertible: Sendable, Equatable {
    /// Reads the value at `path` (the path names fields in errors).
    init(json: JSONValue, path: FieldPath) throws(ManifestError)
    /// The JSON form, in Kubernetes' field names and order.
    var json: JSONValue { get }
}

extension JSONConvertible {
    /// Reads a value that is the root of its document.
    public init(json: JSONValue) throws(ManifestError) {
        try self.init(json: json, path: .root)
    }
}
