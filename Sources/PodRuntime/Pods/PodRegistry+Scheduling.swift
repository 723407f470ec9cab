import PodModel

/// The registry as the scheduler of its one node: it binds a pod when the scheduler's filters
/// pass (NodeScheduling: node affinity, then topology spread and inter-pod affinity against the
/// pods placed on the node), and keeps a pod they refuse Pending and unbound. Whether those hold
/// changes with the other pods, so such a pod is tried again, by priority then age, whenever a
/// pod is added, bound, relabelled, finished or removed, as the scheduler's queue moves an
/// unschedulable pod back when a pod event might make it fit.
extension PodRegistry {
    /// The pods on the node (PlacedPod) that could matter to `pod`: all of them when it weighs
    /// them (NodeScheduling.weighsOtherPods), else only those whose anti-affinity could refuse it.
    /// Pods a create has admitted and not yet published count too: the check and the claim
    /// are one step of this actor.
    func placedPods(for pod: Pod) -> [PlacedPod] {
        let me = Key(pod.metadata.namespace, pod.metadata.name)
        let nodeName = node.name
        var placed: [PlacedPod] = []
        func consider(_ key: Key, _ other: Pod) {
            if key != me && PlacedPod.counts(other, node: nodeName) { placed.append(PlacedPod(other)) }
        }
        if NodeScheduling.weighsOtherPods(pod) {
            for (key, other) in snapshots { consider(key, other) }
        } else {
            for key in antiAffinityHolders { if let other = snapshots[key] { consider(key, other) } }
        }
        for (key, other) in creating where snapshots[key] == nil { consider(key, other) }
        return placed
    }

    /// What the pods placed on the node, other than `pod`, request together (NodeResourcesFit):
    /// the pods that request anything are few, and only they are looked at.
    func requestedOnNode(besides pod: Pod) -> [String: Int64] {
        let me = Key(pod.metadata.namespace, pod.metadata.name)
        let nodeName = node.name
        var total: [String: Int64] = [:]
        for (key, requests) in podRequests where key != me {
            guard let other = snapshots[key] ?? creating[key], PlacedPod.counts(other, node: nodeName) else { continue }
            for (name, amount) in requests { total[name, default: 0] &+= amount }
        }
        return total
    }

    /// `pod` as stored: bound to the node when the scheduler places it there now.
    func scheduled(_ pod: Pod) -> Pod {
        guard pod.spec.nodeName == nil else { return pod }
        return NodeScheduling.bound(pod, to: node, among: placedPods(for: pod), requested: requestedOnNode(besides: pod))
    }

    /// The verdict its controller starts with, for a pod as stored (`schedulingVerdict`).
    func schedulingOutcome(_ pod: Pod, weighResources: Bool = true) -> NodeScheduling.Outcome {
        schedulingVerdict(pod, weighResources: weighResources).outcome
    }

    /// The filters' verdict on a pod as stored and, for one they keep out, what preemption
    /// would do (worked out once: it runs the filters again for each pod of lower priority).
    /// When preempting would make room, the message says what the scheduler's does then: the
    /// filters' verdict alone; while such pods are terminating, that the pod waits for them.
    func schedulingVerdict(_ pod: Pod, weighResources: Bool = true) -> (outcome: NodeScheduling.Outcome, preemption: PreemptionPlan) {
        let outcome = NodeScheduling.outcome(pod, on: node, among: pod.spec.nodeName == nil ? placedPods(for: pod) : [],
                                             requested: weighResources ? requestedOnNode(besides: pod) : [:])
        guard case let .unschedulable(message) = outcome, let clause = message.range(of: " preemption: ") else { return (outcome, .none) }
        let filters = String(message[..<clause.lowerBound])
        let plan = preemptionPlan(for: pod)
        switch plan {
        case .none: return (outcome, plan)
        case .evict: return (.unschedulable(message: filters), plan)
        case .waitForTerminating:
            return (.unschedulable(message: filters + " preemption: not eligible due to a terminating pod on the nominated node."), plan)
        }
    }

    /// Keeps `antiAffinityHolders` and `unscheduled` in step with a committed change of a pod,
    /// and tries the unscheduled pods again when the change might let one fit.
    func noteForScheduling(_ type: String, _ pod: Pod, previous: Pod?) {
        let key = Key(pod.metadata.namespace, pod.metadata.name)
        if type == "DELETED" || (pod.spec.affinity?.podAntiAffinity?.required.isEmpty ?? true) {
            antiAffinityHolders.remove(key)
        } else {
            antiAffinityHolders.insert(key)
        }
        if type == "DELETED" || pod.spec.nodeName != nil { unscheduled.remove(key) }
        if type == "DELETED" { podRequests[key] = nil }
        guard !unscheduled.isEmpty else { return }
        // A pod the node cannot take now: might preempting others make room?
        if type == "ADDED" && unscheduled.contains(key) { Task { await self.preemptIfHelpful(key) } }
        // Only a pod placed on the node, before or after, counts for another's fit.
        let nodeName = node.name
        let wasPlaced = previous.map { PlacedPod.counts($0, node: nodeName) } ?? false
        let isPlaced = type != "DELETED" && PlacedPod.counts(pod, node: nodeName)
        let relabelled = previous.map { $0.metadata.labels != pod.metadata.labels } ?? false
        let marked = previous.map { $0.metadata.deletionTimestamp != pod.metadata.deletionTimestamp } ?? false
        // A pod placed or gone, a placed pod relabelled or being deleted (spread stops counting
        // it), or a waiting one relabelled (its own labels meet the others' anti-affinity).
        let relevant = wasPlaced != isPlaced || (isPlaced && (relabelled || marked)) || (relabelled && unscheduled.contains(key))
        if relevant && !retryingUnscheduled {
            retryingUnscheduled = true
            Task { await self.retryUnscheduled() }
        }
    }

    /// Tries every unscheduled pod again, in the scheduler's queue order (PrioritySort: higher
    /// priority first, then the oldest), each against the pods placed so far (one bound here
    /// counts for the next): room a preemption made goes to the pod it was made for. A pod
    /// that now fits is bound: the binding is stored, then its controller starts it.
    func retryUnscheduled() async {
        retryingUnscheduled = false
        let waiting = unscheduled.compactMap { key in snapshots[key].map { (key, $0) } }
            .sorted { a, b in
                let (pa, pb) = (a.1.spec.priority ?? 0, b.1.spec.priority ?? 0)
                if pa != pb { return pa > pb }
                return (a.1.metadata.creationTimestamp ?? .earliest, a.0) < (b.1.metadata.creationTimestamp ?? .earliest, b.0)
            }
        for (key, _) in waiting {
            await lockPod(key)
            defer { unlockPod(key) }
            guard unscheduled.contains(key), let controller = controllers[key], let pod = snapshots[key],
                  pod.metadata.deletionTimestamp == nil else { continue }
            var bound = scheduled(pod)
            guard bound.spec.nodeName != nil else {
                // Still waiting, perhaps for another reason now: preempting others may make
                // room (acting on the verdict just made, no wait between), and the pod says
                // that verdict.
                let verdict = schedulingVerdict(pod)
                if case let .evict(victims) = verdict.preemption { await preempt(victims, for: pod, controller: controller) }
                if case let .unschedulable(message) = verdict.outcome { await controller.stillUnschedulable(message) }
                continue
            }
            do {
                try ctx.store.save(bound)
            } catch {
                ctx.logger.warning("cannot store the binding of pod \(key.namespace)/\(key.name): \(error); it stays unscheduled")
                continue
            }
            unscheduled.remove(key)
            bound.status = pod.status
            commit("MODIFIED", bound)
            await recordScheduled(bound)
            await controller.bind(to: node.name)
        }
    }

    /// The scheduler placed a pod (at its create, or once it fits after waiting): told as the
    /// scheduler tells it. A pod bound by its own nodeName, or a static pod, never met it.
    func recordScheduled(_ pod: Pod) async {
        let (namespace, name) = (pod.metadata.namespace, pod.metadata.name)
        await ctx.events.record(namespace: namespace, pod: name, uid: pod.metadata.uid ?? "", fieldPath: nil, type: "Normal",
                                reason: "Scheduled", message: "Successfully assigned \(namespace)/\(name) to \(node.name)",
                                at: RuntimeClock.now())
    }
}
