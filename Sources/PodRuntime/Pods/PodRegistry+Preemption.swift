import PodModel

/// The scheduler's preemption on podd's node: a waiting pod that only lacks resources, whose
/// preemptionPolicy allows it, has pods of lower priority deleted (Preemption picks the
/// fewest, least important ones, sparing those a PodDisruptionBudget protects where it can)
/// and is nominated to the node; once they are gone, the
/// retry of waiting pods places it. While victims of a preemption are still terminating, no
/// further pod is preempted for it. Static pods are never victims.
extension PodRegistry {
    enum PreemptionPlan: Equatable {
        /// Preempting would not help, or may not (preemptionPolicy Never).
        case none
        /// A pod of lower priority on the node is terminating (a preemption's victim, likely):
        /// the pod waits for it rather than take more.
        case waitForTerminating
        case evict([Preemption.Candidate])
    }

    /// What preemption would do for `pod`, waiting for resources.
    func preemptionPlan(for pod: Pod) -> PreemptionPlan {
        guard pod.spec.nodeName == nil, pod.metadata.deletionTimestamp == nil,
              (pod.spec.preemptionPolicy ?? "PreemptLowerPriority") != "Never", let allocatable = node.allocatable else { return .none }
        let requests = NodeResourcesFit.requests(pod.spec)
        // Every filter but the node's resources must pass: removing pods can only help those.
        guard !requests.isEmpty,
              NodeScheduling.outcome(pod, on: node, among: placedPods(for: pod), requested: [:]) == .scheduled else { return .none }
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        let priority = pod.spec.priority ?? 0
        var candidates: [Preemption.Candidate] = []
        for (other, placed) in snapshots where other != key && PlacedPod.counts(placed, node: node.name) {
            // Static pods are the manifests directory's, as kubelet's are its own: never victims.
            let otherPriority = placed.metadata.annotations[Self.sourceAnnotation] != nil ? Int32.max : placed.spec.priority ?? 0
            if placed.metadata.deletionTimestamp != nil && otherPriority < priority { return .waitForTerminating }
            candidates.append(Preemption.Candidate(namespace: other.namespace, name: other.name, priority: otherPriority,
                                                   startTime: placed.status.startTime ?? placed.metadata.creationTimestamp,
                                                   requests: podRequests[other] ?? [:], labels: placed.metadata.labels))
        }
        guard let victims = Preemption.victims(for: requests, priority: priority, allocatable: allocatable, placed: candidates,
                                               budgets: ctx.scheduling.budgets),
              !victims.isEmpty else { return .none }
        return .evict(victims)
    }

    /// Preempts for the waiting pod `key` when that would make room.
    func preemptIfHelpful(_ key: Key) async {
        guard let pod = snapshots[key], let controller = controllers[key], case .unschedulable = schedulingOutcome(pod),
              case let .evict(victims) = preemptionPlan(for: pod) else { return }
        await controller.nominate(node.name)
        let message = Preemption.preemptedMessage(by: pod.metadata.uid ?? "", node: node.name)
        for victim in victims {
            let victimKey = Key(victim.namespace, victim.name)
            await disrupt(victimKey, uid: snapshots[victimKey]?.metadata.uid, condition: Preemption.disruptionTarget,
                          eventReason: "Preempted", eventMessage: message)
        }
    }
}
