/// A reference by name to an object in the pod's own namespace, as `spec.imagePullSecrets[]`
/// names Secrets. An entry with an empty name is accepted and ignored, as the API server
/// and kubelet do (https://issue.k8s.io/99454).
public struct LocalObjectReference: JSONConvertible {
    public var name: String

    public init(name: String) {
        self.name = name
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        try reader.finish()
        self.init(name: name)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        return writer.json
    }
}
