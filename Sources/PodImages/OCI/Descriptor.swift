import PodJSON

/// Why an OCI document (manifest, index, config, index.json) cannot be read.
public struct OCIDocumentError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A pointer to a blob: its media type, digest and size (OCI image spec, descriptor.md).
public struct Descriptor: Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]
    public var annotations: [String: String]
    /// In an index: the platform of the manifest it points to.
    public var platform: Platform?
    /// For artifacts (e.g. attestations): what kind of artifact the manifest is.
    public var artifactType: String?

    public init(mediaType: String, digest: Digest, size: Int64, urls: [String] = [],
                annotations: [String: String] = [:], platform: Platform? = nil, artifactType: String? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.urls = urls
        self.annotations = annotations
        self.platform = platform
        self.artifactType = artifactType
    }

    public init(json: JSONValue, what: String) throws(OCIDocumentError) {
        guard json.objectValue != nil else { throw OCIDocumentError("\(what): expected an object") }
        guard let mediaType = json["mediaType"]?.stringValue, !mediaType.isEmpty else {
            throw OCIDocumentError("\(what): mediaType is missing")
        }
        guard let digestText = json["digest"]?.stringValue, let digest = Digest(digestText) else {
            throw OCIDocumentError("\(what): digest is missing or not a valid digest")
        }
        guard let size = json["size"]?.intValue, size >= 0 else {
            throw OCIDocumentError("\(what): size is missing or negative")
        }
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        urls = json["urls"]?.arrayValue?.compactMap(\.stringValue) ?? []
        annotations = Self.stringMap(json["annotations"])
        platform = try json["platform"].map { v throws(OCIDocumentError) in try Platform(json: v, what: what + ".platform") }
        artifactType = json["artifactType"]?.stringValue
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("mediaType", .string(mediaType)), ("digest", .string(digest.description)),
                                              ("size", .int(size))]
        if !urls.isEmpty { members.append(("urls", .array(urls.map { .string($0) }))) }
        if !annotations.isEmpty { members.append(("annotations", Self.stringMapJSON(annotations))) }
        if let platform { members.append(("platform", platform.json)) }
        if let artifactType { members.append(("artifactType", .string(artifactType))) }
        return .object(JSONObject(members))
    }

    static func stringMap(_ value: JSONValue?) -> [String: String] {
        var out: [String: String] = [:]
        for (key, v) in value?.objectValue ?? JSONObject() {
            if let s = v.stringValue { out[key] = s }
        }
        return out
    }

    static func stringMapJSON(_ map: [String: String]) -> JSONValue {
        .object(JSONObject(map.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
    }
}

extension Descriptor {
    /// The annotation an OCI layout's index.json uses for an image's name (tag or full name).
    public static let refNameAnnotation = "org.opencontainers.image.ref.name"
    /// containerd's annotation for the full image name in an oci-archive's index.json.
    public static let containerdImageNameAnnotation = "io.containerd.image.name"
}
