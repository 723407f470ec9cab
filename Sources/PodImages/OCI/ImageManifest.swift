import PodJSON

/// An image manifest (OCI, or Docker schema 2, which has the same shape): the config blob and
/// the layers, bottom first.
public struct ImageManifest: Sendable, Equatable {
    public var mediaType: String
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]
    public var artifactType: String?

    public init(mediaType: String = MediaType.ociManifest, config: Descriptor, layers: [Descriptor],
                annotations: [String: String] = [:], artifactType: String? = nil) {
        self.mediaType = mediaType
        self.config = config
        self.layers = layers
        self.annotations = annotations
        self.artifactType = artifactType
    }

    /// Reads a manifest; `mediaType` is the type it was served or described with, used when
    /// the document does not name its own (OCI makes the member optional).
    public init(json: JSONValue, mediaType fallback: String? = nil) throws(OCIDocumentError) {
        guard json["schemaVersion"]?.intValue == 2 else {
            throw OCIDocumentError("image manifest: schemaVersion must be 2 (schema 1 manifests are not supported)")
        }
        let mediaType = json["mediaType"]?.stringValue ?? fallback ?? MediaType.ociManifest
        guard MediaType.isManifest(mediaType) else { throw OCIDocumentError("image manifest: unexpected mediaType \"\(mediaType)\"") }
        guard let config = json["config"] else { throw OCIDocumentError("image manifest: config is missing") }
        guard let layers = json["layers"]?.arrayValue else { throw OCIDocumentError("image manifest: layers is missing") }
        var decoded: [Descriptor] = []
        for (i, layer) in layers.enumerated() {
            decoded.append(try Descriptor(json: layer, what: "image manifest: layers[\(i)]"))
        }
        self.init(mediaType: mediaType, config: try Descriptor(json: config, what: "image manifest: config"),
                  layers: decoded, annotations: Descriptor.stringMap(json["annotations"]),
                  artifactType: json["artifactType"]?.stringValue)
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("schemaVersion", 2), ("mediaType", .string(mediaType))]
        if let artifactType { members.append(("artifactType", .string(artifactType))) }
        members.append(("config", config.json))
        members.append(("layers", .array(layers.map(\.json))))
        if !annotations.isEmpty { members.append(("annotations", Descriptor.stringMapJSON(annotations))) }
        return .object(JSONObject(members))
    }
}

/// An image index (OCI) or manifest list (Docker): one manifest per platform, and sometimes
/// attestations beside them.
public struct ImageIndex: Sendable, Equatable {
    public var mediaType: String
    public var manifests: [Descriptor]
    public var annotations: [String: String]

    public init(mediaType: String = MediaType.ociIndex, manifests: [Descriptor], annotations: [String: String] = [:]) {
        self.mediaType = mediaType
        self.manifests = manifests
        self.annotations = annotations
    }

    public init(json: JSONValue, mediaType fallback: String? = nil) throws(OCIDocumentError) {
        guard json["schemaVersion"]?.intValue == 2 else { throw OCIDocumentError("image index: schemaVersion must be 2") }
        let mediaType = json["mediaType"]?.stringValue ?? fallback ?? MediaType.ociIndex
        guard MediaType.isIndex(mediaType) else { throw OCIDocumentError("image index: unexpected mediaType \"\(mediaType)\"") }
        guard let manifests = json["manifests"]?.arrayValue else { throw OCIDocumentError("image index: manifests is missing") }
        var decoded: [Descriptor] = []
        for (i, m) in manifests.enumerated() {
            decoded.append(try Descriptor(json: m, what: "image index: manifests[\(i)]"))
        }
        self.init(mediaType: mediaType, manifests: decoded, annotations: Descriptor.stringMap(json["annotations"]))
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("schemaVersion", 2), ("mediaType", .string(mediaType)),
                                              ("manifests", .array(manifests.map(\.json)))]
        if !annotations.isEmpty { members.append(("annotations", Descriptor.stringMapJSON(annotations))) }
        return .object(JSONObject(members))
    }

    /// The manifest for `platform`: the first entry whose platform runs there, skipping
    /// attestation manifests (BuildKit marks them `vnd.docker.reference.type:
    /// attestation-manifest` with platform unknown/unknown) and entries that are not manifests.
    /// An entry with no platform counts only when it is the index's only manifest.
    public func manifest(for platform: Platform) -> Descriptor? {
        let images = manifests.filter { d in
            MediaType.isManifest(d.mediaType) || MediaType.isIndex(d.mediaType)
        }.filter { d in
            d.annotations["vnd.docker.reference.type"] != "attestation-manifest" && d.platform?.os != "unknown"
        }
        if let exact = images.first(where: { $0.platform.map(platform.runs) ?? false }) { return exact }
        if images.count == 1, images[0].platform == nil { return images[0] }
        return nil
    }

    /// The platforms the index offers, for an error that says what there is.
    public var platforms: [Platform] { manifests.compactMap(\.platform).filter { $0.os != "unknown" } }
}

/// A manifest or an index: what a registry or an archive answers for a reference.
public enum ManifestDocument: Sendable, Equatable {
    case manifest(ImageManifest)
    case index(ImageIndex)

    /// Reads `bytes` as served with `contentType` (or described by a descriptor's media type);
    /// the document's own `mediaType` decides when present.
    public static func parse(_ bytes: [UInt8], contentType: String?) throws(OCIDocumentError) -> ManifestDocument {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch { throw OCIDocumentError("manifest is not valid JSON: \(error)") }
        let declared = json["mediaType"]?.stringValue ?? contentType.map { String($0.split(separator: ";")[0]).trimmingSpaces }
        if let declared, MediaType.isIndex(declared) { return .index(try ImageIndex(json: json, mediaType: declared)) }
        if let declared, MediaType.isManifest(declared) { return .manifest(try ImageManifest(json: json, mediaType: declared)) }
        // No usable type: OCI lets both omit it; "manifests" tells an index from a manifest.
        if json["manifests"] != nil { return .index(try ImageIndex(json: json)) }
        if json["config"] != nil { return .manifest(try ImageManifest(json: json)) }
        throw OCIDocumentError("unsupported manifest type \"\(declared ?? "none")\"")
    }
}

extension String {
    var trimmingSpaces: String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
