import Glibc
import PodImages
import PodModel
import PodRuntime

/// podd's image extension, `/apis/podd.io/v1/images`:
///
/// - `GET images`: the images (ImageList; each item as `image inspect` shows it), or a
///   Table of them (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`, TableKind.images)
///   or their metadata, as every resource;
/// - `POST images?name=NAME&tag=TAG`: import a rootfs tarball (the body, plain, gzip or zstd)
///   as the one-layer image `localhost/NAME:TAG`;
/// - `POST images/load`: load every image of the body (docker-archive or oci-archive, plain
///   or gzip'd): 201 with the images;
/// - `POST images/pull?image=REF`: pull through the registry client, answered as JSON lines
///   (`resolved`, `progress`, `done`, `skipped`, then `pulled` with the image or `error`);
/// - `POST images/tag?source=SRC&target=DST`;
/// - `POST images/prune[?all=true]`: remove images no pod uses (without `all`, only those
///   without a name), with their unshared layers and blobs;
/// - `GET images/REF` (a name or an ID): inspect; `DELETE images/REF[?force=true]`: untag.
///   A name of several just goes (as `docker rmi` and `podman rmi`); the last name goes
///   with the image, and removing it (or the image by ID) is refused (409, naming the pod)
///   while a pod uses the image, unless forced, which untags it anyway (the image stays
///   until no pod uses it).
///
/// Every upload is spooled to disk first (UploadSpool, `images.maxUploadBytes`).
struct ImageRoutes {
    let images: ImageStore
    let registry: PodRegistry
    let pulls: ImagePulls?

    /// `/apis/podd.io/v1/images`: GET lists, POST imports.
    func respondToList(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        if r.method == .GET {
            let items = images.list().sorted { $0.storedAt > $1.storedAt }.map(\.json)
            // A Table or the metadata when the client asks for one (kubectl), as every resource.
            let form = try ResponseForm(r)
            guard form == .object else {
                return PodAPIHandler.list(items, kind: "ImageList", apiVersion: "podd.io/v1", resourceVersion: "", form: form,
                                          table: try PodAPIHandler.tableBuilder(r, form: form, kind: .images))
            }
            return PodAPIHandler.json(200, .object(JSONObject([("apiVersion", "podd.io/v1"), ("kind", "ImageList"), ("items", .array(items))])))
        }
        let path = try uploaded(r, what: "a rootfs tar archive (plain or gzip)")
        let text = r.queryValue("name") ?? ""
        let tag = r.queryValue("tag").flatMap { $0.isEmpty ? nil : $0 }
        let full = tag.map { "\(text):\($0)" } ?? text
        guard var name = try? ImageName(parsing: full), name.digest == nil else {
            UploadSpool.remove(path)
            throw StatusError(code: 422, reason: "Invalid",
                              message: "Image \"\(text)\" is invalid: name: Invalid value: \"\(full)\": must be NAME[:TAG], a lowercase name (letters, digits, '.', '_', '-', '/') and a tag of letters, digits, '_', '.', '-'")
        }
        if let local = ImageStore.localName(name) { name = local }
        let image = try await runtime { () async throws(RuntimeError) in try await images.importUpload(name, path: path) }
        return PodAPIHandler.json(201, image.json)
    }

    /// `/apis/podd.io/v1/images/REF`: GET one, DELETE it; POST load, pull, tag, prune.
    func respond(_ r: APIRequest, reference text: String) async throws(StatusError) -> APIResponse {
        if r.method == .POST {
            switch text {
            case "load": return try await load(r)
            case "pull": return try await pull(r)
            case "tag": return try await tag(r)
            case "prune": return try await prune(r)
            default:
                discardBody(r)
                throw StatusError(code: 405, reason: "MethodNotAllowed",
                                  message: "the server does not allow this method on the requested resource (POST goes to images/load, images/pull, images/tag or images/prune)")
            }
        }
        guard let image = images.find(text) else {
            let hex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
            if (try? ImageName(parsing: text)) == nil, !hex.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }) {
                throw .badRequest("invalid image reference \"\(text)\": expected [REGISTRY/]NAME[:TAG][@DIGEST] or an image ID")
            }
            throw .notFound(text, kind: "images")
        }
        if r.method == .GET { return try PodAPIHandler.single(r, image.json, kind: .images, resourceVersion: "") }
        let users = await podsUsing()[image.id] ?? []
        let force = r.queryBool("force")
        let inUse = StatusError(code: 409, reason: "Conflict",
                                message: "image \(text) is in use by pod \(users.joined(separator: ", ")); delete the pod first, or untag the image anyway with --force",
                                name: text, kind: "images")
        var untagged: [String] = []
        var deleted = false
        var refused = false
        do throws(ImageStoreError) {
            let name = (try? ImageName(parsing: text)).map { n in
                ImageStore.localName(n).flatMap { local in image.names.contains(local) ? local : nil } ?? n
            }
            if let name, image.names.contains(name) {
                // One of an image's names just goes, as docker and podman rmi untag, whoever
                // uses the image; its last name goes with the image, unless a pod uses it:
                // then refused, or (force) untagged and the image kept. The store decides
                // which it is under its lock.
                let lastName: ImageStore.LastName = users.isEmpty ? .removeImage : (force ? .keepImage : .refuse)
                switch try images.untag(name, lastName: lastName) {
                case .name: untagged.append(name.description)
                case .nameAndImage:
                    untagged.append(name.description)
                    deleted = true
                case .refusedLastName: refused = true
                }
            } else if users.isEmpty {
                // An ID: the image and all its names.
                untagged = image.names.map(\.description)
                try images.remove(image.id)
                deleted = true
            } else if !force {
                refused = true
            } else {
                untagged = image.names.map(\.description)
                for name in image.names { try images.untag(name, lastName: .keepImage) }
            }
        } catch {
            throw StatusError(error.runtimeError)
        }
        if refused { throw inUse }
        return PodAPIHandler.json(200, .object(JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("status", "Success"),
                                                           ("details", .object(JSONObject([("name", .string(text)), ("kind", "images")]))),
                                                           ("untagged", .array(untagged.map { .string($0) })),
                                                           ("deleted", deleted ? .array([.string(image.id.description)]) : .array([]))])))
    }

    private func load(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        let path = try uploaded(r, what: "an image archive (docker-archive or oci-archive, plain or gzip)")
        let loaded = try await runtime { () async throws(RuntimeError) in try await images.loadUpload(path: path) }
        return PodAPIHandler.json(201, .object(JSONObject([("apiVersion", "podd.io/v1"), ("kind", "ImageList"),
                                                           ("items", .array(loaded.map(\.json)))])))
    }

    private func tag(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        discardBody(r)
        let source = r.queryValue("source") ?? ""
        let target = r.queryValue("target") ?? ""
        guard let image = images.find(source) else { throw .notFound(source, kind: "images") }
        guard var name = try? ImageName(parsing: target), name.digest == nil else {
            throw .badRequest("invalid target image name \"\(target)\": expected [REGISTRY/]NAME[:TAG]")
        }
        if let local = ImageStore.localName(name) { name = local }
        do { try images.tag(image.id, as: name) } catch { throw StatusError(error.runtimeError) }
        return PodAPIHandler.json(201, images.find(name.description)?.json ?? image.json)
    }

    private func prune(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        discardBody(r)
        let inUse = Set(await podsUsing().keys)
        let before = images.diskUsage()
        let removed: [StoredImage]
        do { removed = try images.prune(inUse: inUse, all: r.queryBool("all")) } catch { throw StatusError(error.runtimeError) }
        return PodAPIHandler.json(200, .object(JSONObject([("kind", "ImagePruneResult"), ("apiVersion", "podd.io/v1"),
                                                           ("deleted", .array(removed.map { .string($0.id.description) })),
                                                           ("spaceReclaimed", .int(max(0, before - images.diskUsage())))])))
    }

    /// Pulls `image`, streaming its progress as JSON lines.
    private func pull(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        discardBody(r)
        let text = r.queryValue("image") ?? ""
        let name: ImageName
        do { name = try ImageName(parsing: text) } catch {
            throw .badRequest("invalid image reference \"\(text)\": \(error)")
        }
        guard let pulls else { throw StatusError(code: 500, reason: "InternalError", message: "podd has no image puller") }
        // A pull goes on when its client leaves (as kubelet's do): the queue bounds how many
        // a client can leave behind. Asked first, so that the refusal is a 429, not a 200.
        if await pulls.wouldRefuse(name) {
            throw StatusError(code: 429, reason: "TooManyRequests",
                              message: "too many image pulls: \(await pulls.running) running and \(await pulls.queued) waiting (images.maxParallelPulls \(pulls.maxParallel)); try again later",
                              retryAfter: 1)
        }
        let (stream, continuation) = AsyncStream<JSONValue>.makeStream(bufferingPolicy: .bufferingNewest(512))
        let task = Task {
            let result = await pulls.pull(name, refuseWhenBusy: true) { progress in continuation.yield(Self.progressLine(progress)) }
            switch result {
            case let .success(outcome):
                continuation.yield(.object(JSONObject([("type", "pulled"), ("image", outcome.image.json),
                                                       ("seconds", .double(outcome.pullSeconds))])))
            case let .failure(failure):
                let code = failure.busy ? 429 : failure.diskFull ? 507 : 502
                continuation.yield(.object(JSONObject([("type", "error"), ("reason", failure.busy ? "TooManyRequests" : "ErrImagePull"),
                                                       ("code", .int(Int64(code))), ("message", .string(failure.message))])))
            }
            continuation.finish()
        }
        _ = task
        let chunks = ResponseChunks.from(stream) { line in line.serialized() + [0x0a] }
        return .stream(status: .ok, contentType: "application/json", body: chunks)
    }

    static func progressLine(_ progress: PullProgress) -> JSONValue {
        switch progress {
        case let .resolved(manifest, layers):
            return .object(JSONObject([("type", "resolved"), ("manifest", .string(manifest.description)),
                                       ("layers", .array(layers.map(\.json)))]))
        case let .bytes(digest, received, total):
            return .object(JSONObject([("type", "progress"), ("digest", .string(digest.description)),
                                       ("received", .int(received)), ("total", .int(total))]))
        case let .done(digest):
            return .object(JSONObject([("type", "done"), ("digest", .string(digest.description))]))
        case let .skipped(digest):
            return .object(JSONObject([("type", "skipped"), ("digest", .string(digest.description))]))
        }
    }

    /// For each image in use, the pods (`NAMESPACE/NAME`) whose containers use it: by the
    /// images their containers run (status imageID: an image untagged since still counts),
    /// and by the names in their spec.
    private func podsUsing() async -> [Digest: [String]] {
        var out: [Digest: [String]] = [:]
        let all = images.list()
        for pod in await registry.list(namespace: nil) {
            let refs = pod.spec.containers.map(\.image) + pod.spec.initContainers.map(\.image) + pod.spec.ephemeralContainers.map(\.common.image)
            var ids = Set<Digest>()
            for ref in refs {
                if let name = try? ImageName(parsing: ref), let image = images.resolve(name) { ids.insert(image.id) }
            }
            let status = pod.status
            for s in status.containerStatuses + status.initContainerStatuses + status.ephemeralContainerStatuses {
                guard let at = s.imageID.lastIndex(of: "@"), let digest = Digest(s.imageID[s.imageID.index(after: at)...]) else { continue }
                for image in all where image.repoDigest == digest || image.manifestDigest == digest { ids.insert(image.id) }
            }
            for id in ids { out[id, default: []].append("\(pod.metadata.namespace)/\(pod.metadata.name)") }
        }
        return out
    }

    private func uploaded(_ r: APIRequest, what: String) throws(StatusError) -> String {
        guard case let .file(path, size) = r.body else { throw .badRequest("send \(what) as the request body") }
        guard size > 0 else {
            UploadSpool.remove(path)
            throw .badRequest("the request body is empty; send \(what)")
        }
        return path
    }

    private func discardBody(_ r: APIRequest) {
        if case let .file(path, _) = r.body { UploadSpool.remove(path) }
    }
}
