/// Kubernetes' metav1.ObjectMeta, the fields podd uses.
///
/// Server-set fields (uid, resourceVersion, creationTimestamp, ...) are read and kept, so that
/// `podctl get pod x -o yaml | podctl apply -f -` round-trips. `managedFields` and `selfLink`
/// are accepted and dropped (podd does not track field managers); `ownerReferences` are
/// refused as not supported. `finalizers` hold a deleted object (a pod once its containers
/// have stopped) until they are all removed. `generateName` is kept, and a create without a
/// name takes it plus five random characters (`generatedName()`), as the API server does.
public struct ObjectMeta: JSONConvertible {
    public var name: String
    /// The prefix of the name a create without one makes (`web-` → `web-x7k2q`).
    public var generateName: String?
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
    /// What must be done before a deleted object goes, each removed by whoever did it.
    public var finalizers: [String] = []

    /// The namespace a manifest without one lands in.
    public static let defaultNamespace = "default"

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        name: String = "",
        generateName: String? = nil,
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
        self.generateName = generateName
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
        let generateName = reader.string("generateName")
        let namespace = reader.string("namespace") ?? ""
        let uid = reader.string("uid")
        let resourceVersion = reader.string("resourceVersion")
        let generation = reader.int64("generation")
        let creationTimestamp = reader.timestamp("creationTimestamp")
        let deletionTimestamp = reader.timestamp("deletionTimestamp")
        let deletionGracePeriodSeconds = reader.int64("deletionGracePeriodSeconds")
        let labels = reader.stringMap("labels")
        let annotations = reader.stringMap("annotations")
        let finalizers = reader.strings("finalizers")
        reader.ignore(["managedFields", "selfLink"])
        reader.reject(["ownerReferences"])
        try reader.finish()
        self.init(
            name: name,
            generateName: generateName?.isEmpty == true ? nil : generateName,
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
        self.finalizers = finalizers
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        writer.set("generateName", nonEmpty: generateName)
        writer.set("namespace", nonEmpty: namespace)
        writer.set("uid", nonEmpty: uid)
        writer.set("resourceVersion", nonEmpty: resourceVersion)
        writer.set("generation", generation)
        writer.set("creationTimestamp", creationTimestamp)
        writer.set("deletionTimestamp", deletionTimestamp)
        writer.set("deletionGracePeriodSeconds", deletionGracePeriodSeconds)
        writer.set("labels", map: labels)
        writer.set("annotations", map: annotations)
        writer.set("finalizers", strings: finalizers)
        return writer.json
    }
}

// MARK: - Finalizers

extension ObjectMeta {
    /// The garbage collector's finalizers: it removes them once an object's dependents are
    /// orphaned or deleted, at once when there are none, as podd's objects never have.
    public static let collectorFinalizers: Set<String> = ["orphan", "foregroundDeletion"]
    /// The finalizer names that need no domain (metadata.finalizers: also `kubernetes`).
    static let standardFinalizers: Set<String> = ["kubernetes", "orphan", "foregroundDeletion"]

    /// Whether a finalizer still holds the object once it is deleted.
    public var holdsDeletion: Bool { finalizers.contains { !Self.collectorFinalizers.contains($0) } }

    /// The object marked for deletion at `now` as the API server marks one its finalizers
    /// hold (grace 0), the collector's finalizers done.
    public func markedForDeletion(at now: Timestamp) -> ObjectMeta {
        var marked = self
        if marked.deletionTimestamp == nil {
            marked.deletionTimestamp = now
            marked.deletionGracePeriodSeconds = 0
        }
        marked.finishCollectorFinalizers()
        return marked
    }

    /// Removes the garbage collector's finalizers, done at once for an object being deleted.
    public mutating func finishCollectorFinalizers() {
        finalizers.removeAll { Self.collectorFinalizers.contains($0) }
    }
}

// MARK: - Generated names

extension ObjectMeta {
    /// The characters the API server draws a generated name's suffix from (no vowels, so
    /// that no word is spelled by chance; no 0, 1, 3: they read as letters).
    static let generatedSuffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")
    /// The longest prefix kept: the name stays a 63-character label with its five characters.
    static let maximumGeneratedPrefixLength = DNS1123.labelMaxLength - 5

    /// A name for a create that has none: `generateName` (cut to 58 characters) and five
    /// random characters; nil without a `generateName`.
    public func generatedName() -> String? {
        guard let generateName, !generateName.isEmpty else { return nil }
        let prefix = generateName.utf8.count > Self.maximumGeneratedPrefixLength
            ? String(decoding: generateName.utf8.prefix(Self.maximumGeneratedPrefixLength), as: UTF8.self) : generateName
        return prefix + String((0..<5).map { _ in Self.generatedSuffixAlphabet.randomElement()! })
    }
}
