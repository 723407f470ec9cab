/// A pod volume mounted into a container. mountPropagation and recursiveReadOnly are refused
/// as not supported.
public struct VolumeMount: JSONConvertible {
    /// The name of a volume in `spec.volumes`.
    public var name: String
    /// Where in the container; podd requires an absolute path.
    public var mountPath: String
    public var readOnly: Bool
    /// A path inside the volume to mount instead of its root.
    public var subPath: String?
    /// subPath with $(VAR) expanded from the container's environment.
    public var subPathExpr: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, mountPath: String, readOnly: Bool = false, subPath: String? = nil, subPathExpr: String? = nil) {
        self.name = name
        self.mountPath = mountPath
        self.readOnly = readOnly
        self.subPath = subPath
        self.subPathExpr = subPathExpr
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let readOnly = reader.bool("readOnly") ?? false
        let mountPath = reader.string("mountPath") ?? ""
        let subPath = reader.string("subPath")
        let subPathExpr = reader.string("subPathExpr")
        // "Disabled" and "None" are the values that change nothing.
        reader.reject(["mountPropagation", "recursiveReadOnly"],
                      unlessEqual: ["recursiveReadOnly": "Disabled", "mountPropagation": "None"])
        try reader.finish()
        self.init(name: name, mountPath: mountPath, readOnly: readOnly, subPath: subPath, subPathExpr: subPathExpr)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("readOnly", ifTrue: readOnly)
        writer.set("mountPath", .string(mountPath))
        writer.set("subPath", nonEmpty: subPath)
        writer.set("subPathExpr", nonEmpty: subPathExpr)
        return writer.json
    }
}
