import NIOHTTP1
import PodModel
import PodRuntime

/// `GET /api/v1/namespaces[/{name}]`. A namespace exists in podd while an object lives in it
/// (a pod, a ConfigMap, a Secret, a PodDisruptionBudget), and `default` always: there is no namespace object to
/// create or delete. Each is `Active`, created when its oldest object was (`default` without
/// objects carries no creationTimestamp, as nothing says when it began). Answered as an
/// object, a Table (kubectl's NAME STATUS AGE) or metadata, as the other kinds are.
struct NamespaceRoutes {
    let registry: PodRegistry
    let objects: ObjectRegistry?

    /// The 405 of a verb namespaces do not take here (`kubectl create namespace`), saying why.
    static func noNamespaceObjects(_ method: HTTPMethod, _ path: String) -> StatusError {
        let verb = method == .POST ? "create" : method == .DELETE ? "delete" : "change"
        return StatusError(code: 405, reason: "MethodNotAllowed",
                           message: "podd has no namespace objects to \(verb): a namespace exists while a pod, ConfigMap or Secret "
                               + "lives in it (and default always); create them in it (-n NAME, or metadata.namespace) (\(method) \(path))")
    }

    func list(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let table = try PodAPIHandler.tableBuilder(r, form: form, kind: .namespaces)
        let items = await namespaces().map { Self.json(name: $0.name, created: $0.created) }
        return PodAPIHandler.list(items, kind: "NamespaceList", resourceVersion: "", form: form, table: table)
    }

    func get(_ r: APIRequest, name: String) async throws(StatusError) -> APIResponse {
        guard let found = await namespaces().first(where: { $0.name == name }) else {
            throw .notFound(name, kind: "namespaces")
        }
        return try PodAPIHandler.single(r, Self.json(name: name, created: found.created), kind: .namespaces, resourceVersion: "")
    }

    /// Every namespace, sorted by name, with the creation of its oldest object.
    private func namespaces() async -> [(name: String, created: Timestamp?)] {
        var oldest: [String: Timestamp?] = ["default": nil]
        func saw(_ namespace: String, _ created: Timestamp?) {
            let known = oldest[namespace] ?? nil
            switch (known, created) {
            case let (k?, c?): oldest[namespace] = min(k, c)
            case (nil, _): oldest[namespace] = created
            default: break
            }
        }
        for pod in await registry.list(namespace: nil) { saw(pod.metadata.namespace, pod.metadata.creationTimestamp) }
        if let objects {
            for object in await objects.list(ConfigMap.self, namespace: nil) { saw(object.metadata.namespace, object.metadata.creationTimestamp) }
            for object in await objects.list(Secret.self, namespace: nil) { saw(object.metadata.namespace, object.metadata.creationTimestamp) }
            for object in await objects.list(PodDisruptionBudget.self, namespace: nil) {
                saw(object.metadata.namespace, object.metadata.creationTimestamp)
            }
        }
        return oldest.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    static func json(name: String, created: Timestamp?) -> JSONValue {
        var metadata = JSONObject([("name", .string(name))])
        if let created { metadata["creationTimestamp"] = .string(created.rfc3339) }
        // The label the API server puts on every namespace, and the only one podd's have:
        // what a pod affinity term's namespaceSelector matches (InterPodAffinity).
        metadata["labels"] = .object(JSONObject([("kubernetes.io/metadata.name", .string(name))]))
        return .object(JSONObject([("kind", "Namespace"), ("apiVersion", "v1"), ("metadata", .object(metadata)),
                                   ("spec", .object(JSONObject([("finalizers", .array(["kubernetes"]))]))),
                                   ("status", .object(JSONObject([("phase", "Active")])))]))
    }
}
