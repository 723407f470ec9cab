/// Reading ConfigMaps, Secrets and PodDisruptionBudgets from manifests and request bodies, as
/// the API server does: apiVersion and kind checked, the namespace defaulted, base64 that does
/// not decode refused with Go's message (400), then validation (422).
public enum ObjectManifest {
    /// Decodes an object of kind `T` (no validation). A manifest without a namespace lands
    /// in `defaultNamespace`.
    public static func decode<T: StoredObject>(_ json: JSONValue, as type: T.Type,
                                                    defaultNamespace: String = ObjectMeta.defaultNamespace) throws(ManifestError) -> T {
        let kind = T.kind
        guard case .object(let object) = json else {
            throw ManifestError(kind: .decoding, causes: [], objectKind: kind,
                                message: "Object is not a \(kind): expected a JSON object, got \(ObjectReader.article(json.typeName))")
        }
        let name = object["metadata"]?["name"]?.stringValue ?? ""
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        let objectKind = object["kind"]?.stringValue ?? ""
        if objectKind.isEmpty {
            throw ManifestError(kind: .decoding, causes: [.required("kind")], objectKind: kind,
                                message: "Object 'Kind' is missing in the \(kind) manifest")
        }
        if objectKind != kind {
            throw ManifestError(kind: .decoding, causes: [.invalid("kind", .string(objectKind), "must be \(kind)")], objectKind: kind,
                                message: "the kind in the data (\(objectKind)) does not match the expected kind (\(kind))")
        }
        if apiVersion != T.apiVersion {
            throw ManifestError(kind: .decoding, causes: [.invalid("apiVersion", .string(apiVersion), "must be \(T.apiVersion)")], objectKind: kind,
                                message: apiVersion.isEmpty ? "Object 'apiVersion' is missing in the \(kind) manifest"
                                    : "the API version in the data (\(apiVersion)) does not match the expected API version (\(T.apiVersion))")
        }
        do {
            var value = try T(json: json, path: .root)
            if !T.namespaced {
                // A cluster-scoped object has no namespace, whatever the body says.
                value.metadata.namespace = ""
            } else if (object["metadata"]?["namespace"]?.stringValue ?? "").isEmpty {
                value.metadata.namespace = defaultNamespace
            }
            return value
        } catch {
            var named = error
            named.objectKind = kind
            named.objectName = name
            // Bytes that are not base64 are refused by the API server's JSON decoding, before
            // anything else, with Go's error alone.
            if let bad = error.causes.first(where: { $0.detail.hasPrefix("illegal base64 data") }) {
                named = ManifestError(kind: .decoding, causes: [bad], objectKind: kind, objectName: name,
                                      message: "\(kind) in version \"v1\" cannot be handled as a \(kind): \(bad.detail)")
            }
            throw named
        }
    }

    /// Decodes and validates an object to be created (`old` nil) or to replace `old`.
    public static func decodeValid<T: StoredObject>(_ json: JSONValue, as type: T.Type, old: T? = nil,
                                                         defaultNamespace: String = ObjectMeta.defaultNamespace) throws(ManifestError) -> T {
        let value = try decode(json, as: type, defaultNamespace: defaultNamespace)
        let errors = T.validate(value, old: old)
        guard errors.isEmpty else { throw .invalid(errors, objectKind: T.kind, objectName: value.metadata.name) }
        return value
    }
}
