/// Kubernetes' metav1.ObjectMeta, the fields podd uses.
///
/// Server-set fields (uid, resourceVersion, creationTimestamp, ...) are read and kept, so that
/// `podctl get pod x -o yaml | podctl apply -f -` round-trips. `managedFields` and `selfLink`
/// are accepted and dropped (podd does not track field managers); `generateName`,
/// `ownerReferences` and `finalizers` are refused as not supported.
public struct ObjectMeta: JSONConvertible {
    public var name: String
    /// Defaults to "default" when the manifest leaves it out.
    public var namespace: String
    public var uid: String?
    public var resourceVersion: String?
    public var generation: Int64?
    public var creationTimestamp: Timestamp?
    public var deletionTimestamp: Timestamp?
    public var deletionGracePeriodSeconds: Int64?
    public var labels: [String: String]
    public var annotations: [String: String]

    /// The namespace a manifest without one lands in.
    public static let defaultNamespace = "default"

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        name: String = "",
        namespace: String = ObjectMeta.defaultNamespace,
        uid: String? = nil,
        resourceVersion: String? = nil,
        generation: Int64? = nil,
        creationTimestamp: Timestamp? = nil,
        deletionTimestamp: Timestamp? = nil,
        deletionGracePeriodSeconds: Int64? = nil,
        labels: [String: String] = [:],
        annotations: [String: String] = [:]
    ) {
        self.name = name
        self.namespace = namespace
        self.uid = uid
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.creationTimestamp = creationTimestamp
        self.deletionTimestamp = deletionTimestamp
        self.deletionGracePeriodSeconds = deletionGracePeriodSeconds
        self.labels = labels
        self.annotations = annotations
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let namespace = reader.string("namespace") ?? ""
        let uid = reader.string("uid")
        let resourceVersion = reader.string("resourceVersion")
        let generation = reader.int64("generation")
        let creationTimestamp = reader.timestamp("creationTimestamp")
        let deletionTimestamp = reader.timestamp("deletionTimestamp")
        let deletionGracePeriodSeconds = reader.int64("deletionGracePeriodSeconds")
        let labels = reader.stringMap("labels")
        let annotations = reader.stringMap("annotations")
        reader.ignore(["managedFields", "selfLink"])
        reader.reject(["generateName", "ownerReferences", "finalizers"])
        try reader.finish()
        self.init(
            name: name,
            namespace: namespace.isEmpty ? Self.defaultNamespace : namespace,
            uid: uid,
            resourceVersion: resourceVersion,
            generation: generation,
            creationTimestamp: creationTimestamp,
            deletionTimestamp: deletionTimestamp,
            deletionGracePeriodSeconds: deletionGracePeriodSeconds,
            labels: labels,
            annotations: annotations
        )
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        writer.set("namespace", nonEmpty: namespace)
        writer.set("uid", nonEmpty: uid)
        writer.set("resourceVersion", nonEmpty: resourceVersion)
        writer.set("generation", generation)
        writer.set("creationTimestamp", creationTimestamp)
        writer.set("deletionTimestamp", deletionTimestamp)
        writer.set("deletionGracePeriodSeconds", deletionGracePeriodSeconds)
        writer.set("labels", map: labels)
        writer.set("annotations", map: annotations)
        return writer.json
    }
}
