import PodModel
import PodOS

/// The pod's status subresource (`PUT`/`PATCH .../pods/NAME/status`), as controllers use it:
/// they set conditions of their own (a readiness gate's, DisruptionTarget, ...), which the
/// pod keeps after kubelet's and across restarts (stored beside the pod). kubelet's own
/// conditions and every other status field are kubelet's: an update's are left as they are.
extension PodRegistry {
    public func updateConditions(_ key: Key, _ conditions: [PodCondition], resourceVersion: String?) async throws(RuntimeError) -> Pod {
        await lockPod(key)
        defer { unlockPod(key) }
        guard let controller = controllers[key], let pod = snapshots[key] else { throw .notFound(kind: "pods", name: key.name) }
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != pod.metadata.resourceVersion {
            throw .modified(pod: key.name)
        }
        var causes: [RuntimeError.Cause] = []
        var seen: Set<String> = []
        for (index, condition) in conditions.enumerated() {
            let path = "status.conditions[\(index)]"
            for message in LabelRules.keyErrors(condition.type) {
                causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \"\(condition.type)\": \(message)", field: path + ".type"))
            }
            if !["True", "False", "Unknown"].contains(condition.status) {
                causes.append(.init(reason: "FieldValueNotSupported",
                                    message: "Unsupported value: \"\(condition.status)\": supported values: \"False\", \"True\", \"Unknown\"",
                                    field: path + ".status"))
            }
            if !seen.insert(condition.type).inserted {
                causes.append(.init(reason: "FieldValueDuplicate", message: "Duplicate value: \"\(condition.type)\"", field: path + ".type"))
            }
        }
        if !causes.isEmpty { throw .invalid(kind: "pods", name: key.name, causes: causes) }
        let own = conditions.filter { !PodConditionOwners.kubelet.contains($0.type) }
        do throws(OSError) {
            try ctx.store.saveConditions(uid: pod.metadata.uid ?? "", own)
        } catch {
            throw .insufficientStorage(what: "cannot store the status of pod \"\(key.name)\"", reason: "\(error)")
        }
        let (current, sequence) = await controller.setExternalConditions(own)
        return commitUpdated(key, controller: controller, current, sequence: sequence)
    }
}
