/// A scheduling.k8s.io/v1 PriorityClass (cluster-scoped): the priority a pod naming it in
/// `spec.priorityClassName` is given by the Priority admission (PodPriority), and whether such
/// pods may preempt others. One class may be the `globalDefault`, given to pods that name
/// none. The two system classes are built in.
public struct PriorityClass: StoredObject {
    public static let apiVersion = "scheduling.k8s.io/v1"
    public static let kind = "PriorityClass"
    public static let resource = "priorityclasses"
    public static var namespaced: Bool { false }

    public var metadata: ObjectMeta
    public var value: Int32
    public var globalDefault: Bool?
    public var description: String?
    /// "PreemptLowerPriority" (the default) or "Never".
    public var preemptionPolicy: String?

    /// The most a class of a user may give (HighestUserDefinablePriority).
    public static let highestUserDefinable: Int32 = 1_000_000_000
    public static let preemptionPolicies = ["Never", "PreemptLowerPriority"]

    public init(metadata: ObjectMeta, value: Int32, globalDefault: Bool? = nil, description: String? = nil,
                preemptionPolicy: String? = nil) {
        self.metadata = metadata
        self.value = value
        self.globalDefault = globalDefault
        self.description = description
        self.preemptionPolicy = preemptionPolicy
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let metadata = Self.readHeader(&reader)
        let value = reader.int32("value")
        let globalDefault = reader.bool("globalDefault")
        let description = reader.string("description")
        let preemptionPolicy = reader.string("preemptionPolicy")
        try reader.finish()
        self.init(metadata: metadata, value: value ?? 0, globalDefault: globalDefault, description: description,
                  preemptionPolicy: preemptionPolicy)
    }

    public var json: JSONValue {
        var writer = typeAndMetadataWriter
        writer.set("value", .int(Int64(value)))
        writer.set("globalDefault", globalDefault)
        writer.set("description", description)
        writer.set("preemptionPolicy", preemptionPolicy)
        return writer.json
    }

    /// The API server's strategy: preemptionPolicy defaults to PreemptLowerPriority.
    public static func prepareForCreate(_ object: inout PriorityClass) {
        object.metadata.generation = 1
        if object.preemptionPolicy == nil { object.preemptionPolicy = "PreemptLowerPriority" }
    }

    public static func prepareForUpdate(_ object: inout PriorityClass, old: PriorityClass) {
        if object.preemptionPolicy == nil { object.preemptionPolicy = "PreemptLowerPriority" }
        object.metadata.generation = old.metadata.generation
    }

    /// system-node-critical and system-cluster-critical, as the API server creates them.
    public static var builtIns: [PriorityClass] {
        let classes: [(String, Int32, String)] = [("system-node-critical", 2_000_001_000, "Used for system critical pods that must not be moved from their current node."),
         ("system-cluster-critical", 2_000_000_000, "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.")]
        return classes.map { name, value, description in
                var meta = ObjectMeta(name: name, namespace: "")
                meta.creationTimestamp = Timestamp(seconds: 0)
                meta.generation = 1
                return PriorityClass(metadata: meta, value: value, globalDefault: false, description: description,
                                     preemptionPolicy: "PreemptLowerPriority")
            }
    }

    /// The Priority admission plugin: one class at most is the global default.
    public static func admissionRefusal(_ object: PriorityClass, among others: [PriorityClass]) -> String? {
        guard object.globalDefault == true,
              let other = others.first(where: { $0.globalDefault == true && $0.metadata.name != object.metadata.name }) else { return nil }
        return "PriorityClass \(other.metadata.name) is already marked as default. Only one default can exist"
    }

    /// ValidatePriorityClass and ValidatePriorityClassUpdate.
    public static func validate(_ object: PriorityClass, old: PriorityClass?) -> [FieldError] {
        var errors = PodValidation.validateMetadata(object.metadata, namespaced: false)
        if old == nil, object.metadata.name.hasPrefix("system-") {
            errors.append(.forbidden(FieldPath("metadata").child("name"), "priority class names with 'system-' prefix are reserved"))
        }
        if object.value > highestUserDefinable {
            errors.append(.forbidden(FieldPath("value"), "maximum allowed value of a user defined priority is \(highestUserDefinable)"))
        }
        if let policy = object.preemptionPolicy, !preemptionPolicies.contains(policy) {
            errors.append(.notSupported(FieldPath("preemptionPolicy"), .string(policy), supported: preemptionPolicies))
        }
        if let old {
            if object.value != old.value { errors.append(.forbidden(FieldPath("value"), "may not be changed in an update.")) }
            if object.preemptionPolicy != old.preemptionPolicy {
                errors.append(.invalid(FieldPath("preemptionPolicy"), .string(object.preemptionPolicy ?? ""), "field is immutable"))
            }
        }
        return errors
    }
}
