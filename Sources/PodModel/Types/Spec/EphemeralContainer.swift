/// A debug container added to a running pod: the container fields plus `targetContainerName`.
///
/// The container fields are reachable directly (`ephemeral.name`, `ephemeral.image`)
/// through dynamic member lookup, as Kubernetes inlines EphemeralContainerCommon. Fields an
/// ephemeral container may not have (ports, probes, lifecycle, restartPolicy) are kept by
/// decoding so that validation can refuse them with Kubernetes' messages.
@dynamicMemberLookup
public struct EphemeralContainer: JSONConvertible {
    /// The container fields.
    public var common: Container
    /// The app container whose PID namespace this one joins.
    public var targetContainerName: String?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(_ common: Container, targetContainerName: String? = nil) {
        self.common = common
        self.targetContainerName = targetContainerName
    }

    public subscript<Value>(dynamicMember keyPath: WritableKeyPath<Container, Value>) -> Value {
        get { common[keyPath: keyPath] }
        set { common[keyPath: keyPath] = newValue }
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let common = Container.read(&reader)
        let target = reader.string("targetContainerName")
        try reader.finish()
        self.init(common, targetContainerName: target)
    }

    public var json: JSONValue {
        var writer = common.writer()
        writer.set("targetContainerName", nonEmpty: targetContainerName)
        return writer.json
    }
}
