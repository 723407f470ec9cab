/// A pod volume: a name and where its contents come from.
public struct Volume: JSONConvertible {
    public var name: String
    public var source: VolumeSource

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, source: VolumeSource) {
        self.name = name
        self.source = source
    }

    /// Kubernetes' volume sources podd does not implement; each is refused with its path.
    static let unsupportedSources = [
        "gcePersistentDisk",
        "awsElasticBlockStore",
        "gitRepo",
        "nfs",
        "iscsi",
        "glusterfs",
        "persistentVolumeClaim",
        "rbd",
        "flexVolume",
        "cinder",
        "cephfs",
        "flocker",
        "fc",
        "azureFile",
        "vsphereVolume",
        "quobyte",
        "azureDisk",
        "photonPersistentDisk",
        "portworxVolume",
        "scaleIO",
        "storageos",
        "csi",
        "ephemeral",
        "image",
    ]

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        // The source is inlined in the volume: exactly one of its members must be set.
        var sources: [VolumeSource] = []
        var count = 0
        for key in ["hostPath", "emptyDir"] + ConfigVolumeDecoding.keys + Self.unsupportedSources where reader.has(key) {
            count += 1
            if count > 1 {
                _ = reader.value(key)
                reader.invalid(.forbidden(path.child(key), "may not specify more than 1 volume type"))
                continue
            }
            switch key {
            case "emptyDir":
                if let source = reader.decode(key, as: EmptyDirVolumeSource.self) { sources.append(.emptyDir(source)) }
            case "hostPath":
                if let source = reader.decode(key, as: HostPathVolumeSource.self) { sources.append(.hostPath(source)) }
            case _ where ConfigVolumeDecoding.keys.contains(key):
                if let source = ConfigVolumeDecoding.decode(key, from: &reader) { sources.append(source) }
            default:
                // Even an empty `configMap: {}` asks for a volume podd cannot provide.
                _ = reader.value(key)
                reader.invalid(.notSupportedByPodd(path.child(key)))
            }
        }
        if count == 0 {
            reader.invalid(.required(path, "must specify a volume type"))
        }
        try reader.finish()
        // finish() has thrown unless exactly one source decoded.
        guard let source = sources.first else { throw ManifestError.invalid([.required(path, "must specify a volume type")], objectName: "") }
        self.init(name: name, source: source)
    }

    public var json: JSONValue {
        var object = JSONObject()
        object["name"] = .string(name)
        switch source {
        case .emptyDir(let emptyDir): object["emptyDir"] = emptyDir.json
        case .hostPath(let hostPath): object["hostPath"] = hostPath.json
        default: if let (key, value) = ConfigVolumeDecoding.json(source) { object[key] = value }
        }
        return .object(object)
    }
}

/// Where a volume's contents come from.
public enum VolumeSource: Sendable, Equatable {
    /// A directory that starts empty and lives as long as the pod (tmpfs with medium Memory).
    case emptyDir(EmptyDirVolumeSource)
    /// A file or directory of the host.
    case hostPath(HostPathVolumeSource)
    case configMap(ConfigMapVolumeSource)
    case secret(SecretVolumeSource)
    case projected(ProjectedVolumeSource)
    case downwardAPI(DownwardAPIVolumeSource)
}

/// An emptyDir volume.
public struct EmptyDirVolumeSource: JSONConvertible {
    /// Where it is stored: on disk (the default) or in memory (tmpfs).
    public var medium: StorageMedium
    /// The most it may hold; for medium Memory, the tmpfs size.
    public var sizeLimit: Quantity?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(medium: StorageMedium = .default, sizeLimit: Quantity? = nil) {
        self.medium = medium
        self.sizeLimit = sizeLimit
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let medium = reader.enumeration("medium", StorageMedium.self) ?? .default
        let sizeLimit = reader.quantity("sizeLimit")
        try reader.finish()
        self.init(medium: medium, sizeLimit: sizeLimit)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("medium", nonEmpty: medium.rawValue)
        writer.set("sizeLimit", sizeLimit.map { JSONValue.string($0.string) })
        return writer.json
    }
}

/// Where an emptyDir is stored.
public enum StorageMedium: String, Sendable, CaseIterable {
    /// The node's default storage: a directory on disk.
    case `default` = ""
    /// tmpfs.
    case memory = "Memory"
}

/// A hostPath volume.
public struct HostPathVolumeSource: JSONConvertible {
    public var path: String
    /// What must be at `path`; unset means no check.
    public var type: HostPathType

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(path: String, type: HostPathType = .unset) {
        self.path = path
        self.type = type
    }

    public init(json: JSONValue, path fieldPath: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: fieldPath)
        let path = reader.string("path") ?? ""
        let type = reader.enumeration("type", HostPathType.self, order: HostPathType.allCases.sorted { $0.rawValue < $1.rawValue }) ?? .unset
        try reader.finish()
        self.init(path: path, type: type)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("path", .string(path))
        // The API server writes the defaulted type, even when empty.
        writer.set("type", .string(type.rawValue))
        return writer.json
    }
}

/// What a hostPath must be, Kubernetes' values.
public enum HostPathType: String, Sendable, CaseIterable {
    case unset = ""
    case directoryOrCreate = "DirectoryOrCreate"
    case directory = "Directory"
    case fileOrCreate = "FileOrCreate"
    case file = "File"
    case socket = "Socket"
    case charDevice = "CharDevice"
    case blockDevice = "BlockDevice"
}
