import PodJSON

/// An image in the store: its config (whose digest is its ID, as docker and podman count
/// it), its manifest, its layers (bottom first) and the names that point at it.
public struct StoredImage: Sendable, Equatable {
    /// One layer: unpacked once by its diff_id, shared by every image that has it.
    public struct Layer: Sendable, Equatable {
        /// The sha256 of the uncompressed tar (the unpacked directory's name).
        public var diffID: Digest
        /// The blob as stored (compressed or not) and its media type.
        public var blob: Digest
        public var mediaType: String
        /// The uncompressed tar's size: what a layer adds to an image's SIZE.
        public var size: Int64
    }

    /// The config digest.
    public var id: Digest
    /// Normalised names (`docker.io/library/nginx:1.27`, `localhost/busybox:latest`).
    public var names: [ImageName]
    public var manifestDigest: Digest
    /// The index the manifest was picked from, if any.
    public var indexDigest: Digest?
    public var configuration: ImageConfiguration
    public var layers: [Layer]
    /// When the store took it in (RFC 3339).
    public var storedAt: String

    /// The digest `imageID` and `--digests` show: the index's when there was one (what a
    /// registry resolves the tag to), else the manifest's.
    public var repoDigest: Digest { indexDigest ?? manifestDigest }

    /// `REPO@sha256:...` for each repository the image is named in, as docker's RepoDigests.
    public var repoDigests: [String] {
        var seen: [String] = []
        for name in names where !seen.contains(name.pinned(to: repoDigest)) { seen.append(name.pinned(to: repoDigest)) }
        return seen
    }

    /// The sum of the layers' sizes.
    public var size: Int64 { layers.reduce(0) { $0 + $1.size } }

    /// What kubelet shows as a container's imageID: `REPO@sha256:DIGEST` for the name the
    /// container asked for.
    public func imageID(for name: ImageName) -> String { name.pinned(to: repoDigest) }

    var recordJSON: JSONValue {
        var members: [(String, JSONValue)] = [
            ("id", .string(id.description)),
            ("names", .array(names.map { .string($0.description) })),
            ("manifest", .string(manifestDigest.description)),
        ]
        if let indexDigest { members.append(("index", .string(indexDigest.description))) }
        members.append(("layers", .array(layers.map { layer in
            .object(JSONObject([("diffID", .string(layer.diffID.description)), ("blob", .string(layer.blob.description)),
                                ("mediaType", .string(layer.mediaType)), ("size", .int(layer.size))]))
        })))
        members.append(("storedAt", .string(storedAt)))
        return .object(JSONObject(members))
    }

    /// Reads a record; the config comes from its blob.
    init?(record: JSONValue, readConfiguration: (Digest) -> ImageConfiguration?) {
        guard let id = record["id"]?.stringValue.flatMap(Digest.init), let manifest = record["manifest"]?.stringValue.flatMap(Digest.init),
              let config = readConfiguration(id) else { return nil }
        self.id = id
        manifestDigest = manifest
        indexDigest = record["index"]?.stringValue.flatMap(Digest.init)
        names = (record["names"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap { try? ImageName(parsing: $0) } }
        layers = (record["layers"]?.arrayValue ?? []).compactMap { l in
            guard let diffID = l["diffID"]?.stringValue.flatMap(Digest.init), let blob = l["blob"]?.stringValue.flatMap(Digest.init) else { return nil }
            return Layer(diffID: diffID, blob: blob, mediaType: l["mediaType"]?.stringValue ?? MediaType.ociLayer, size: l["size"]?.intValue ?? 0)
        }
        guard layers.count == config.diffIDs.count else { return nil }
        configuration = config
        storedAt = record["storedAt"]?.stringValue ?? ""
    }

    init(id: Digest, names: [ImageName], manifestDigest: Digest, indexDigest: Digest?, configuration: ImageConfiguration,
         layers: [Layer], storedAt: String) {
        self.id = id
        self.names = names
        self.manifestDigest = manifestDigest
        self.indexDigest = indexDigest
        self.configuration = configuration
        self.layers = layers
        self.storedAt = storedAt
    }
}
