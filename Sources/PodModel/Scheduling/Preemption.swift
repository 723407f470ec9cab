/// The scheduler's DefaultPreemption on podd's one node, for a pod its filters refuse for a
/// reason pods going could remove (the node's resources, the pod's own anti-affinity, another
/// pod's anti-affinity, a spread constraint's skew): which pods of lower priority to evict so
/// that it fits. All of them are taken out (when even that does not make it fit, preemption
/// does not help), then each is put back while the pod still fits, those whose eviction would
/// break a PodDisruptionBudget first, then the others, each group the most important first
/// (higher priority, then the one running longer): those that cannot be put back are the
/// victims, as SelectVictimsOnNode picks them. A budget is best effort here, as in
/// Kubernetes: it is broken when nothing else makes room.
public enum Preemption {
    /// A pod on the node, as preemption weighs it.
    public struct Candidate: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var priority: Int32
        public var startTime: Timestamp?
        /// What it requests (NodeResourcesFit.requests), in thousandths.
        public var requests: [String: Int64]
        public var labels: [String: String]

        public init(namespace: String, name: String, priority: Int32, startTime: Timestamp?, requests: [String: Int64],
                    labels: [String: String] = [:]) {
            self.namespace = namespace
            self.name = name
            self.priority = priority
            self.startTime = startTime
            self.requests = requests
            self.labels = labels
        }
    }

    /// The victims whose going lets `requests` fit on a node of `allocatable` among `placed`
    /// (the other pods on it, none of them terminating), weighing the node's resources alone;
    /// nil when even all pods of a priority below `priority` going would not make room.
    /// `budgets`: the PodDisruptionBudgets, with the disruptions their status allows.
    public static func victims(for requests: [String: Int64], priority: Int32, allocatable: [String: Int64],
                               placed: [Candidate], budgets: [PodDisruptionBudget] = []) -> [Candidate]? {
        var higher: [String: Int64] = [:]
        for pod in placed where pod.priority >= priority { add(pod.requests, to: &higher) }
        return victims(priority: priority, placed: placed, budgets: budgets) { kept in
            var used = higher
            for pod in kept { add(pod.requests, to: &used) }
            return NodeResourcesFit.shortfalls(requests, used: used, allocatable: allocatable).isEmpty
        }
    }

    /// The victims among `placed` (the other pods on the node, none of them terminating) of
    /// priority below `priority`, where `fits(kept)` says whether the pod passes every filter
    /// when, of those pods, only `kept` stay; nil when it does not pass with none of them.
    public static func victims(priority: Int32, placed: [Candidate], budgets: [PodDisruptionBudget] = [],
                               fits: ([Candidate]) -> Bool) -> [Candidate]? {
        let lower = placed.filter { $0.priority < priority }
        guard !lower.isEmpty, fits([]) else { return nil }
        let importantFirst = lower.sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            return (a.startTime ?? .earliest, a.namespace, a.name) < (b.startTime ?? .earliest, b.namespace, b.name)
        }
        // filterPodsWithPDBViolation: a pod whose eviction takes a budget below zero, counting
        // the more important pods first.
        var allowed = Dictionary(budgets.map { ($0.key, $0.status.disruptionsAllowed) }, uniquingKeysWith: { a, _ in a })
        var violating: [Candidate] = []
        var others: [Candidate] = []
        for pod in importantFirst {
            var violates = false
            for budget in budgets where budget.metadata.namespace == pod.namespace && DisruptionBudgets.covers(budget, labels: pod.labels) {
                allowed[budget.key, default: 0] -= 1
                if (allowed[budget.key] ?? 0) < 0 { violates = true }
            }
            if violates { violating.append(pod) } else { others.append(pod) }
        }
        var kept: [Candidate] = []
        var victims: [Candidate] = []
        for pod in violating + others {
            if fits(kept + [pod]) { kept.append(pod) } else { victims.append(pod) }
        }
        return victims
    }

    private static func add(_ requests: [String: Int64], to total: inout [String: Int64]) {
        for (name, amount) in requests { total[name, default: 0] &+= amount }
    }

    /// The condition the scheduler sets on a pod it preempts, and the event it records.
    public static let disruptionTarget = PodCondition(type: "DisruptionTarget", status: "True", reason: "PreemptionByScheduler",
                                                      message: "default-scheduler: preempting to accommodate a higher priority pod")

    public static func preemptedMessage(by uid: String, node: String) -> String { "Preempted by pod \(uid) on node \(node)" }
}
