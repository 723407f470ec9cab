/// `spec.schedulingGates[]`: while a pod has any, the scheduler leaves it alone (Pending,
/// PodScheduled False, reason SchedulingGated); the controllers that set them remove them,
/// one by one, by updating the pod, and the pod is placed once none is left.
public struct PodSchedulingGate: JSONConvertible {
    public var name: String

    public init(name: String) { self.name = name }

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
