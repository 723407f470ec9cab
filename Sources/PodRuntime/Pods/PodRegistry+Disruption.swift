import PodModel

/// How a controller of the cluster deletes a pod it disrupts (the taint eviction controller,
/// the scheduler's preemption): an event first, then the condition DisruptionTarget with its
/// reason, then a graceful deletion (the pod's own grace period), of that pod only (`uid`).
extension PodRegistry {
    func disrupt(_ key: Key, uid: String?, condition template: PodCondition, eventReason: String, eventMessage: String) async {
        guard let pod = snapshots[key], pod.metadata.uid == uid, pod.metadata.deletionTimestamp == nil else { return }
        await ctx.events.record(namespace: key.namespace, pod: key.name, uid: uid ?? "", fieldPath: nil, type: "Normal",
                                reason: eventReason, message: eventMessage, at: RuntimeClock.now())
        _ = try? await markDisrupted(key, template, resourceVersion: nil)
        _ = try? await delete(key, gracePeriod: nil, preconditions: DeletePreconditions(uid: uid))
    }

    /// The pod with `template` (a DisruptionTarget condition) among its own conditions, true
    /// from now, under `resourceVersion` when given (the status subresource's update).
    public func markDisrupted(_ key: Key, _ template: PodCondition, resourceVersion: String?) async throws(RuntimeError) -> Pod {
        guard let pod = snapshots[key] else { throw .notFound(kind: "pods", name: key.name) }
        var condition = template
        condition.lastTransitionTime = RuntimeClock.now()
        let own = pod.status.conditions.filter { !PodConditionOwners.kubelet.contains($0.type) && $0.type != condition.type }
        return try await updateConditions(key, own + [condition], resourceVersion: resourceVersion)
    }
}
