/// The scheduler's DefaultPreemption on podd's one node, for a pod the node cannot fit for
/// lack of resources (NodeResourcesFit): which pods of lower priority to evict so that it
/// fits. All of them are taken out, then each is put back, the most important first (higher
/// priority, then the one running longer), while the pod still fits: those that cannot be put
/// back are the victims, as SelectVictimsOnNode picks them.
public enum Preemption {
    /// A pod on the node, as preemption weighs it.
    public struct Candidate: Sendable, Equatable {
        public var namespace: String
        public var name: String
        public var priority: Int32
        public var startTime: Timestamp?
        /// What it requests (NodeResourcesFit.requests), in thousandths.
        public var requests: [String: Int64]

        public init(namespace: String, name: String, priority: Int32, startTime: Timestamp?, requests: [String: Int64]) {
            self.namespace = namespace
            self.name = name
            self.priority = priority
            self.startTime = startTime
            self.requests = requests
        }
    }

    /// The victims whose going lets `requests` fit on a node of `allocatable` among `placed`
    /// (the other pods on it, none of them terminating); nil when even all pods of a priority
    /// below `priority` going would not make room.
    public static func victims(for requests: [String: Int64], priority: Int32, allocatable: [String: Int64],
                               placed: [Candidate]) -> [Candidate]? {
        let lower = placed.filter { $0.priority < priority }
        var used: [String: Int64] = [:]
        for pod in placed where pod.priority >= priority { add(pod.requests, to: &used) }
        guard NodeResourcesFit.shortfalls(requests, used: used, allocatable: allocatable).isEmpty, !lower.isEmpty else { return nil }
        let importantFirst = lower.sorted { a, b in
            if a.priority != b.priority { return a.priority > b.priority }
            return (a.startTime ?? .earliest, a.namespace, a.name) < (b.startTime ?? .earliest, b.namespace, b.name)
        }
        var victims: [Candidate] = []
        for pod in importantFirst {
            var with = used
            add(pod.requests, to: &with)
            if NodeResourcesFit.shortfalls(requests, used: with, allocatable: allocatable).isEmpty {
                used = with
            } else {
                victims.append(pod)
            }
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
