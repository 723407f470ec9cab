/// The API server's Priority admission: the PriorityClass a pod names (or, naming none, the
/// class marked globalDefault) gives it spec.priority and spec.preemptionPolicy; a name
/// without a class is refused, as are a priority or preemption policy written by hand that
/// differ from the class's. A pod of system-node-critical is the last the OOM killer takes
/// (OOMScoreAdjust), as kubelet treats node-critical pods.
public enum PodPriority {
    /// `spec` with its priority and preemption policy set from its class, or the API server's
    /// refusal (403). `classes` finds a class by name (the built-in ones included);
    /// `globalDefault` is the class marked so, if one is.
    public static func admitted(_ spec: PodSpec, classes: (String) -> PriorityClass?, globalDefault: PriorityClass?) -> Result<PodSpec, Refusal> {
        var spec = spec
        let priorityClass: PriorityClass?
        if let name = spec.priorityClassName {
            guard let named = classes(name) else { return .failure(Refusal(message: "no PriorityClass with name \(name) was found")) }
            priorityClass = named
        } else {
            priorityClass = globalDefault
        }
        let computed = priorityClass?.value ?? 0
        let policy = priorityClass?.preemptionPolicy ?? "PreemptLowerPriority"
        if let given = spec.priority, given != computed {
            return .failure(Refusal(message: "the integer value of priority (\(given)) must not be provided in pod spec; "
                                        + "priority admission controller computed \(computed) from the given PriorityClass name"))
        }
        if let given = spec.preemptionPolicy, given != policy {
            return .failure(Refusal(message: "the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; "
                                        + "priority admission controller computed \(policy) from the given PriorityClass name"))
        }
        if let priorityClass {
            spec.priorityClassName = priorityClass.metadata.name
            spec.priority = computed
            spec.preemptionPolicy = policy
        }
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
