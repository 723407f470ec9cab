/// `spec.readinessGates[]`: a pod condition, set by a controller through the pod's status
/// (`PATCH .../pods/NAME/status`), that must be True as well as the containers' readiness
/// for the pod to be Ready (PodStatusBuilder, as kubelet's generatePodReadyCondition).
public struct PodReadinessGate: JSONConvertible {
    public var conditionType: String

    public init(conditionType: String) { self.conditionType = conditionType }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let type = reader.string("conditionType") ?? ""
        try reader.finish()
        self.init(conditionType: type)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("conditionType", .string(conditionType))
        return writer.json
    }
}
