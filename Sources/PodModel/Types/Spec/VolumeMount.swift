/// A pod volume mounted into a container. subPath, subPathExpr, mountPropagation and
/// recursiveReadOnly are refused as not supported.
public struct VolumeMount: JSONConvertible {
    /// The name of a volume in `spec.volumes`.
    public var name: String
    /// Where in the container; podd requires an absolute path.
    public var mountPath: String
    public var readOnly: Bool

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, mountPath: String, readOnly: Bool = false) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let readOnly = reader.bool("readOnly") ?? false
        let mountPath = reader.string("mountPath") ?? ""
        // "Disabled" and "None" are the values that change nothing.
        reader.reject(["subPath", "subPathExpr", "mountPropagation", "recursiveReadOnly"],
                      unlessEqual: ["recursiveReadOnly": "Disabled", "mountPropagation": "None"])
        try reader.finish()
        self.init(name: name, mountPath: mountPath, readOnly: readOnly)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("readOnly", ifTrue: readOnly)
        writer.set("mountPath", .string(mountPath))
        return writer.json
    }
}
