import Glibc
import PodJSON
import Synchronization

/// podd's content-addressed image store, under `STATE/images`:
///
/// - `blobs/sha256/HEX`: manifests, indexes, configs and layer blobs, by digest;
/// - `layers/HEX`: each layer unpacked once, named by its diff_id, and shared by every image
///   that has it: a container's root is an overlay of its image's layers (top first) under
///   the container's own upper dir;
/// - `images.json`: the images (config digest -> manifest, layers, names), rewritten whole
///   and atomically;
/// - `.incoming/`: uploads, archives and pulls being taken in. Nothing there is ever
///   referenced: an image is staged there whole (blobs verified, layers unpacked) and then
///   renamed into place, so a failed or interrupted load leaves no trace. What a crashed podd
///   left there, and any blob or layer no image refers to, is removed when the store opens.
public final class ImageStore: Sendable {
    public let root: String

    private struct State: Sendable {
        var images: [StoredImage] = []
        /// Stagings in progress: prune keeps blobs and layers while one may count on them.
        var stagings = 0
    }

    private let state: Mutex<State>
    /// Called after every change of the images or their names (`onChange`).
    private let changeHandlers = Mutex<[@Sendable () -> Void]>([])

    public var blobsDirectory: String { root + "/blobs/sha256" }
    public var layersDirectory: String { root + "/layers" }
    public var incomingDirectory: String { root + "/.incoming" }
    var recordsPath: String { root + "/images.json" }

    public init(root: String) throws(ImageStoreError) {
        self.root = root
        state = Mutex(State())
        try StoreFiles.makeDirectories(root, mode: 0o700)
        for dir in [root + "/blobs", blobsDirectory, layersDirectory, incomingDirectory] {
            try StoreFiles.makeDirectories(dir, mode: 0o700)
        }
        // chmod: the layers are the containers' lower dirs; their owners and modes inside
        // are the image's, the store itself stays root's.
        chmod(layersDirectory, 0o711)
        chmod(root, 0o711)
        for leftover in StoreFiles.list(incomingDirectory) {
            try? TreeRemoval.remove(incomingDirectory + "/" + leftover)
        }
        let images = try readRecords()
        state.withLock { $0.images = images }
        removeUnreferenced()
    }

    // MARK: Reading

    public func list() -> [StoredImage] { state.withLock { $0.images } }

    /// The image a name points at, exactly as normalised.
    public func image(named name: ImageName) -> StoredImage? {
        state.withLock { s in
            if let digest = name.digest {
                return s.images.first { image in
                    (image.repoDigest == digest || image.manifestDigest == digest) && image.names.contains { $0.repository == name.repository }
                }
            }
            return s.images.first { $0.names.contains(name) }
        }
    }

    /// The image a pod's or a user's reference means: a short name matching a local image
    /// (`busybox` -> `localhost/busybox:latest`) uses it; else the name itself.
    public func resolve(_ name: ImageName) -> StoredImage? {
        if let local = Self.localName(name), let image = image(named: local) { return image }
        return image(named: name)
    }

    /// The local name a short name means (`busybox` -> `localhost/busybox:latest`,
    /// `team/app:1` -> `localhost/team/app:1`), as podman looks short names up; nil for a
    /// name that gave a registry.
    public static func localName(_ name: ImageName) -> ImageName? {
        guard name.isShortName else { return name.isLocal ? name : nil }
        if let candidate = name.localCandidate { return candidate }
        return try? ImageName(domain: ImageName.localDomain, path: name.path, tag: name.tag, digest: name.digest)
    }

    /// The image `text` means: a name, a full or short (>= 3 hex digits) image ID, or
    /// `sha256:ID`.
    public func find(_ text: String) -> StoredImage? {
        var hex = Substring(text)
        if hex.hasPrefix("sha256:") { hex = hex.dropFirst(7) }
        if hex.count >= 3, hex.count <= 64, hex.utf8.allSatisfy(Digest.isLowerHex) {
            let matches = state.withLock { s in s.images.filter { $0.id.encoded.hasPrefix(hex) } }
            if matches.count == 1 { return matches[0] }
        }
        guard let name = try? ImageName(parsing: text) else { return nil }
        return resolve(name)
    }

    /// The overlay lower directories of an image's root, top layer first.
    public func lowerDirectories(_ image: StoredImage) -> [String] {
        image.layers.reversed().map { layerPath($0.diffID) }
    }

    public func layerPath(_ diffID: Digest) -> String { layersDirectory + "/" + diffID.encoded }
    public func blobPath(_ digest: Digest) -> String { blobsDirectory + "/" + digest.encoded }

    /// Whether the store has the blob (a fetch skips it).
    public func hasBlob(_ digest: Digest) -> Bool { StoreFiles.exists(blobPath(digest)) }

    /// Bytes the store's blobs and unpacked layers take, each counted once however many
    /// images and containers share it (the layers as their uncompressed tar sizes).
    public func diskUsage() -> Int64 {
        var total: Int64 = 0
        for name in StoreFiles.list(blobsDirectory) { total += StoreFiles.size(blobsDirectory + "/" + name) ?? 0 }
        var layers: [Digest: Int64] = [:]
        for layer in list().flatMap(\.layers) { layers[layer.diffID] = layer.size }
        return total + layers.values.reduce(0, +)
    }

    // MARK: Names

    /// Adds `name` to the image `id` (taking it from whichever image had it).
    public func tag(_ id: Digest, as name: ImageName) throws(ImageStoreError) {
        try mutate { s throws(ImageStoreError) in
            guard s.images.contains(where: { $0.id == id }) else { throw ImageStoreError(.notFound, "image \(id.shortID) not found") }
            for i in s.images.indices { s.images[i].names.removeAll { $0 == name } }
            if let i = s.images.firstIndex(where: { $0.id == id }) { s.images[i].names.append(name) }
        }
    }

    /// What `untag` does when the name is its image's last one.
    public enum LastName: Sendable {
        /// The image goes with it, with its unshared layers and blobs.
        case removeImage
        /// The image stays, without a name (a pod still runs it).
        case keepImage
        /// Nothing changes: the caller refuses (a pod uses the image).
        case refuse
    }

    /// What `untag` did.
    public enum Untagged: Sendable, Equatable {
        /// The name went; the image stays (under its other names, or none).
        case name
        /// The name and its image went.
        case nameAndImage
        /// Nothing: the name is the image's last and `LastName.refuse` was asked.
        case refusedLastName
    }

    /// Removes a name. An image with other names just loses that one, as `docker rmi` and
    /// `podman rmi` untag; `lastName` says what happens when it was the only one. Decided
    /// under the store's lock, so that two removals of an image's names cannot both think
    /// the other name remains.
    @discardableResult
    public func untag(_ name: ImageName, lastName: LastName) throws(ImageStoreError) -> Untagged {
        var outcome = Untagged.name
        let refusal = ImageStoreError(.conflict, "\(name) is its image's last name")
        do {
            try mutate { s throws(ImageStoreError) in
                guard let i = s.images.firstIndex(where: { $0.names.contains(name) }) else {
                    throw ImageStoreError(.notFound, "image \(name) not found")
                }
                if s.images[i].names.allSatisfy({ $0 == name }) {
                    switch lastName {
                    case .refuse:
                        // Thrown so that mutate writes nothing; answered below.
                        outcome = .refusedLastName
                        throw refusal
                    case .removeImage:
                        s.images.remove(at: i)
                        outcome = .nameAndImage
                        return
                    case .keepImage:
                        break
                    }
                }
                s.images[i].names.removeAll { $0 == name }
            }
        } catch {
            if outcome == .refusedLastName { return outcome }
            throw error
        }
        if outcome == .nameAndImage { removeUnreferenced() }
        return outcome
    }

    /// Removes an image and all its names.
    public func remove(_ id: Digest) throws(ImageStoreError) {
        try mutate { s throws(ImageStoreError) in
            guard let i = s.images.firstIndex(where: { $0.id == id }) else { throw ImageStoreError(.notFound, "image \(id.shortID) not found") }
            s.images.remove(at: i)
        }
        removeUnreferenced()
    }

    /// Removes the images not in `inUse`: all of them (`all`), or only those without a name
    /// (dangling, as `podman image prune` without -a). Returns what went.
    public func prune(inUse: Set<Digest>, all: Bool) throws(ImageStoreError) -> [StoredImage] {
        var removed: [StoredImage] = []
        try mutate { s throws(ImageStoreError) in
            removed = s.images.filter { !inUse.contains($0.id) && (all || $0.names.isEmpty) }
            s.images.removeAll { image in removed.contains { $0.id == image.id } }
        }
        removeUnreferenced()
        return removed
    }

    // MARK: Taking images in

    /// A work directory in `.incoming` for an image being taken in.
    public func makeStaging(_ purpose: String) throws(ImageStoreError) -> ImageStaging {
        let path = "\(incomingDirectory)/\(purpose)-\(StoreFiles.randomHex(8))"
        try StoreFiles.makeDirectories(path, mode: 0o700)
        state.withLock { $0.stagings += 1 }
        return ImageStaging(store: self, directory: path)
    }

    func stagingEnded() { state.withLock { $0.stagings -= 1 } }

    /// Moves a staged image's blobs and layers into the store and records it under `names`
    /// (each taken from any image that had it). All or nothing: what was moved in is taken
    /// out again when the records cannot be written.
    public func commit(_ image: StagedImage, names: [ImageName], now: String) throws(ImageStoreError) -> StoredImage {
        var moved: [String] = []
        func undo() { for path in moved { try? TreeRemoval.remove(path) } }
        var result: StoredImage?
        do {
            try mutate { s throws(ImageStoreError) in
                for (digest, source) in image.blobs.sorted(by: { $0.key < $1.key }) where !hasBlob(digest) {
                    guard rename(source, blobPath(digest)) == 0 else { throw ImageStoreError.system("store blob \(digest)") }
                    moved.append(blobPath(digest))
                }
                for layer in image.layers where !StoreFiles.isDirectory(layerPath(layer.diffID)) {
                    guard let source = image.layerDirectories[layer.diffID] else {
                        throw ImageStoreError(.conflict, "layer \(layer.diffID) was removed from the store while the image was taken in (image prune?); try again")
                    }
                    guard rename(source, layerPath(layer.diffID)) == 0 else { throw ImageStoreError.system("store layer \(layer.diffID)") }
                    moved.append(layerPath(layer.diffID))
                }
                if !moved.isEmpty {
                    StoreFiles.syncDirectory(blobsDirectory)
                    StoreFiles.syncDirectory(layersDirectory)
                }
                for i in s.images.indices { s.images[i].names.removeAll { names.contains($0) } }
                if let i = s.images.firstIndex(where: { $0.id == image.id }) {
                    s.images[i].names += names
                    if s.images[i].indexDigest == nil { s.images[i].indexDigest = image.indexDigest }
                    result = s.images[i]
                } else {
                    let stored = StoredImage(id: image.id, names: names, manifestDigest: image.manifestDigest, indexDigest: image.indexDigest,
                                             configuration: image.configuration, layers: image.layers, storedAt: now)
                    s.images.append(stored)
                    result = stored
                }
            }
        } catch {
            undo()
            throw error
        }
        guard let result else { throw ImageStoreError(.conflict, "image \(image.id.shortID) was not recorded") }
        return result
    }

    /// Runs `change` on the records under the lock and writes them; when they cannot be
    /// written, nothing changed.
    private func mutate(_ change: (inout State) throws(ImageStoreError) -> Void) throws(ImageStoreError) {
        try state.withLock { s throws(ImageStoreError) in
            var next = s
            try change(&next)
            let json = JSONValue.object(JSONObject([("images", .array(next.images.map(\.recordJSON)))]))
            try StoreFiles.writeAtomically(recordsPath, json.serialized())
            s = next
        }
        for handler in changeHandlers.withLock({ $0 }) { handler() }
    }

    /// Registers `handler`, called (outside the store's lock) after each change of the
    /// images or of their names: an image taken in, tagged, untagged, removed or pruned.
    public func onChange(_ handler: @escaping @Sendable () -> Void) {
        changeHandlers.withLock { $0.append(handler) }
    }

    private func readRecords() throws(ImageStoreError) -> [StoredImage] {
        guard StoreFiles.exists(recordsPath) else { return [] }
        let bytes = try StoreFiles.read(recordsPath)
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch {
            throw ImageStoreError.invalid("\(recordsPath) is not valid JSON (\(error)); move it away to start with an empty image store")
        }
        return (json["images"]?.arrayValue ?? []).compactMap { record in
            StoredImage(record: record) { id in
                (try? StoreFiles.read(self.blobPath(id))).flatMap { try? ImageConfiguration(bytes: $0) }
            }
        }
    }

    /// Removes blobs and layers no image refers to (an image removed, or a crash between
    /// moving an image in and recording it). Not while an image is being taken in: its
    /// layers may already be counted on.
    private func removeUnreferenced() {
        state.withLock { s in
            guard s.stagings == 0 else { return }
            var blobs = Set<String>()
            var layers = Set<String>()
            for image in s.images {
                blobs.insert(image.id.encoded)
                blobs.insert(image.manifestDigest.encoded)
                if let index = image.indexDigest { blobs.insert(index.encoded) }
                for layer in image.layers {
                    blobs.insert(layer.blob.encoded)
                    layers.insert(layer.diffID.encoded)
                }
            }
            for name in StoreFiles.list(blobsDirectory) where !blobs.contains(name) { unlink(blobsDirectory + "/" + name) }
            for name in StoreFiles.list(layersDirectory) where !layers.contains(name) { try? TreeRemoval.remove(layersDirectory + "/" + name) }
        }
    }
}
