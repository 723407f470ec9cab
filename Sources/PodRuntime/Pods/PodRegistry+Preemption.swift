import PodModel

/// The scheduler's preemption on podd's node: a waiting pod whose preemptionPolicy allows it,
/// kept out by what pods of lower priority hold (resources) or are (the anti-affinity or
/// spread constraints they meet), has some of them deleted (Preemption picks the fewest,
/// least important ones that make it fit, sparing those a PodDisruptionBudget protects where
/// it can) and is nominated to the node; once they are gone, the retry of waiting pods places
/// it. While victims of a preemption are still terminating, no further pod is preempted for
/// it. Static pods are never victims.
extension PodRegistry {
    enum PreemptionPlan: Equatable {
        /// Preempting would not help, or may not (preemptionPolicy Never).
        case none
        /// A pod of lower priority on the node is terminating (a preemption's victim, likely):
        /// the pod waits for it rather than take more.
        case waitForTerminating
        case evict([Preemption.Candidate])
    }

    /// What preemption would do for `pod`, waiting: the scheduler's filters are run again
    /// with pods of lower priority taken out (their requests and their part in inter-pod
    /// affinity and topology spread), as SelectVictimsOnNode simulates their removal.
    func preemptionPlan(for pod: Pod) -> PreemptionPlan {
        guard pod.spec.nodeName == nil, pod.metadata.deletionTimestamp == nil,
              (pod.spec.preemptionPolicy ?? "PreemptLowerPriority") != "Never" else { return .none }
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        let priority = pod.spec.priority ?? 0
        let nodeName = node.name
        var candidates: [Preemption.Candidate] = []
        // What stays whatever preemption does: the pods of equal or higher priority, static
        // pods, and those a create has admitted and not yet published.
        var staying: [PlacedPod] = []
        var stayingRequests: [String: Int64] = [:]
        var placedByKey: [Key: PlacedPod] = [:]
        for (other, placed) in snapshots where other != key && PlacedPod.counts(placed, node: nodeName) {
            // Static pods are the manifests directory's, as kubelet's are its own: never victims.
            let otherPriority = placed.metadata.annotations[Self.sourceAnnotation] != nil ? Int32.max : placed.spec.priority ?? 0
            if placed.metadata.deletionTimestamp != nil && otherPriority < priority { return .waitForTerminating }
            if otherPriority >= priority {
                staying.append(PlacedPod(placed))
                for (name, amount) in podRequests[other] ?? [:] { stayingRequests[name, default: 0] &+= amount }
                continue
            }
            placedByKey[other] = PlacedPod(placed)
            candidates.append(Preemption.Candidate(namespace: other.namespace, name: other.name, priority: otherPriority,
                                                   startTime: placed.status.startTime ?? placed.metadata.creationTimestamp,
                                                   requests: podRequests[other] ?? [:], labels: placed.metadata.labels))
        }
        for (other, admitted) in creating where other != key && snapshots[other] == nil && PlacedPod.counts(admitted, node: nodeName) {
            staying.append(PlacedPod(admitted))
            for (name, amount) in podRequests[other] ?? [:] { stayingRequests[name, default: 0] &+= amount }
        }
        let node = self.node
        let fits = { (kept: [Preemption.Candidate]) -> Bool in
            var placed = staying
            var requested = stayingRequests
            for candidate in kept {
                if let pod = placedByKey[Key(candidate.namespace, candidate.name)] { placed.append(pod) }
                for (name, amount) in candidate.requests { requested[name, default: 0] &+= amount }
            }
            return NodeScheduling.outcome(pod, on: node, among: placed, requested: requested) == .scheduled
        }
        guard let victims = Preemption.victims(priority: priority, placed: candidates, budgets: ctx.scheduling.budgets, fits: fits),
              !victims.isEmpty else { return .none }
        return .evict(victims)
    }

    /// Preempts for the waiting pod `key` when that would make room.
    func preemptIfHelpful(_ key: Key) async {
        guard let pod = snapshots[key], let controller = controllers[key] else { return }
        let verdict = schedulingVerdict(pod)
        guard case .unschedulable = verdict.outcome, case let .evict(victims) = verdict.preemption else { return }
        await preempt(victims, for: pod, controller: controller)
    }

    /// Nominates the waiting `pod` to the node and disrupts `victims` (its plan's) for it.
    func preempt(_ victims: [Preemption.Candidate], for pod: Pod, controller: PodController) async {
        await controller.nominate(node.name)
        let message = Preemption.preemptedMessage(by: pod.metadata.uid ?? "", node: node.name)
        for victim in victims {
            let victimKey = Key(victim.namespace, victim.name)
            await disrupt(victimKey, uid: snapshots[victimKey]?.metadata.uid, condition: Preemption.disruptionTarget,
                          eventReason: "Preempted", eventMessage: message)
        }
    }
}
