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
        if let refusal = handWritten(spec, priority: computed, policy: policy) { return .failure(refusal) }
        if let priorityClass {
            spec.priorityClassName = priorityClass.metadata.name
            spec.priority = computed
            spec.preemptionPolicy = policy
        }
        return .success(spec)
    }

    /// A replacement of a pod admitted with `old`: the admission runs on creates only, so one
    /// naming the same class (or none) keeps what the pod was given, whatever became of the
    /// class since, and may not write another priority; one naming another class is admitted
    /// as a new pod would be (nil: the caller runs `admitted`).
    public static func replaced(_ spec: PodSpec, old: PodSpec) -> Result<PodSpec, Refusal>? {
        guard spec.priorityClassName == nil || spec.priorityClassName == old.priorityClassName else { return nil }
        if let refusal = handWritten(spec, priority: old.priority ?? 0, policy: old.preemptionPolicy ?? "PreemptLowerPriority") {
            return .failure(refusal)
        }
        var kept = spec
        kept.priorityClassName = old.priorityClassName
        kept.priority = old.priority
        kept.preemptionPolicy = old.preemptionPolicy
        return .success(kept)
    }

    /// The refusal of a priority or preemption policy written in the spec other than the ones
    /// the class gives.
    static func handWritten(_ spec: PodSpec, priority: Int32, policy: String) -> Refusal? {
        if let given = spec.priority, given != priority {
            return Refusal(message: "the integer value of priority (\(given)) must not be provided in pod spec; "
                               + "priority admission controller computed \(priority) from the given PriorityClass name")
        }
        if let given = spec.preemptionPolicy, given != policy {
            return Refusal(message: "the string value of PreemptionPolicy (\(given)) must not be provided in pod spec; "
                               + "priority admission controller computed \(policy) from the given PriorityClass name")
        }
        return nil
    }

    public struct Refusal: Error, Sendable, Equatable {
        public var message: String
    }

    /// kubelet's IsNodeCriticalPod, for a pod that is not a static one.
    public static func isNodeCritical(_ spec: PodSpec) -> Bool {
        spec.priorityClassName == "system-node-critical" && (spec.priority ?? 0) >= 2_000_000_000
    }
}
