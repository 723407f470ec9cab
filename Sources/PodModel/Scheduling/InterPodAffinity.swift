/// A pod the scheduler counts on podd's node when it places another: bound there and not
/// finished (Succeeded and Failed pods are left out, as the scheduler's informer leaves them
/// out), terminating ones included until they are gone.
public struct PlacedPod: Sendable {
    public var namespace: String
    public var labels: [String: String]
    /// Its required anti-affinity terms: they keep the pods they select off its node.
    public var antiAffinity: [PodAffinityTerm]
    /// Being deleted: topology spread does not count it.
    public var terminating: Bool

    public init(_ pod: Pod) {
        namespace = pod.metadata.namespace
        labels = pod.metadata.labels
        antiAffinity = pod.spec.affinity?.podAntiAffinity?.required ?? []
        terminating = pod.metadata.deletionTimestamp != nil
    }

    /// Whether `pod` counts on the node `node` names (see above).
    public static func counts(_ pod: Pod, node: String) -> Bool {
        pod.spec.nodeName == node && pod.status.phase != .succeeded && pod.status.phase != .failed
    }
}

/// The scheduler's InterPodAffinity filter on a one-node cluster. A term's topology domain
/// is the node when the node has the term's topologyKey label; a node without it is in no
/// domain, so no pod there can satisfy an affinity term, nor break an anti-affinity one.
public enum InterPodAffinity {
    /// Which rule keeps a pod off the node, in the order the filter checks them.
    public enum Failure: Sendable, Equatable {
        /// Its required podAffinity: no pod on the node matches every term (and it is not
        /// the first of its kind, one that matches its own terms while no pod does).
        case affinity
        /// Its required podAntiAffinity selects a pod on the node.
        case antiAffinity
        /// A pod on the node has a required anti-affinity term that selects it.
        case existingAntiAffinity

        /// The scheduler's message for a one-node cluster (`kubectl describe`'s FailedScheduling).
        public var message: String {
            switch self {
            case .affinity:
                return NodeScheduling.unschedulable("node(s) didn't match pod affinity rules", preemption: NodeScheduling.preemptionNotHelpful)
            case .antiAffinity:
                return NodeScheduling.unschedulable("node(s) didn't match pod anti-affinity rules", preemption: NodeScheduling.noVictims)
            case .existingAntiAffinity:
                return NodeScheduling.unschedulable("node(s) didn't satisfy existing pods anti-affinity rules", preemption: NodeScheduling.noVictims)
            }
        }
    }

    /// Whether any pod in `placed` could matter to `pod`: it has required terms, or they do.
    public static func hasRequiredTerms(_ pod: Pod) -> Bool {
        !(pod.spec.affinity?.podAffinity?.required.isEmpty ?? true) || !(pod.spec.affinity?.podAntiAffinity?.required.isEmpty ?? true)
    }

    /// What keeps `pod` off `node`, with `placed` the pods already there; nil when nothing.
    public static func failure(_ pod: Pod, node: Node, among placed: [PlacedPod]) -> Failure? {
        let me = Owner(namespace: pod.metadata.namespace, labels: pod.metadata.labels)
        if let terms = pod.spec.affinity?.podAffinity?.required, !terms.isEmpty {
            guard terms.allSatisfy({ node.labels[$0.topologyKey] != nil }) else { return .affinity }
            let someMatch = placed.contains { other in terms.allSatisfy { selects($0, owner: me, namespace: other.namespace, labels: other.labels) } }
            // The first pod of a group that must run together matches its own terms.
            let first = terms.allSatisfy { selects($0, owner: me, namespace: me.namespace, labels: me.labels) }
            if !someMatch && !first { return .affinity }
        }
        for term in pod.spec.affinity?.podAntiAffinity?.required ?? [] where node.labels[term.topologyKey] != nil {
            if placed.contains(where: { selects(term, owner: me, namespace: $0.namespace, labels: $0.labels) }) { return .antiAffinity }
        }
        for other in placed where !other.antiAffinity.isEmpty {
            let owner = Owner(namespace: other.namespace, labels: other.labels)
            for term in other.antiAffinity where node.labels[term.topologyKey] != nil {
                if selects(term, owner: owner, namespace: me.namespace, labels: me.labels) { return .existingAntiAffinity }
            }
        }
        return nil
    }

    /// The pod whose term it is: its namespace is the default one, and its labels give the
    /// values of matchLabelKeys and mismatchLabelKeys.
    struct Owner {
        var namespace: String
        var labels: [String: String]
    }

    /// Whether `owner`'s term selects a pod in `namespace` with `labels`. A namespace's labels
    /// are the one every namespace has, kubernetes.io/metadata.name (podd's namespaces are
    /// implicit and carry no others).
    static func selects(_ term: PodAffinityTerm, owner: Owner, namespace: String, labels: [String: String]) -> Bool {
        guard let selector = term.labelSelector else { return false }
        let inNamespace: Bool
        if term.namespaces.isEmpty && term.namespaceSelector == nil {
            inNamespace = namespace == owner.namespace
        } else {
            inNamespace = term.namespaces.contains(namespace)
                || (term.namespaceSelector?.matches(["kubernetes.io/metadata.name": namespace]) ?? false)
        }
        return inNamespace && selector.matches(labels, owner: owner.labels, matchKeys: term.matchLabelKeys, mismatchKeys: term.mismatchLabelKeys)
    }
}
