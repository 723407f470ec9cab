import PodModel
import PodRuntime

/// `PUT` and `PATCH /api/v1/namespaces/{ns}/pods/{name}/status`: what a controller sets of a
/// pod's status, its own conditions (PodRegistry+Conditions). The update (a Pod, or a patch
/// of the pod as GET answers it) is read for status.conditions; kubelet's conditions and the
/// rest of the status stay kubelet's, as they would at its next sync.
extension PodAPIHandler {
    func updatePodStatus(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        guard let pod = await registry.get(key) else { throw .notFound(key.name) }
        let current = pod.json
        let wanted = try Self.wanted(r, current: current, schema: .pod, name: key.name, what: "pod", resource: "pods")
        if let name = wanted["metadata"]?["name"]?.stringValue, name != key.name {
            throw .badRequest("the name of the object (\(name)) does not match the name on the URL (\(key.name))")
        }
        var conditions: [PodCondition] = []
        for (index, item) in (wanted["status"]?["conditions"]?.arrayValue ?? []).enumerated() {
            do throws(ManifestError) {
                conditions.append(try PodCondition(json: item, path: FieldPath.root.child("status").child("conditions").index(index)))
            } catch {
                throw StatusError(error, name: key.name)
            }
        }
        let version = wanted["metadata"]?["resourceVersion"]?.stringValue
        let changedVersion = version == pod.metadata.resourceVersion ? nil : version
        if try DryRun.requested(r) {
            var answer = pod
            answer.status.conditions = pod.status.conditions.filter { PodConditionOwners.kubelet.contains($0.type) }
                + conditions.filter { !PodConditionOwners.kubelet.contains($0.type) }
            return Self.json(200, answer.json)
        }
        let updated = try await runtime { () async throws(RuntimeError) in
            try await registry.updateConditions(key, conditions, resourceVersion: changedVersion)
        }
        return Self.json(200, updated.json)
    }
}
