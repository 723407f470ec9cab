/// A core/v1 Pod.
public struct Pod: JSONConvertible {
    /// The API version this object is served under.
    public static let apiVersion = "v1"
    /// The kind written in the object.
    public static let kind = "Pod"

    public var metadata: ObjectMeta
    public var spec: PodSpec
    public var status: PodStatus

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(metadata: ObjectMeta = ObjectMeta(), spec: PodSpec = PodSpec(), status: PodStatus = PodStatus()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    /// Reads a pod, status included (as a client reads the API's answers). apiVersion and
    /// kind are read but not checked here; `PodManifest.decodePod` checks them and drops the
    /// status, as the API server does on create.
    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        _ = reader.string("apiVersion")
        _ = reader.string("kind")
        let metadata = reader.decode("metadata", as: ObjectMeta.self) ?? ObjectMeta()
        let spec = reader.decode("spec", as: PodSpec.self) ?? PodSpec()
        let status = reader.decode("status", as: PodStatus.self) ?? PodStatus()
        try reader.finish()
        self.init(metadata: metadata, spec: spec, status: status)
    }

    /// The pod as the API server writes it: kind and apiVersion first, then metadata, spec
    /// and status (always with its phase).
    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("kind", .string(Self.kind))
        writer.set("apiVersion", .string(Self.apiVersion))
        writer.set("metadata", metadata.json)
        writer.set("spec", spec.json)
        writer.set("status", status.json)
        return writer.json
    }

    /// "namespace/name", the key podd stores and logs the pod under.
    public var key: String { "\(metadata.namespace)/\(metadata.name)" }

    /// The value of the `podd.io/restart-scope` annotation, `pod` when unset.
    public var restartScope: String {
        metadata.annotations[PodAnnotations.restartScope] ?? PodAnnotations.restartScopePod
    }
}

/// podd's own annotations, under podd.io/ so manifests stay valid for Kubernetes.
public enum PodAnnotations {
    /// `pod` (the default: a failed container restarts the whole pod) or `container`
    /// (kubelet's per-container restarts).
    public static let restartScope = "podd.io/restart-scope"
    public static let restartScopePod = "pod"
    public static let restartScopeContainer = "container"
}
