import PodModel
import PodRuntime

/// `GET|PATCH|PUT /api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers`, as Kubernetes'
/// subresource: GET answers the pod; PUT takes a pod and PATCH a patch of it, of which only
/// spec.ephemeralContainers counts; the answer is the pod. And podd's extension,
/// `DELETE /apis/podd.io/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers[/{container}]`,
/// which prunes ephemeral containers that have ended.
struct EphemeralContainerRoutes {
    let registry: PodRegistry

    func respond(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        switch r.method {
        case .GET:
            guard let pod = await registry.get(key) else { throw .notFound(key.name) }
            return PodAPIHandler.json(200, pod.json)
        case .PUT:
            let raw = try PodAPIHandler.body(r)
            let pod = try PodAPIHandler.decodePod(raw, namespace: key.namespace)
            guard pod.metadata.name == key.name else {
                throw .badRequest("the name of the object (\(pod.metadata.name)) does not match the name on the URL (\(key.name))")
            }
            let containers = pod.spec.ephemeralContainers
            return PodAPIHandler.json(200, try await runtime { () async throws(RuntimeError) in
                try await registry.updateEphemeralContainers(key, containers)
            }.json)
        case .PATCH:
            // The pod's patch formats (PodPatch.swift), applied to the pod without its status.
            let type = try PodAPIHandler.patchType(r)
            let patch = try PodAPIHandler.patchBody(r)
            guard let pod = await registry.get(key) else { throw .notFound(key.name) }
            var document = pod.json
            if case var .object(o) = document {
                o["status"] = nil
                document = .object(o)
            }
            let patched: JSONValue
            do {
                patched = try type.apply(patch, to: document, schema: .pod)
            } catch {
                throw PodAPIHandler.patchFailure(error, name: key.name)
            }
            let updated = try PodAPIHandler.decodePod(patched, namespace: key.namespace)
            let containers = updated.spec.ephemeralContainers
            return PodAPIHandler.json(200, try await runtime { () async throws(RuntimeError) in
                try await registry.updateEphemeralContainers(key, containers)
            }.json)
        default:
            throw .methodNotAllowed(r.method, r.path)
        }
    }

    /// The prune extension: one container, or (without a name) every one that has ended.
    func prune(_ r: APIRequest, key: PodRegistry.Key, container: String?) async throws(StatusError) -> APIResponse {
        guard r.method == .DELETE else { throw .methodNotAllowed(r.method, r.path) }
        return PodAPIHandler.json(200, try await runtime { () async throws(RuntimeError) in
            try await registry.pruneEphemeralContainers(key, name: container)
        }.json)
    }
}
