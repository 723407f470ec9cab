import PodModel
import PodRuntime

/// `PATCH /api/v1/namespaces/{ns}/pods/{name}`, as the API server does it: the patch (JSON
/// Patch, JSON Merge Patch or strategic merge patch, by Content-Type) is applied to the pod as
/// stored, and the result goes through the same path as a PUT (PodRegistry.replace:
/// validation; labels and annotations changed in place; a changed spec restarts the pod).
extension PodAPIHandler {
    func patchPod(_ r: APIRequest, key: PodRegistry.Key) async throws(APIError) -> APIResponse {
        let type = try Self.patchType(r)
        let patch = try Self.patchBody(r)
        if type == .json, let count = patch.arrayValue?.count, count > Self.maximumJSONPatchOperations {
            // The API server's limit: each operation copies part of the pod.
            throw APIError(code: 413, reason: "RequestEntityTooLarge",
                           message: "The request entity is too large: the allowed maximum operations in a JSON patch is \(Self.maximumJSONPatchOperations), got \(count)")
        }
        // Patches of one pod run one at a time, so that two of them (two `podctl label`)
        // both apply rather than the second undoing the first.
        await Self.patchQueue.enter(key)
        let result: Result<Pod, APIError>
        do {
            result = .success(try await applyPatch(type, patch, key: key))
        } catch {
            result = .failure(error)
        }
        await Self.patchQueue.leave(key)
        return Self.json(200, try result.get().json)
    }

    private func applyPatch(_ type: PatchType, _ patch: JSONValue, key: PodRegistry.Key) async throws(APIError) -> Pod {
        guard let current = await registry.get(key) else { throw .notFound(key.name) }
        let document: JSONValue
        do {
            document = try type.apply(patch, to: current.json, schema: .pod)
        } catch {
            throw Self.patchFailure(error, name: key.name)
        }
        // As in Kubernetes, a resourceVersion in the patch is a precondition.
        if let version = document["metadata"]?["resourceVersion"]?.stringValue, !version.isEmpty,
           version != current.metadata.resourceVersion {
            throw APIError(code: 409, reason: "Conflict",
                           message: "Operation cannot be fulfilled on pods \"\(key.name)\": the object has been modified; please apply your changes to the latest version and try again",
                           name: key.name, kind: "pods")
        }
        let pod = try Self.decodePod(document, namespace: key.namespace)
        guard pod.metadata.name == key.name else {
            throw .badRequest("the name of the object (\(pod.metadata.name)) does not match the name on the URL (\(key.name))")
        }
        return try await registry.replace(pod)
    }

    /// The patch format of the request's Content-Type; any other is 415.
    static func patchType(_ r: APIRequest) throws(APIError) -> PatchType {
        let contentType = r.headers["Content-Type"].first ?? ""
        guard let type = PatchType(contentType: contentType) else {
            throw APIError(code: 415, reason: "UnsupportedMediaType",
                           message: "the body of the request was in an unknown format (\(contentType.isEmpty ? "no Content-Type" : contentType)) - accepted media types include: "
                               + PatchType.allCases.map(\.rawValue).joined(separator: ", "))
        }
        return type
    }

    /// The patch, a JSON document.
    static func patchBody(_ r: APIRequest) throws(APIError) -> JSONValue {
        let bytes = r.body.bytes
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty; send the patch as JSON") }
        do {
            return try JSONValue.parse(bytes)
        } catch {
            throw .badRequest("the patch is not valid JSON: \(error)")
        }
    }

    /// A patch that does not apply: 400 when the patch itself is wrong, 422 when it does not
    /// fit the pod.
    static func patchFailure(_ error: PatchError, name: String) -> APIError {
        switch error.kind {
        case .malformed:
            return APIError(code: 400, reason: "BadRequest", message: error.message, name: name, kind: "pods")
        case .notApplicable:
            return APIError(code: 422, reason: "Invalid", message: "the patch does not apply to pod \"\(name)\": \(error.message)",
                            name: name, kind: "pods")
        }
    }

    static let patchQueue = PatchQueue()
    static let maximumJSONPatchOperations = 10_000
}

/// One patch at a time per pod: a lock by key, waiters served in order.
actor PatchQueue {
    private var busy: Set<PodRegistry.Key> = []
    private var waiting: [PodRegistry.Key: [CheckedContinuation<Void, Never>]] = [:]

    func enter(_ key: PodRegistry.Key) async {
        guard busy.contains(key) else {
            busy.insert(key)
            return
        }
        await withCheckedContinuation { waiting[key, default: []].append($0) }
    }

    func leave(_ key: PodRegistry.Key) {
        guard var queue = waiting[key], !queue.isEmpty else {
            busy.remove(key)
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue.isEmpty ? nil : queue
        next.resume()   // the key stays busy: it passes to the next patch
    }
}
