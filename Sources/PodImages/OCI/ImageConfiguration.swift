import PodJSON

/// An image's config blob (OCI image config / Docker's container image JSON): how to run it
/// and the uncompressed digests (diff_ids) of its layers.
public struct ImageConfiguration: Sendable, Equatable {
    /// The defaults a container of this image runs with, unless its spec says otherwise.
    public struct RunDefaults: Sendable, Equatable {
        /// `uid`, `name`, `uid:gid` or `name:group`; empty means root.
        public var user: String = ""
        /// `KEY=VALUE` entries.
        public var env: [String] = []
        public var entrypoint: [String] = []
        public var cmd: [String] = []
        public var workingDir: String = ""
        public var exposedPorts: [String] = []
        public var labels: [String: String] = [:]
        public var stopSignal: String?
        public var volumes: [String] = []

        public init() {}
    }

    public var architecture: String
    public var os: String
    public var variant: String?
    /// RFC 3339, as the image's builder wrote it.
    public var created: String?
    public var author: String?
    public var config: RunDefaults
    /// The sha256 of each layer's uncompressed tar, bottom first.
    public var diffIDs: [Digest]

    public init(architecture: String, os: String, variant: String? = nil, created: String? = nil, author: String? = nil,
                config: RunDefaults = RunDefaults(), diffIDs: [Digest]) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
        self.created = created
        self.author = author
        self.config = config
        self.diffIDs = diffIDs
    }

    public init(bytes: [UInt8]) throws(OCIDocumentError) {
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch { throw OCIDocumentError("image config is not valid JSON: \(error)") }
        guard json.objectValue != nil else { throw OCIDocumentError("image config: expected an object") }
        guard let rootfs = json["rootfs"], rootfs["type"]?.stringValue == "layers",
              let ids = rootfs["diff_ids"]?.arrayValue else {
            throw OCIDocumentError("image config: rootfs must have type \"layers\" and diff_ids")
        }
        var diffIDs: [Digest] = []
        for (i, id) in ids.enumerated() {
            guard let text = id.stringValue, let digest = Digest(text) else {
                throw OCIDocumentError("image config: rootfs.diff_ids[\(i)] is not a valid digest")
            }
            diffIDs.append(digest)
        }
        var run = RunDefaults()
        if let c = json["config"], c.objectValue != nil {
            func strings(_ key: String) -> [String] { c[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
            run.user = c["User"]?.stringValue ?? ""
            run.env = strings("Env")
            run.entrypoint = strings("Entrypoint")
            run.cmd = strings("Cmd")
            run.workingDir = c["WorkingDir"]?.stringValue ?? ""
            run.exposedPorts = (c["ExposedPorts"]?.objectValue ?? JSONObject()).map(\.key)
            run.labels = Descriptor.stringMap(c["Labels"])
            run.stopSignal = c["StopSignal"]?.stringValue
            run.volumes = (c["Volumes"]?.objectValue ?? JSONObject()).map(\.key)
        }
        self.init(architecture: json["architecture"]?.stringValue ?? "", os: json["os"]?.stringValue ?? "",
                  variant: json["variant"]?.stringValue, created: json["created"]?.stringValue,
                  author: json["author"]?.stringValue, config: run, diffIDs: diffIDs)
    }

    public var platform: Platform { Platform(os: os, architecture: architecture, variant: variant) }
}
