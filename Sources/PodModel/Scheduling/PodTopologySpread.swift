/// The scheduler's PodTopologySpread filter on a one-node cluster: for each DoNotSchedule
/// constraint, the node must have the topology label, and the skew the pod would make,
/// pods of the domain that match plus itself less the least matched domain, must stay
/// within maxSkew. With one domain the least matched is the node itself, so the skew is at
/// most 1 and always allowed, unless `minDomains` asks for more domains than there are:
/// the missing ones count as empty, and the node takes no more than maxSkew matching pods.
public enum PodTopologySpread {
    public enum Failure: Sendable, Equatable {
        /// The node has no label for the constraint's topologyKey.
        case missingLabel
        /// Placing the pod would make the skew exceed maxSkew.
        case skew

        public var message: String {
            switch self {
            case .missingLabel:
                return NodeScheduling.unschedulable("node(s) didn't match pod topology spread constraints (missing required label)",
                                                    preemption: NodeScheduling.preemptionNotHelpful)
            case .skew:
                return NodeScheduling.unschedulable("node(s) didn't match pod topology spread constraints", preemption: NodeScheduling.noVictims)
            }
        }
    }

    /// Whether the pod has a constraint that filters (DoNotSchedule).
    public static func hasHardConstraints(_ pod: Pod) -> Bool { pod.spec.topologySpreadConstraints.contains(where: \.isHard) }

    /// What keeps `pod` off `node`, with `placed` the pods already there; nil when nothing.
    public static func failure(_ pod: Pod, node: Node, among placed: [PlacedPod]) -> Failure? {
        let hard = pod.spec.topologySpreadConstraints.filter(\.isHard)
        guard !hard.isEmpty else { return nil }
        if hard.contains(where: { node.labels[$0.topologyKey] == nil }) { return .missingLabel }
        for constraint in hard {
            let selects = { (labels: [String: String]) in selected(labels, by: constraint, owner: pod.metadata.labels) }
            // Terminating pods are not counted (kubernetes#87621); only the pod's namespace is.
            let matching = placed.filter { $0.namespace == pod.metadata.namespace && !$0.terminating && selects($0.labels) }.count
            let selfMatch = selects(pod.metadata.labels) ? 1 : 0
            let leastMatched = (constraint.minDomains ?? 1) > 1 ? 0 : matching
            if matching + selfMatch - leastMatched > Int(constraint.maxSkew) { return .skew }
        }
        return nil
    }

    /// The constraint's labelSelector (nil selects nothing), with the pod's own values of
    /// matchLabelKeys added as the API server adds them.
    static func selected(_ labels: [String: String], by constraint: TopologySpreadConstraint, owner: [String: String]) -> Bool {
        constraint.labelSelector?.matches(labels, owner: owner, matchKeys: constraint.matchLabelKeys) ?? false
    }
}
