import PodModel

/// Kubernetes' taint eviction controller for podd's node: a pod that does not tolerate a
/// NoExecute taint of the node is deleted (condition DisruptionTarget, reason
/// DeletionByTaintManager, and a TaintManagerEviction event first); one that tolerates it for
/// tolerationSeconds is deleted once they have passed, unless the taint goes first. Static
/// pods are the manifests directory's, as kubelet's are its own: they stay.
extension PodRegistry {
    /// Every pod weighed against the node's taints, after they changed.
    func evictForTaints() {
        for key in snapshots.keys.sorted() { weighTaints(key) }
        for key in taintEvictions.keys where snapshots[key] == nil { cancelTaintEviction(key, announce: false) }
    }

    /// A pod just added, weighed if the node has a NoExecute taint.
    func weighTaintsOfNewPod(_ key: Key) {
        guard node.taints.contains(where: { $0.effect == "NoExecute" }) else { return }
        weighTaints(key)
    }

    private func weighTaints(_ key: Key) {
        guard let pod = snapshots[key], pod.metadata.deletionTimestamp == nil, pod.metadata.annotations[Self.sourceAnnotation] == nil else {
            cancelTaintEviction(key, announce: false)
            return
        }
        switch TaintEviction.verdict(pod.spec.tolerations, taints: node.taints) {
        case .keep:
            cancelTaintEviction(key, announce: true)
        case .evictNow:
            cancelTaintEviction(key, announce: false)
            Task { await self.evictForTaint(key, uid: pod.metadata.uid) }
        case let .evictAfter(seconds):
            let due = RuntimeClock.now().adding(seconds: Double(seconds))
            // An eviction already due sooner stands (the controller keeps the earlier one).
            if let scheduled = taintEvictions[key], scheduled.due <= due { return }
            cancelTaintEviction(key, announce: false)
            let task = Task {
                try? await Task.sleep(for: .seconds(seconds))
                guard !Task.isCancelled else { return }
                await self.evictForTaint(key, uid: pod.metadata.uid)
            }
            taintEvictions[key] = (due, task)
        }
    }

    private func cancelTaintEviction(_ key: Key, announce: Bool) {
        guard let scheduled = taintEvictions.removeValue(forKey: key) else { return }
        scheduled.task.cancel()
        guard announce, let pod = snapshots[key] else { return }
        let events = ctx.events
        Task {
            await events.record(namespace: key.namespace, pod: key.name, uid: pod.metadata.uid ?? "", fieldPath: nil, type: "Normal",
                                reason: TaintEviction.eventReason, message: "Cancelling deletion of Pod \(key.namespace)/\(key.name)",
                                at: RuntimeClock.now())
        }
    }

    private func evictForTaint(_ key: Key, uid: String?) async {
        taintEvictions[key] = nil
        await disrupt(key, uid: uid, condition: TaintEviction.disruptionTarget, eventReason: TaintEviction.eventReason,
                      eventMessage: "Marking for deletion Pod \(key.namespace)/\(key.name)")
    }
}
