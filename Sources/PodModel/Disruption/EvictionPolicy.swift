/// Whether an eviction (`POST pods/NAME/eviction`) may delete a pod, decided as the API
/// server's eviction subresource decides it, against the budgets that cover the pod (their
/// status fresh from DisruptionBudgets.status).
public enum EvictionPolicy {
    public enum Verdict: Sendable, Equatable {
        /// Delete the pod as the eviction's DeleteOptions ask: no budget guards it.
        case delete
        /// Delete the pod unless it changed since it was read (a resourceVersion
        /// precondition): it does not count as healthy, so no budget is spent, but it could
        /// become ready meanwhile. `budget`: the budget that let an unready pod go (a change
        /// then is 429, try again); nil for a pending pod (decided again at once).
        case deleteUnchanged(budget: String?)
        /// Spend one disruption of the budget named (record the pod in its disruptedPods),
        /// then delete the pod.
        case spend(budget: String)
        /// Refused: the eviction's answer.
        case refuse(Refusal)
    }

    public struct Refusal: Sendable, Equatable {
        public var code: Int
        public var reason: String
        public var message: String
        /// `details.causes`: (type, message).
        public var causes: [Cause]
        public var retryAfterSeconds: Int?

        public struct Cause: Sendable, Equatable {
            public var type: String
            public var message: String
        }
    }

    /// The most grants a budget may hold that its controller has not yet seen go
    /// (MaxDisruptedPodSize).
    public static let maxDisruptedPods = 2000

    /// `budgets`: those of the pod's namespace that cover it.
    public static func verdict(pod: DisruptionBudgets.PodView, budgets: [PodDisruptionBudget]) -> Verdict {
        // A pod that is not running, or already going, has disrupted nothing by now.
        if pod.phase == .succeeded || pod.phase == .failed || pod.terminating { return .delete }
        if pod.phase == .pending { return .deleteUnchanged(budget: nil) }
        if budgets.count > 1 {
            return .refuse(Refusal(code: 500, reason: "", message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.",
                                   causes: [], retryAfterSeconds: nil))
        }
        guard let budget = budgets.first else { return .delete }
        let status = budget.status
        if !pod.ready {
            // An unready pod is not counted healthy: evicting it spends nothing, if the
            // budget says so or is met anyway.
            if budget.spec.unhealthyPodEvictionPolicy == "AlwaysAllow" { return .deleteUnchanged(budget: budget.metadata.name) }
            if status.currentHealthy >= status.desiredHealthy, status.desiredHealthy > 0 { return .deleteUnchanged(budget: budget.metadata.name) }
        }
        if (status.observedGeneration ?? 0) < (budget.metadata.generation ?? 0) {
            return .refuse(tooManyRequests(cause: "The disruption budget \(budget.metadata.name) is still being processed by the server.",
                                           retryAfter: 10))
        }
        if status.disruptionsAllowed < 0 {
            return .refuse(forbidden(budget.metadata.name, "pdb disruptions allowed is negative"))
        }
        if status.disruptedPods.count > maxDisruptedPods {
            return .refuse(forbidden(budget.metadata.name, "DisruptedPods map too big - too many evictions not confirmed by PDB controller"))
        }
        if status.disruptionsAllowed == 0 {
            return .refuse(tooManyRequests(cause: "The disruption budget \(budget.metadata.name) needs \(status.desiredHealthy) healthy pods and has \(status.currentHealthy) currently",
                                           retryAfter: nil))
        }
        return .spend(budget: budget.metadata.name)
    }

    /// The 429 every refusal by a budget gives; kubectl drain retries it every 5 s.
    public static func tooManyRequests(cause: String, retryAfter: Int?) -> Refusal {
        Refusal(code: 429, reason: "TooManyRequests", message: "Cannot evict pod as it would violate the pod's disruption budget.",
                causes: [.init(type: "DisruptionBudget", message: cause)], retryAfterSeconds: retryAfter)
    }

    static func forbidden(_ name: String, _ why: String) -> Refusal {
        Refusal(code: 403, reason: "Forbidden", message: "poddisruptionbudgets.policy \"\(name)\" is forbidden: \(why)", causes: [],
                retryAfterSeconds: nil)
    }

    /// The condition the API server sets on a pod it evicts, before deleting it.
    public static let disruptionTarget = PodCondition(type: "DisruptionTarget", status: "True", reason: "EvictionByEvictionAPI",
                                                      message: "Eviction API: evicting")
}
