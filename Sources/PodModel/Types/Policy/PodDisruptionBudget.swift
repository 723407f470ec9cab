/// A policy/v1 PodDisruptionBudget: how many of the pods its selector picks must stay
/// available (`minAvailable`) or may be unavailable (`maxUnavailable`) when pods are evicted
/// through the API (`kubectl drain`). Its status is the disruption controller's
/// (DisruptionBudgetStatus.swift): clients cannot write it through the object itself.
public struct PodDisruptionBudget: StoredObject {
    public static let apiVersion = "policy/v1"
    public static let kind = "PodDisruptionBudget"
    public static let resource = "poddisruptionbudgets"

    public struct Spec: Sendable, Equatable {
        public var minAvailable: IntOrString?
        public var maxUnavailable: IntOrString?
        /// nil or empty: the budget picks no pod (policy/v1).
        public var selector: LabelSelectorSpec?
        /// "IfHealthyBudget" (nil means it) or "AlwaysAllow".
        public var unhealthyPodEvictionPolicy: String?

        public init(minAvailable: IntOrString? = nil, maxUnavailable: IntOrString? = nil, selector: LabelSelectorSpec? = nil,
                    unhealthyPodEvictionPolicy: String? = nil) {
            self.minAvailable = minAvailable
            self.maxUnavailable = maxUnavailable
            self.selector = selector
            self.unhealthyPodEvictionPolicy = unhealthyPodEvictionPolicy
        }
    }

    public struct Status: Sendable, Equatable {
        public var observedGeneration: Int64?
        /// Pods an eviction was granted for, by name, with the time of the grant: not counted
        /// healthy until they are gone or two minutes have passed.
        public var disruptedPods: [String: Timestamp] = [:]
        public var disruptionsAllowed: Int32 = 0
        public var currentHealthy: Int32 = 0
        public var desiredHealthy: Int32 = 0
        public var expectedPods: Int32 = 0
        public var conditions: [Condition] = []

        public init() {}
    }

    /// A metav1.Condition (here only `DisruptionAllowed`).
    public struct Condition: Sendable, Equatable {
        public var type: String
        public var status: String
        public var observedGeneration: Int64?
        public var lastTransitionTime: Timestamp
        public var reason: String
        public var message: String

        public init(type: String, status: String, observedGeneration: Int64?, lastTransitionTime: Timestamp, reason: String,
                    message: String = "") {
            self.type = type
            self.status = status
            self.observedGeneration = observedGeneration
            self.lastTransitionTime = lastTransitionTime
            self.reason = reason
            self.message = message
        }
    }

    public static let unhealthyPodEvictionPolicies = ["AlwaysAllow", "IfHealthyBudget"]

    public var metadata: ObjectMeta
    public var spec: Spec
    public var status: Status

    public init(metadata: ObjectMeta = ObjectMeta(), spec: Spec = Spec(), status: Status = Status()) {
        self.metadata = metadata
        self.spec = spec
        self.status = status
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let metadata = Self.readHeader(&reader)
        let spec = reader.decode("spec", as: Spec.self) ?? Spec()
        let status = reader.decode("status", as: Status.self) ?? Status()
        try reader.finish()
        self.init(metadata: metadata, spec: spec, status: status)
    }

    public var json: JSONValue {
        var writer = typeAndMetadataWriter
        writer.set("spec", spec.json)
        writer.set("status", status.json)
        return writer.json
    }

    /// The API server's strategy: a new budget starts at generation 1 with an empty status.
    public static func prepareForCreate(_ object: inout PodDisruptionBudget) {
        object.metadata.generation = 1
        object.status = Status()
    }

    /// An update keeps the controller's status; a change of the spec is a new generation.
    public static func prepareForUpdate(_ object: inout PodDisruptionBudget, old: PodDisruptionBudget) {
        object.status = old.status
        let generation = old.metadata.generation ?? 1
        object.metadata.generation = object.spec == old.spec ? generation : generation + 1
    }

    public static func withStatus(of new: PodDisruptionBudget, on old: PodDisruptionBudget) -> PodDisruptionBudget {
        var object = old
        object.status = new.status
        return object
    }

    public static func validate(_ object: PodDisruptionBudget, old: PodDisruptionBudget?) -> [FieldError] {
        DisruptionBudgetValidation.validate(object)
    }
}

extension PodDisruptionBudget.Condition: JSONConvertible {
    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let type = reader.string("type") ?? ""
        let status = reader.string("status") ?? ""
        let observedGeneration = reader.int64("observedGeneration")
        let time = reader.timestamp("lastTransitionTime") ?? Timestamp(seconds: 0)
        let reason = reader.string("reason") ?? ""
        let message = reader.string("message") ?? ""
        try reader.finish()
        self.init(type: type, status: status, observedGeneration: observedGeneration, lastTransitionTime: time, reason: reason,
                  message: message)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("type", .string(type))
        writer.set("status", .string(status))
        writer.set("observedGeneration", observedGeneration)
        writer.set("lastTransitionTime", .string(lastTransitionTime.rfc3339))
        writer.set("reason", .string(reason))
        writer.set("message", .string(message))
        return writer.json
    }
}

extension PodDisruptionBudget.Spec: JSONConvertible {
    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let minAvailable = reader.intOrString("minAvailable")
        let maxUnavailable = reader.intOrString("maxUnavailable")
        let selector = reader.decode("selector", as: LabelSelectorSpec.self)
        let policy = reader.string("unhealthyPodEvictionPolicy")
        try reader.finish()
        self.init(minAvailable: minAvailable, maxUnavailable: maxUnavailable, selector: selector, unhealthyPodEvictionPolicy: policy)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("minAvailable", minAvailable?.json)
        writer.set("maxUnavailable", maxUnavailable?.json)
        writer.set("selector", selector)
        writer.set("unhealthyPodEvictionPolicy", unhealthyPodEvictionPolicy)
        return writer.json
    }
}

extension PodDisruptionBudget.Status: JSONConvertible {
    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        self.init()
        observedGeneration = reader.int64("observedGeneration")
        disruptionsAllowed = reader.int32("disruptionsAllowed") ?? 0
        currentHealthy = reader.int32("currentHealthy") ?? 0
        desiredHealthy = reader.int32("desiredHealthy") ?? 0
        expectedPods = reader.int32("expectedPods") ?? 0
        if let pods = reader.value("disruptedPods") {
            guard case .object(let members) = pods else {
                throw .decoding([.typeInvalid(path.child("disruptedPods"), pods, "must be an object of times")])
            }
            for (name, time) in members {
                guard let stamp = time.stringValue.flatMap(Timestamp.init(rfc3339:)) else {
                    throw .decoding([.typeInvalid(path.child("disruptedPods").key(name), time, "must be an RFC 3339 time such as \"2006-01-02T15:04:05Z\"")])
                }
                disruptedPods[name] = stamp
            }
        }
        conditions = reader.list("conditions", of: PodDisruptionBudget.Condition.self)
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("observedGeneration", observedGeneration)
        if !disruptedPods.isEmpty {
            writer.set("disruptedPods", .object(JSONObject(disruptedPods.sorted { $0.key < $1.key }
                                                           .map { ($0.key, JSONValue.string($0.value.rfc3339)) })))
        }
        writer.set("disruptionsAllowed", .int(Int64(disruptionsAllowed)))
        writer.set("currentHealthy", .int(Int64(currentHealthy)))
        writer.set("desiredHealthy", .int(Int64(desiredHealthy)))
        writer.set("expectedPods", .int(Int64(expectedPods)))
        writer.set("conditions", list: conditions)
        return writer.json
    }
}
