import NIOHTTP1
import PodModel
import PodRuntime

/// `/api/v1[/namespaces/{ns}]/configmaps[/{name}]`, `/secrets[/{name}]`, `/serviceaccounts[/{name}]` and
/// `/apis/policy/v1[/namespaces/{ns}]/poddisruptionbudgets[/{name}]`: GET, list (label and
/// field selectors), watch, POST, PUT, PATCH (JSON, merge and strategic merge patches) and
/// DELETE, as the API server serves them. A Secret's data never appears in an error message
/// or a log line.
struct ObjectRoutes<T: StoredObject> {
    let registry: ObjectRegistry

    /// The routes of the resource a path names ("configmaps", "secrets", "poddisruptionbudgets").
    static func respond(_ r: APIRequest, registry: ObjectRegistry, resource: String,
                        namespace: String?, name: String?) async throws(StatusError) -> APIResponse {
        switch resource {
        case ConfigMap.resource: return try await ObjectRoutes<ConfigMap>(registry: registry).respond(r, namespace: namespace, name: name)
        case PodDisruptionBudget.resource:
            return try await ObjectRoutes<PodDisruptionBudget>(registry: registry).respond(r, namespace: namespace, name: name)
        case PriorityClass.resource:
            return try await ObjectRoutes<PriorityClass>(registry: registry).respond(r, namespace: namespace, name: name)
        case ServiceAccount.resource:
            return try await ObjectRoutes<ServiceAccount>(registry: registry).respond(r, namespace: namespace, name: name)
        default: return try await ObjectRoutes<Secret>(registry: registry).respond(r, namespace: namespace, name: name)
        }
    }

    func respond(_ r: APIRequest, namespace: String?, name: String?) async throws(StatusError) -> APIResponse {
        guard let name, let namespace else {
            if r.method == .POST, let namespace { return try await create(r, namespace: namespace) }
            return try await list(r, namespace: namespace)
        }
        switch r.method {
        case .PUT: return try await replace(r, namespace: namespace, name: name)
        case .PATCH: return try await patch(r, namespace: namespace, name: name)
        case .DELETE: return try await delete(namespace: namespace, name: name, options: try DeleteOptions(r))
        default:
            guard let object = await registry.get(T.self, namespace: namespace, name: name) else {
                throw StatusError(.notFound(kind: T.resource, name: name))
            }
            return try PodAPIHandler.single(r, object.json, kind: Self.tableKind, resourceVersion: object.metadata.resourceVersion ?? "")
        }
    }

    /// kubectl's columns of this kind (TableKinds.swift).
    static var tableKind: TableKind {
        switch T.resource {
        case ConfigMap.resource: return .configMaps
        case PodDisruptionBudget.resource: return .podDisruptionBudgets
        case PriorityClass.resource: return .priorityClasses
        case ServiceAccount.resource: return .serviceAccounts
        default: return .secrets
        }
    }

    /// A list, or with `watch` a watch, in the form asked for (objects, a Table, or their
    /// metadata); a watch from the list's resourceVersion misses nothing (WatchHub).
    private func list(_ r: APIRequest, namespace: String?) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        let fieldSelector = try FieldSelector(r.queryValue("fieldSelector") ?? "", fields: FieldSelector.fields(of: T.resource))
        let matches: @Sendable (JSONValue) -> Bool = { selector.matches($0) && fieldSelector.matches($0) }
        let table = try PodAPIHandler.tableBuilder(r, form: form, kind: Self.tableKind)
        if r.queryBool("watch") {
            let options = try WatchOptions(r)
            let selective = !selector.requirements.isEmpty || !fieldSelector.terms.isEmpty
            return await WatchRoute(source: registry.watchSource(T.self), kind: T.kind, render: { $0 }, matches: matches, selective: selective)
                .respond(namespace: namespace, options: options, table: table)
        }
        let page = try ListPage(r)
        let (objects, version) = await registry.listWithVersion(T.self, namespace: namespace)
        return PodAPIHandler.list(objects.map(\.json).filter(matches), kind: T.kind + "List", apiVersion: T.apiVersion, resourceVersion: version, form: form,
                                  table: table, page: page, selective: !selector.requirements.isEmpty || !fieldSelector.terms.isEmpty)
    }

    private func create(_ r: APIRequest, namespace: String) async throws(StatusError) -> APIResponse {
        try await create(try PodAPIHandler.body(r), r, namespace: namespace)
    }

    /// An object made from `raw` (a POST's body, or a server-side apply's configuration): 201.
    private func create(_ raw: JSONValue, _ r: APIRequest, namespace: String) async throws(StatusError) -> APIResponse {
        let object = try decode(raw, namespace: namespace)
        let dryRun = try DryRun.requested(r)
        do {
            let created = try await GeneratedNames.create(object.metadata) { (metadata: ObjectMeta) async throws(RuntimeError) -> T in
                var named = object
                named.metadata = metadata
                return try await registry.create(named, dryRun: dryRun)
            }
            return PodAPIHandler.json(201, created.json)
        } catch {
            throw Self.status(error)
        }
    }

    private func replace(_ r: APIRequest, namespace: String, name: String) async throws(StatusError) -> APIResponse {
        let object = try decode(try PodAPIHandler.body(r), namespace: namespace)
        guard object.metadata.name == name else {
            throw .badRequest("the name of the object (\(object.metadata.name)) does not match the name on the URL (\(name))")
        }
        let dryRun = try DryRun.requested(r)
        do {
            return PodAPIHandler.json(200, try await registry.replace(object, dryRun: dryRun).json)
        } catch {
            throw Self.status(error)
        }
    }

    private func patch(_ r: APIRequest, namespace: String, name: String) async throws(StatusError) -> APIResponse {
        let apply = try ApplyPatch(r, kind: T.kind, name: name)
        if let apply, await registry.get(T.self, namespace: namespace, name: name) == nil {
            // Server-side apply of an object that is not there: a create of the configuration.
            return try await create(apply.configuration, r, namespace: namespace)
        }
        let type: PatchType
        let patch: JSONValue
        if let apply {
            (type, patch) = (.strategicMerge, apply.configuration)
        } else {
            (type, patch) = (try PodAPIHandler.patchType(r), try PodAPIHandler.patchBody(r))
        }
        if type == .json, let count = patch.arrayValue?.count, count > PodAPIHandler.maximumJSONPatchOperations {
            throw .tooLarge("The request entity is too large: the allowed maximum operations in a JSON patch is \(PodAPIHandler.maximumJSONPatchOperations), got \(count)")
        }
        let dryRun = try DryRun.requested(r)
        do throws(ObjectUpdateError<StatusError>) {
            let object = try await registry.update(T.self, namespace: namespace, name: name, dryRun: dryRun) { (current: T) throws(StatusError) -> T in
                let document: JSONValue
                do throws(PatchError) {
                    document = try type.apply(patch, to: current.json, schema: StrategicMergeSchema())
                } catch {
                    throw PodAPIHandler.patchFailure(error, name: name, what: T.lowercasedKind, resource: T.resource)
                }
                return try decode(document, namespace: namespace)
            }
            return PodAPIHandler.json(200, object.json)
        } catch {
            switch error {
            case let .change(failure): throw failure
            case let .runtime(failure): throw Self.status(failure)
            }
        }
    }

    /// These objects go at once; the answer is a Status, as the API server's.
    private func delete(namespace: String, name: String, options: DeleteOptions) async throws(StatusError) -> APIResponse {
        let deleted: T
        do {
            deleted = try await registry.delete(T.self, namespace: namespace, name: name, preconditions: options.preconditions,
                                                dryRun: options.dryRun)
        } catch { throw Self.status(error) }
        // Held by its finalizers: the object as it now is (marked), as the API server answers.
        if deleted.metadata.deletionTimestamp != nil { return PodAPIHandler.json(200, deleted.json) }
        return PodAPIHandler.json(200, .object(JSONObject([
            ("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Success"),
            ("details", .object(JSONObject([("name", .string(name)), ("kind", .string(T.resource)),
                                            ("uid", .string(deleted.metadata.uid ?? ""))]))),
        ])))
    }

    /// Decodes strictly; the namespace comes from the URL unless the object names one, and
    /// then the two must agree.
    private func decode(_ raw: JSONValue, namespace: String) throws(StatusError) -> T {
        var object: T
        do {
            object = try ObjectManifest.decode(raw, as: T.self, defaultNamespace: namespace)
        } catch {
            let name = raw["metadata"]?["name"]?.stringValue ?? ""
            let causes = error.causes.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field.description) }
            throw StatusError(code: error.code, reason: error.reason, message: error.message, name: name, kind: T.resource, causes: causes)
        }
        // A cluster-scoped object's namespace is cleared, whatever the body says, as the API
        // server clears it.
        if T.namespaced, let given = raw["metadata"]?["namespace"]?.stringValue, !given.isEmpty, given != namespace {
            throw .badRequest("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(namespace))")
        }
        object.metadata.namespace = namespace
        return object
    }

    /// A runtime error as the API server words it for this kind (`ConfigMap "x" is invalid: ...`).
    static func status(_ error: RuntimeError) -> StatusError {
        guard case let .invalid(_, name, causes) = error else { return StatusError(error) }
        let list = causes.map { c in c.field.map { "\($0): \(c.message)" } ?? c.message }
        let head = "\(T.kind) \"\(name)\" is invalid"
        let message = list.count == 1 ? head + ": " + list[0] : head + ": [" + list.joined(separator: ", ") + "]"
        return StatusError(code: 422, reason: "Invalid", message: message, name: name, kind: T.kind,
                           causes: causes.map { StatusCause(reason: $0.reason, message: $0.message, field: $0.field) })
    }
}
