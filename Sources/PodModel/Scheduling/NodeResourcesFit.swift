/// The scheduler's NodeResourcesFit filter and kubelet's resource admission on podd's node:
/// what a pod requests (cpu, memory, ephemeral-storage, hugepages) must fit in what the node
/// can allocate less what the pods placed there request. Amounts are in thousandths of a
/// unit (millicores; bytes times 1000), as ResourceAmount keeps them.
public enum NodeResourcesFit {
    /// One resource the pod asks more of than is left.
    public struct Shortfall: Sendable, Equatable {
        public var resource: String
        public var requested: Int64
        public var used: Int64
        public var capacity: Int64

        /// More than the node has at all: removing pods would not help (preemption).
        var unresolvable: Bool { requested > capacity }
    }

    /// The resources the scheduler weighs.
    static func counts(_ resource: String) -> Bool {
        ["cpu", "memory", "ephemeral-storage"].contains(resource) || resource.hasPrefix("hugepages-")
    }

    /// What `spec` requests for scheduling (PodRequests): its containers' requests added up
    /// as Kubernetes adds them, with the pod-level requests over them where set; resources
    /// the scheduler does not weigh, and zero amounts, are left out.
    public static func requests(_ spec: PodSpec) -> [String: Int64] {
        // Most pods request nothing: they cost no more than this look.
        if spec.resources == nil && spec.containers.allSatisfy({ $0.resources.requests.isEmpty })
            && spec.initContainers.allSatisfy({ $0.resources.requests.isEmpty }) { return [:] }
        var result: [String: Int64] = [:]
        for (name, amount) in ContainerResourceTotals.requests(spec) where counts(name) && amount.milli > 0 { result[name] = amount.milli }
        for (name, quantity) in spec.resources?.requests ?? [:] where counts(name) {
            result[name] = ResourceAmount(quantity).milli
        }
        return result.filter { $0.value > 0 }
    }

    /// The shortfalls of `requests` on a node with `allocatable`, `used` by the pods placed
    /// there, in the scheduler's order (cpu, memory, ephemeral-storage, then the others by name).
    public static func shortfalls(_ requests: [String: Int64], used: [String: Int64], allocatable: [String: Int64]) -> [Shortfall] {
        let order = ["cpu", "memory", "ephemeral-storage"]
        let names = requests.keys.sorted { (order.firstIndex(of: $0) ?? order.count, $0) < (order.firstIndex(of: $1) ?? order.count, $1) }
        return names.compactMap { name in
            let want = requests[name] ?? 0
            let have = allocatable[name] ?? 0
            let taken = used[name] ?? 0
            let (sum, overflow) = want.addingReportingOverflow(taken)
            return overflow || sum > have ? Shortfall(resource: name, requested: want, used: taken, capacity: have) : nil
        }
    }

    /// The scheduler's message for shortfalls: `Insufficient cpu`, one reason each, sorted.
    public static func unschedulableMessage(_ shortfalls: [Shortfall]) -> String {
        let reasons = shortfalls.map { "Insufficient \($0.resource)" }.sorted().joined(separator: ", 1 ")
        return NodeScheduling.unschedulable(reasons, preemption: shortfalls.contains(where: \.unresolvable)
                                                ? NodeScheduling.preemptionNotHelpful : NodeScheduling.noVictims)
    }

    /// kubelet's admission rejection for the first shortfall: reason `OutOfcpu`, and its
    /// InsufficientResourceError (cpu in millicores, the others in their units).
    public static func rejection(_ shortfall: Shortfall) -> NodeScheduling.Outcome {
        let scale: Int64 = shortfall.resource == "cpu" ? 1 : 1000
        return .rejected(reason: "OutOf\(shortfall.resource)",
                         message: "Pod was rejected: Node didn't have enough resource: \(shortfall.resource), requested: \(shortfall.requested / scale), "
                             + "used: \(shortfall.used / scale), capacity: \(shortfall.capacity / scale)")
    }
}
