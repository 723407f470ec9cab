import PodModel
import PodRuntime
import Synchronization

/// `PATCH /api/v1/namespaces/{ns}/pods/{name}`, as the API server does it: the patch (JSON
/// Patch, JSON Merge Patch or strategic merge patch, by Content-Type) is applied to the pod as
/// stored, inside the registry's read-modify-write of the pod (`PodRegistry.update`: one
/// update of a pod at a time, for PUT as for PATCH), and the result goes through the same
/// checks as a PUT (resourceVersion, validation; labels and annotations changed in place; a
/// changed spec restarts the pod).
extension PodAPIHandler {
    func patchPod(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        if let apply = try ApplyPatch(r, kind: "Pod", name: key.name) { return try await applyPod(r, apply, key: key) }
        let type = try Self.patchType(r)
        let patch = try Self.patchBody(r)
        if type == .json, let count = patch.arrayValue?.count, count > Self.maximumJSONPatchOperations {
            // The API server's limit: each operation copies part of the pod.
            throw .tooLarge("The request entity is too large: the allowed maximum operations in a JSON patch is \(Self.maximumJSONPatchOperations), got \(count)")
        }
        return try await update(r, key: key) { (pod: JSONValue) throws(PatchError) -> JSONValue in
            try type.apply(patch, to: pod, schema: .pod)
        }
    }

    /// The pod made anew from what `patched` makes of its JSON form, inside the registry's
    /// read-modify-write (`PodRegistry.update`), through the checks of a PUT; the patch's
    /// errors answered as the API server answers them.
    private func update(_ r: APIRequest, key: PodRegistry.Key,
                        patched: @escaping @Sendable (JSONValue) throws(PatchError) -> JSONValue) async throws(StatusError) -> APIResponse {
        let validation = try FieldValidation(r)
        let dryRun = try DryRun.requested(r)
        let warnings = Mutex<[String]>([])
        do throws(PodUpdateError<StatusError>) {
            let pod = try await registry.update(key, dryRun: dryRun) { (current: Pod) throws(StatusError) -> Pod in
                let document: JSONValue
                do throws(PatchError) {
                    document = try patched(current.json)
                } catch {
                    throw Self.patchFailure(error, name: key.name)
                }
                // The patched document keeps the stored resourceVersion unless the patch sets
                // one: the registry's check then makes it a precondition, as in Kubernetes.
                let (pod, unknown) = try validation.decodePod(document, namespace: key.namespace)
                warnings.withLock { $0 = unknown }
                return pod
            }
            return Self.json(200, pod.json).warning(warnings.withLock { $0 })
        } catch {
            switch error {
            case let .change(failure): throw failure
            case let .runtime(failure): throw StatusError(failure)
            }
        }
    }

    /// Server-side apply (ApplyPatch): a pod created from the configuration when there is
    /// none (201, as a POST of it), else the configuration merged into the pod as a PATCH.
    private func applyPod(_ r: APIRequest, _ apply: ApplyPatch, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        guard await registry.get(key) != nil else { return try await createPod(apply.configuration, r, namespace: key.namespace) }
        return try await update(r, key: key) { (pod: JSONValue) throws(PatchError) -> JSONValue in
            try apply.applied(to: pod, schema: .pod)
        }
    }

    /// The patch format of the request's Content-Type; any other is 415.
    static func patchType(_ r: APIRequest) throws(StatusError) -> PatchType {
        let contentType = r.headers["Content-Type"].first ?? ""
        guard let type = PatchType(contentType: contentType) else {
            throw .unsupportedMediaType("the body of the request was in an unknown format (\(contentType.isEmpty ? "no Content-Type" : contentType)) - accepted media types include: "
                + (PatchType.allCases.map(\.rawValue) + [ApplyPatch.mediaType]).joined(separator: ", "))
        }
        return type
    }

    /// The patch, a JSON document.
    static func patchBody(_ r: APIRequest) throws(StatusError) -> JSONValue {
        let bytes = r.body.bytes
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty; send the patch as JSON") }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw .badRequest("the patch is not valid JSON: \(error)")
        }
    }

    /// A patch that does not apply: 400 when the patch itself is wrong, 422 when it does not
    /// fit the object (`what`: "pod", "node", "configmap", ... of `resource`).
    static func patchFailure(_ error: PatchError, name: String, what: String = "pod", resource: String = "pods") -> StatusError {
        switch error.kind {
        case .malformed:
            return StatusError(code: 400, reason: "BadRequest", message: error.message, name: name, kind: resource)
        case .notApplicable:
            return StatusError(code: 422, reason: "Invalid", message: "the patch does not apply to \(what) \"\(name)\": \(error.message)",
                               name: name, kind: resource)
        }
    }

    /// What a PUT or PATCH of an object that is `current` asks it to be: the PUT's body, or the
    /// patch applied to `current` (a patch that does not apply: `patchFailure`).
    static func wanted(_ r: APIRequest, current: JSONValue, schema: StrategicMergeSchema, name: String, what: String,
                       resource: String) throws(StatusError) -> JSONValue {
        if r.method == .PUT { return try body(r) }
        let type = try patchType(r)
        let patch = try patchBody(r)
        do throws(PatchError) {
            return try type.apply(patch, to: current, schema: schema)
        } catch {
            throw patchFailure(error, name: name, what: what, resource: resource)
        }
    }

    static let maximumJSONPatchOperations = 10_000
}
