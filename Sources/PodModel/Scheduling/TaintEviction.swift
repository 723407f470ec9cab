/// What Kubernetes' taint eviction controller does with a pod on a node with NoExecute
/// taints: keep it (no such taint, or it tolerates them all for ever), evict it at once (one
/// it does not tolerate, or a toleration of zero seconds or less), or evict it once the
/// shortest of its tolerations' seconds has passed. Pure: PodRegistry+TaintEviction acts.
public enum TaintEviction {
    public enum Verdict: Sendable, Equatable {
        case keep
        case evictNow
        /// Evict after this many seconds from when the verdict is first reached.
        case evictAfter(seconds: Int64)
    }

    public static func verdict(_ tolerations: [Toleration], taints: [Taint]) -> Verdict {
        let noExecute = taints.filter { $0.effect == "NoExecute" }
        guard !noExecute.isEmpty else { return .keep }
        var shortest: Int64?
        for taint in noExecute {
            let matching = tolerations.filter { $0.tolerates(key: taint.key, value: taint.value, effect: taint.effect) }
            if matching.isEmpty { return .evictNow }
            // A toleration without seconds tolerates for ever; the taint's shortest bound wins
            // (getMinTolerationTime over the tolerations used).
            for toleration in matching {
                guard let seconds = toleration.tolerationSeconds else { continue }
                if seconds <= 0 { return .evictNow }
                shortest = min(shortest ?? seconds, seconds)
            }
        }
        return shortest.map { .evictAfter(seconds: $0) } ?? .keep
    }

    /// The condition the controller sets on a pod it deletes, and its event's reason.
    public static let disruptionTarget = PodCondition(type: "DisruptionTarget", status: "True", reason: "DeletionByTaintManager",
                                                      message: "Taint manager: deleting due to NoExecute taint")
    public static let eventReason = "TaintManagerEviction"
}
