import PodImages
import PodModel
import PodOS

/// What the daemon asks of the image store (PodImages' `ImageStore`): its blocking work on
/// threads of their own, off the cooperative pool, and its errors as runtime errors.
extension ImageStore {
    /// Imports a spooled rootfs tarball (consumed) as the one-layer image `name`.
    public func importUpload(_ name: ImageName, path: String) async throws(RuntimeError) -> StoredImage {
        let now = RuntimeClock.now().description
        let result: Result<StoredImage, ImageStoreError> = await Self.offPool {
            do throws(ImageStoreError) { return .success(try self.importRootfs(tarPath: path, name: name, now: now)) } catch { return .failure(error) }
        }
        UploadSpool.remove(path)
        do { return try result.get() } catch { throw error.runtimeError }
    }

    /// Loads every image of a spooled archive (consumed).
    public func loadUpload(path: String) async throws(RuntimeError) -> [StoredImage] {
        let now = RuntimeClock.now().description
        let result: Result<[StoredImage], ImageStoreError> = await Self.offPool {
            do throws(ImageStoreError) { return .success(try self.loadArchive(path: path, now: now)) } catch { return .failure(error) }
        }
        UploadSpool.remove(path)
        do { return try result.get() } catch { throw error.runtimeError }
    }

    /// The image a container's reference resolves to, the name it matched (a short name's
    /// local image, or the name itself) and kubelet's `imageID` for it (`REPO@sha256:...`).
    public func resolveForStatus(_ name: ImageName) -> (name: ImageName, imageID: String)? {
        if let local = Self.localName(name), let image = image(named: local) { return (local, image.imageID(for: local)) }
        guard let image = image(named: name) else { return nil }
        return (name, image.imageID(for: name))
    }

    /// `body`'s value, computed on a thread of its own.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { done in
            DetachedThread.run { done.resume(returning: body()) }
        }
    }

    /// Random lowercase hex (container IDs).
    static func randomHex(_ bytes: Int) -> String {
        var g = SystemRandomNumberGenerator()
        return (0..<bytes).map { _ in
            let s = String(UInt8.random(in: 0...255, using: &g), radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined()
    }
}

extension ImageStoreError {
    /// What the API answers.
    public var runtimeError: RuntimeError {
        switch kind {
        case .invalidInput: return .invalidRequest(message)
        case .notFound: return .notFound(kind: "images", name: "", detail: message)
        case .conflict: return .conflict(kind: "images", name: "", reason: message)
        case .storage: return isDiskFull ? .insufficientStorage(what: "cannot store the image", reason: message) : .internalError(message)
        }
    }
}

extension StoredImage {
    /// The API's view of an image (`podctl image ls -o json`, `image inspect`): docker's
    /// inspect fields, plus a Kubernetes-style metadata for `-o name`.
    public var json: JSONValue {
        let c = configuration.config
        var config: [(String, JSONValue)] = []
        if !c.user.isEmpty { config.append(("User", .string(c.user))) }
        if !c.env.isEmpty { config.append(("Env", .array(c.env.map { .string($0) }))) }
        if !c.entrypoint.isEmpty { config.append(("Entrypoint", .array(c.entrypoint.map { .string($0) }))) }
        if !c.cmd.isEmpty { config.append(("Cmd", .array(c.cmd.map { .string($0) }))) }
        if !c.workingDir.isEmpty { config.append(("WorkingDir", .string(c.workingDir))) }
        if !c.exposedPorts.isEmpty { config.append(("ExposedPorts", .object(JSONObject(c.exposedPorts.sorted().map { ($0, .object(JSONObject())) })))) }
        if !c.labels.isEmpty { config.append(("Labels", .object(JSONObject(c.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })))) }
        if let stop = c.stopSignal { config.append(("StopSignal", .string(stop))) }
        if !c.volumes.isEmpty { config.append(("Volumes", .object(JSONObject(c.volumes.sorted().map { ($0, .object(JSONObject())) })))) }
        var members: [(String, JSONValue)] = [
            ("apiVersion", "podd.io/v1"), ("kind", "Image"),
            ("metadata", .object(JSONObject([("name", .string(names.first?.description ?? id.encoded)),
                                             ("creationTimestamp", .string(storedAt))]))),
            ("Id", .string(id.description)),
            ("RepoTags", .array(names.filter { $0.tag != nil }.map { .string($0.description) })),
            ("RepoDigests", .array(repoDigests.map { .string($0) })),
            ("Digest", .string(repoDigest.description)),
            ("ManifestDigest", .string(manifestDigest.description)),
            ("Created", .string(configuration.created ?? storedAt)),
            ("Architecture", .string(configuration.architecture)),
            ("Os", .string(configuration.os)),
        ]
        if let variant = configuration.variant { members.append(("Variant", .string(variant))) }
        if let author = configuration.author { members.append(("Author", .string(author))) }
        members += [
            ("Config", .object(JSONObject(config))),
            ("RootFS", .object(JSONObject([("Type", "layers"), ("Layers", .array(layers.map { .string($0.diffID.description) }))]))),
            ("Size", .int(size)),
        ]
        return .object(JSONObject(members))
    }
}
