import Glibc
import PodJSON

/// Taking images in from files: `podctl image load` (docker-archive, oci-archive, an OCI
/// layout) and `podctl image import` (a root filesystem, as a one-layer image).
extension ImageStore {
    /// Loads every image of an archive at `path` (a tar, gzip'd or not, or zstd): a
    /// docker-archive (`docker save`, `podman save`: manifest.json with RepoTags; legacy
    /// `ID/layer.tar` layers and docker 25's `blobs/sha256/...` alike) or an oci-archive (a
    /// tar of an OCI layout; names from the `io.containerd.image.name` or
    /// `org.opencontainers.image.ref.name` annotations). Every image is verified and unpacked
    /// before any is recorded: a bad archive changes nothing. Names without a registry become
    /// `localhost/NAME:TAG`, as podman names them. `path` stays the caller's.
    public func loadArchive(path: String, now: String) throws(ImageStoreError) -> [StoredImage] {
        let staging = try makeStaging("load")
        defer { staging.close() }
        let root = staging.directory + "/archive"
        try StoreFiles.makeDirectories(root, mode: 0o700)
        do {
            _ = try LayerUnpacker.unpack(blobPath: path, compression: sniffCompression(path: path), into: root, what: "the archive")
        } catch {
            if error.kind == .invalidInput { throw ImageStoreError.invalid("cannot load the archive: \(error.message)") }
            throw error
        }
        let staged: [(StagedImage, [ImageName])]
        if StoreFiles.exists(root + "/manifest.json") {
            staged = try stageDockerArchive(root, staging: staging)
        } else if OCILayout(root: root).isLayout {
            staged = try stageLayout(OCILayout(root: root), staging: staging)
        } else {
            throw ImageStoreError.invalid("cannot load the archive: it is neither a docker-archive (no manifest.json) nor an OCI archive (no oci-layout and index.json)")
        }
        guard !staged.isEmpty else { throw ImageStoreError.invalid("cannot load the archive: it holds no image") }
        var out: [StoredImage] = []
        for (image, names) in staged { out.append(try commit(image, names: names, now: now)) }
        return out
    }

    /// `docker save`'s format: manifest.json lists each image's config file, layer files
    /// (bottom first) and RepoTags.
    func stageDockerArchive(_ root: String, staging: ImageStaging) throws(ImageStoreError) -> [(StagedImage, [ImageName])] {
        let json: JSONValue
        do { json = try JSONValue.parse(try StoreFiles.read(root + "/manifest.json")) } catch {
            throw ImageStoreError.invalid("cannot load the archive: manifest.json is not valid JSON")
        }
        guard let entries = json.arrayValue else { throw ImageStoreError.invalid("cannot load the archive: manifest.json is not a list") }
        var out: [(StagedImage, [ImageName])] = []
        for (i, entry) in entries.enumerated() {
            let what = "image \(i + 1) of the archive"
            guard let config = entry["Config"]?.stringValue, let layers = entry["Layers"]?.arrayValue?.compactMap(\.stringValue) else {
                throw ImageStoreError.invalid("\(what): manifest.json needs Config and Layers")
            }
            let names = try (entry["RepoTags"]?.arrayValue ?? []).compactMap(\.stringValue).map { text throws(ImageStoreError) in
                try Self.localName(text, what: what)
            }
            let image = try staging.stage(what: names.first.map { "image \($0)" } ?? what,
                                          configBytes: try StoreFiles.read(try Self.member(root, config, what: what)),
                                          expectedConfig: nil, manifest: nil, indexDigest: nil,
                                          layers: try layers.map { layer throws(ImageStoreError) in
                                              LayerInput(path: try Self.member(root, layer, what: what))
                                          })
            out.append((image, names))
        }
        return out
    }

    /// An OCI layout's images: one per index.json entry (an entry that is an index gives
    /// the manifest for this machine's platform).
    public func stageLayout(_ layout: OCILayout, staging: ImageStaging) throws(ImageStoreError) -> [(StagedImage, [ImageName])] {
        let index: ImageIndex
        do { index = try layout.readIndex() } catch { throw ImageStoreError.invalid("cannot load the OCI layout: \(error)") }
        var out: [(StagedImage, [ImageName])] = []
        for (i, entry) in index.manifests.enumerated() {
            var what = "image \(i + 1) of the OCI layout"
            let nameText = entry.annotations[Descriptor.containerdImageNameAnnotation] ?? entry.annotations[Descriptor.refNameAnnotation]
            let names = try nameText.map { text throws(ImageStoreError) in [try Self.localName(text, what: what)] } ?? []
            if let name = names.first { what = "image \(name)" }
            var manifestDigest = entry.digest
            var indexDigest: Digest?
            if MediaType.isIndex(entry.mediaType) {
                let bytes = try StoreFiles.read(layout.blobPath(entry.digest))
                guard Digest.sha256(of: bytes) == entry.digest else {
                    throw ImageStoreError.invalid("\(what): the index blob does not match its digest \(entry.digest) (a corrupted blob)")
                }
                let nested: ManifestDocument
                do { nested = try ManifestDocument.parse(bytes, contentType: entry.mediaType) } catch {
                    throw ImageStoreError.invalid("\(what): \(error)")
                }
                guard case let .index(list) = nested, let picked = list.manifest(for: .host) else {
                    throw ImageStoreError.invalid("\(what): no manifest for \(Platform.host) in its index")
                }
                manifestDigest = picked.digest
                indexDigest = entry.digest
            } else if !MediaType.isManifest(entry.mediaType) {
                continue
            }
            if let j = out.firstIndex(where: { $0.0.manifestDigest == manifestDigest }) {
                out[j].1 += names
                continue
            }
            let image = try staging.stage(layout: layout, manifestDigest: manifestDigest, indexDigest: indexDigest, what: what,
                                          blobPath: layout.blobPath)
            out.append((image, names))
        }
        return out
    }

    /// Makes a one-layer image `name` of the root filesystem tarball at `tarPath` (plain,
    /// gzip or zstd; moved into the store as the layer's blob), with an empty config.
    public func importRootfs(tarPath: String, name: ImageName, now: String) throws(ImageStoreError) -> StoredImage {
        let staging = try makeStaging("import")
        defer { staging.close() }
        let target = staging.directory + "/layer"
        try StoreFiles.makeDirectories(target)
        let compression = sniffCompression(path: tarPath)
        let result: LayerUnpacker.Result
        do {
            result = try LayerUnpacker.unpack(blobPath: tarPath, compression: compression, into: target, what: "the root filesystem archive")
        } catch {
            if error.kind == .invalidInput { throw ImageStoreError.invalid("cannot import image \(name): \(error.message)") }
            throw error
        }
        let platform = Platform.host
        var members: [(String, JSONValue)] = [("created", .string(now)), ("architecture", .string(platform.architecture)), ("os", "linux")]
        if let variant = platform.variant { members.append(("variant", .string(variant))) }
        members += [("config", .object(JSONObject())),
                    ("rootfs", .object(JSONObject([("type", "layers"), ("diff_ids", .array([.string(result.diffID.description)]))]))),
                    ("history", .array([.object(JSONObject([("created", .string(now)), ("created_by", "podctl image import")]))]))]
        let configBytes = JSONValue.object(JSONObject(members)).serialized()
        let configDigest = Digest.sha256(of: configBytes)
        let configuration: ImageConfiguration
        do { configuration = try ImageConfiguration(bytes: configBytes) } catch { throw ImageStoreError.invalid("\(error)") }
        let mediaType: String
        switch compression {
        case .none: mediaType = MediaType.ociLayer
        case .gzip: mediaType = MediaType.ociLayerGzip
        case .zstd: mediaType = MediaType.ociLayerZstd
        }
        let manifest = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                     layers: [Descriptor(mediaType: mediaType, digest: result.blobDigest, size: StoreFiles.size(tarPath) ?? 0)])
        let manifestBytes = manifest.json.serialized()
        let manifestDigest = Digest.sha256(of: manifestBytes)
        let configPath = staging.directory + "/config"
        let manifestPath = staging.directory + "/manifest"
        try StoreFiles.writeAtomically(configPath, configBytes)
        try StoreFiles.writeAtomically(manifestPath, manifestBytes)
        let staged = StagedImage(id: configDigest, manifestDigest: manifestDigest, indexDigest: nil, configuration: configuration,
                                 layers: [StoredImage.Layer(diffID: result.diffID, blob: result.blobDigest, mediaType: mediaType, size: result.size)],
                                 blobs: [configDigest: configPath, manifestDigest: manifestPath, result.blobDigest: tarPath],
                                 layerDirectories: [result.diffID: target])
        return try commit(staged, names: [name], now: now)
    }

    /// A name from an archive: one without a registry is local (`localhost/NAME:TAG`).
    static func localName(_ text: String, what: String) throws(ImageStoreError) -> ImageName {
        let name: ImageName
        do { name = try ImageName(parsing: text) } catch {
            throw ImageStoreError.invalid("\(what): its name \"\(text)\" is not a valid image reference: \(error)")
        }
        return localName(name) ?? name
    }

    /// A file named by manifest.json, inside the archive only.
    static func member(_ root: String, _ path: String, what: String) throws(ImageStoreError) -> String {
        let parts = path.split(separator: "/").filter { $0 != "." }
        guard !path.hasPrefix("/"), !parts.isEmpty, !parts.contains("..") else {
            throw ImageStoreError.invalid("\(what): manifest.json names \"\(path)\", which is outside the archive")
        }
        // Every component, not only the last, must be what it seems: a symlink among them
        // could lead out of the archive.
        var full = root
        for (i, part) in parts.enumerated() {
            full += "/" + part
            var st = stat()
            let wanted = i == parts.count - 1 ? S_IFREG : S_IFDIR
            guard lstat(full, &st) == 0, (st.st_mode & S_IFMT) == wanted else {
                throw ImageStoreError.invalid("\(what): manifest.json names \"\(path)\", which is not a file of the archive")
            }
        }
        return full
    }
}
