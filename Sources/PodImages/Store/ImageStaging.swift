import Glibc
import PodJSON

/// An image verified and unpacked in the store's `.incoming`, ready to be committed.
public struct StagedImage: Sendable {
    public var id: Digest
    public var manifestDigest: Digest
    public var indexDigest: Digest?
    public var configuration: ImageConfiguration
    public var layers: [StoredImage.Layer]
    /// Blob files to move into the store, by digest.
    var blobs: [Digest: String]
    /// Unpacked layers to move into the store, by diff_id.
    var layerDirectories: [Digest: String]
}

/// A layer as it comes: a file (in an archive, a layout, the store) and what it should be.
public struct LayerInput: Sendable {
    public var path: String
    /// nil: taken from the file's first bytes (docker-archive layers have no media type).
    public var mediaType: String?
    /// The blob digest a manifest promised, checked; nil when none was (docker-archive).
    public var expectedDigest: Digest?
    public var expectedSize: Int64?

    public init(path: String, mediaType: String? = nil, expectedDigest: Digest? = nil, expectedSize: Int64? = nil) {
        self.path = path
        self.mediaType = mediaType
        self.expectedDigest = expectedDigest
        self.expectedSize = expectedSize
    }
}

/// A work directory in the store's `.incoming` where one image (or one archive's images)
/// is verified and unpacked before it is committed; removed, whatever happened, when it is
/// closed.
public final class ImageStaging: @unchecked Sendable {
    public let store: ImageStore
    public let directory: String
    private var closed = false

    init(store: ImageStore, directory: String) {
        self.store = store
        self.directory = directory
    }

    deinit { close() }

    /// Removes the work directory (what was committed has been moved out of it).
    public func close() {
        guard !closed else { return }
        closed = true
        try? TreeRemoval.remove(directory)
        store.stagingEnded()
    }

    /// Verifies and unpacks an image whose config is `configBytes`: every layer's blob is
    /// checked against what the manifest promised and its uncompressed tar against the
    /// config's diff_id, while it is unpacked (once: a layer the store has is not unpacked
    /// again). With no manifest (a docker-archive, a rootfs import), an OCI manifest is
    /// made. `what` names the image in errors.
    public func stage(what: String, configBytes: [UInt8], expectedConfig: Digest?, manifest: (bytes: [UInt8], digest: Digest)?,
                      indexDigest: Digest?, layers: [LayerInput]) throws(ImageStoreError) -> StagedImage {
        let configDigest = Digest.sha256(of: configBytes)
        if let expectedConfig, expectedConfig != configDigest {
            throw ImageStoreError.invalid("\(what): the config blob's digest is \(configDigest), not \(expectedConfig) (a corrupted blob)")
        }
        let configuration: ImageConfiguration
        do { configuration = try ImageConfiguration(bytes: configBytes) } catch { throw ImageStoreError.invalid("\(what): \(error)") }
        guard configuration.diffIDs.count == layers.count else {
            throw ImageStoreError.invalid("\(what): the config lists \(configuration.diffIDs.count) layers (rootfs.diff_ids), the manifest \(layers.count)")
        }
        var blobs: [Digest: String] = [:]
        var layerDirectories: [Digest: String] = [:]
        var stored: [StoredImage.Layer] = []
        let configPath = directory + "/config-" + configDigest.encoded
        try StoreFiles.writeAtomically(configPath, configBytes)
        blobs[configDigest] = configPath
        for (i, input) in layers.enumerated() {
            let diffID = configuration.diffIDs[i]
            let layerWhat = "\(what): layer \(i + 1) of \(layers.count)"
            if let expectedSize = input.expectedSize, let size = StoreFiles.size(input.path), size != expectedSize {
                throw ImageStoreError.invalid("\(layerWhat): the blob is \(size) bytes, the manifest says \(expectedSize) (a truncated or corrupted blob)")
            }
            let compression: MediaType.Compression
            if let mediaType = input.mediaType {
                guard let c = MediaType.layerCompression(mediaType) else {
                    throw ImageStoreError.invalid("\(layerWhat): unsupported layer media type \"\(mediaType)\"")
                }
                compression = c
            } else {
                compression = sniffCompression(path: input.path)
            }
            let mediaType = input.mediaType ?? {
                switch compression {
                case .none: return MediaType.ociLayer
                case .gzip: return MediaType.ociLayerGzip
                case .zstd: return MediaType.ociLayerZstd
                }
            }()
            let blobDigest: Digest
            let size: Int64
            if let existing = store.list().flatMap(\.layers).first(where: { $0.diffID == diffID }),
               StoreFiles.isDirectory(store.layerPath(diffID)) {
                // The layer is unpacked already: only the blob is checked.
                if let expected = input.expectedDigest, input.path == store.blobPath(expected) {
                    blobDigest = expected
                } else {
                    blobDigest = try StoreFiles.digest(of: input.path).0
                }
                size = existing.size
            } else if layerDirectories[diffID] != nil, let previous = stored.first(where: { $0.diffID == diffID }) {
                blobDigest = try StoreFiles.digest(of: input.path).0
                size = previous.size
            } else {
                let target = directory + "/layer-" + diffID.encoded
                try? TreeRemoval.remove(target)
                try StoreFiles.makeDirectories(target, mode: 0o755)
                let result = try LayerUnpacker.unpack(blobPath: input.path, compression: compression, into: target, what: layerWhat)
                guard result.diffID == diffID else {
                    throw ImageStoreError.invalid("\(layerWhat): its uncompressed content's digest is \(result.diffID), the config says \(diffID) (a corrupted layer)")
                }
                layerDirectories[diffID] = target
                blobDigest = result.blobDigest
                size = result.size
            }
            if let expected = input.expectedDigest, expected != blobDigest {
                throw ImageStoreError.invalid("\(layerWhat): the blob's digest is \(blobDigest), the manifest says \(expected) (a corrupted blob)")
            }
            if !store.hasBlob(blobDigest) { blobs[blobDigest] = input.path }
            stored.append(StoredImage.Layer(diffID: diffID, blob: blobDigest, mediaType: mediaType, size: size))
        }
        let manifestBytes: [UInt8]
        let manifestDigest: Digest
        if let manifest {
            manifestBytes = manifest.bytes
            manifestDigest = Digest.sha256(of: manifest.bytes)
            guard manifestDigest == manifest.digest else {
                throw ImageStoreError.invalid("\(what): the manifest's digest is \(manifestDigest), not \(manifest.digest) (a corrupted blob)")
            }
        } else {
            let made = ImageManifest(config: Descriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configBytes.count)),
                                     layers: stored.map { Descriptor(mediaType: $0.mediaType, digest: $0.blob, size: StoreFiles.size(blobs[$0.blob] ?? store.blobPath($0.blob)) ?? 0) })
            manifestBytes = made.json.serialized()
            manifestDigest = Digest.sha256(of: manifestBytes)
        }
        let manifestPath = directory + "/manifest-" + manifestDigest.encoded
        try StoreFiles.writeAtomically(manifestPath, manifestBytes)
        blobs[manifestDigest] = manifestPath
        return StagedImage(id: configDigest, manifestDigest: manifestDigest, indexDigest: indexDigest, configuration: configuration,
                           layers: stored, blobs: blobs, layerDirectories: layerDirectories)
    }

    /// Stages the image of an OCI layout's manifest `manifestDigest` (picked from `index`, if
    /// one). The layout must be on the store's filesystem (its blobs are moved, not copied).
    public func stage(layout: OCILayout, manifestDigest: Digest, indexDigest: Digest?, what: String,
                      blobPath: (Digest) -> String) throws(ImageStoreError) -> StagedImage {
        let manifestBytes = try StoreFiles.read(blobPath(manifestDigest))
        let document: ManifestDocument
        do { document = try ManifestDocument.parse(manifestBytes, contentType: nil) } catch {
            throw ImageStoreError.invalid("\(what): \(error)")
        }
        guard case let .manifest(manifest) = document else {
            throw ImageStoreError.invalid("\(what): \(manifestDigest) is an index, not an image manifest")
        }
        let configBytes = try StoreFiles.read(blobPath(manifest.config.digest))
        return try stage(what: what, configBytes: configBytes, expectedConfig: manifest.config.digest,
                         manifest: (manifestBytes, manifestDigest), indexDigest: indexDigest,
                         layers: manifest.layers.map {
                             LayerInput(path: blobPath($0.digest), mediaType: $0.mediaType, expectedDigest: $0.digest, expectedSize: $0.size)
                         })
    }
}
