/// The API server's Priority admission on a podd without PriorityClass objects: the two
/// classes every cluster has (system-node-critical, system-cluster-critical) give a pod its
/// spec.priority; any other name is refused as a missing class is, and a priority written
/// by hand must be the one the class gives. A pod of system-node-critical is the last the
/// OOM killer takes (OOMScoreAdjust), as kubelet treats node-critical pods.
public enum PodPriority {
    /// The built-in classes and their values (scheduling.SystemNodeCritical and
    /// SystemClusterCritical).
    public static let systemClasses: [String: Int32] = ["system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000]

    /// `spec` with its priority set from its class, or the API server's refusal (403).
    public static func admitted(_ spec: PodSpec) -> Result<PodSpec, Refusal> {
        var spec = spec
        var computed: Int32?
        if let name = spec.priorityClassName {
            guard let value = systemClasses[name] else { return .failure(Refusal(message: "no PriorityClass with name \(name) was found")) }
            computed = value
        }
        if let given = spec.priority, given != (computed ?? 0) {
            return .failure(Refusal(message: "the integer value of priority (\(given)) must not be provided in pod spec; "
                                        + "priority admission controller computed \(computed ?? 0) from the given PriorityClass name"))
        }
        if let computed { spec.priority = computed }
        return .success(spec)
    }

    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// kubelet's IsNodeCriticalPod, for a pod that is not a static one.
    public static func isNodeCritical(_ spec: PodSpec) -> Bool {
        spec.priorityClassName == "system-node-critical" && (spec.priority ?? 0) >= 2_000_000_000
    }
}
