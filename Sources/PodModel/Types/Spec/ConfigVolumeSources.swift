/// A key of a ConfigMap or Secret projected to a file of a volume.
public struct KeyToPath: JSONConvertible {
    public var key: String
    /// The file's path, relative to the volume.
    public var path: String
    /// The file's mode bits; nil takes the volume's defaultMode.
    public var mode: Int32?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(key: String, path: String, mode: Int32? = nil) {
        self.key = key
        self.path = path
        self.mode = mode
    }

    public init(json: JSONValue, path fieldPath: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: fieldPath)
        let key = reader.string("key") ?? ""
        let path = reader.string("path") ?? ""
        let mode = reader.int32("mode")
        try reader.finish()
        self.init(key: key, path: path, mode: mode)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("key", .string(key))
        writer.set("path", .string(path))
        writer.set("mode", mode)
        return writer.json
    }
}

/// The mode of a projected file when none is given: 0644, as Kubernetes defaults it.
public enum ProjectedFileMode {
    public static let `default`: Int32 = 0o644
}

/// The fields a ConfigMap and a Secret volume share after the object's name: which keys
/// become files, their mode, and whether the object may be missing.
struct KeyedFiles {
    var items: [KeyToPath]
    var defaultMode: Int32?
    var optional: Bool?

    /// `projected`: a projected volume's source, which has no defaultMode of its own.
    static func read(_ reader: inout ObjectReader, projected: Bool) -> KeyedFiles {
        KeyedFiles(items: reader.list("items", of: KeyToPath.self),
                   defaultMode: projected ? nil : (reader.int32("defaultMode") ?? ProjectedFileMode.default),
                   optional: reader.bool("optional"))
    }

    func write(_ writer: inout ObjectWriter) {
        writer.set("items", list: items)
        writer.set("defaultMode", defaultMode)
        writer.set("optional", optional)
    }
}

/// A ConfigMap as a volume (or one source of a projected volume): every key as a file, or
/// only the `items` listed.
public struct ConfigMapVolumeSource: JSONConvertible {
    /// The ConfigMap's name, in the pod's namespace.
    public var name: String
    public var items: [KeyToPath]
    /// nil in a projected volume's source (the projected volume has its own).
    public var defaultMode: Int32?
    /// Whether the pod may run without the ConfigMap (or a listed key).
    public var optional: Bool?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, items: [KeyToPath] = [], defaultMode: Int32? = ProjectedFileMode.default, optional: Bool? = nil) {
        self.name = name
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        try self.init(json: json, path: path, projected: false)
    }

    /// `projected`: a projected volume's source, which has no defaultMode of its own.
    init(json: JSONValue, path: FieldPath, projected: Bool) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let keys = KeyedFiles.read(&reader, projected: projected)
        try reader.finish()
        self.init(name: name, items: keys.items, defaultMode: keys.defaultMode, optional: keys.optional)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        KeyedFiles(items: items, defaultMode: defaultMode, optional: optional).write(&writer)
        return writer.json
    }
}

/// A Secret as a volume (or one source of a projected volume, where it is named `name`).
public struct SecretVolumeSource: JSONConvertible {
    /// The Secret's name, in the pod's namespace (`secretName` in a volume, `name` in a
    /// projected source).
    public var secretName: String
    public var items: [KeyToPath]
    public var defaultMode: Int32?
    public var optional: Bool?
    /// Whether this is a projected volume's source (its JSON names the secret `name`).
    var projected = false

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(secretName: String, items: [KeyToPath] = [], defaultMode: Int32? = ProjectedFileMode.default, optional: Bool? = nil) {
        self.secretName = secretName
        self.items = items
        self.defaultMode = defaultMode
        self.optional = optional
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        try self.init(json: json, path: path, projected: false)
    }

    init(json: JSONValue, path: FieldPath, projected: Bool) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string(projected ? "name" : "secretName") ?? ""
        let keys = KeyedFiles.read(&reader, projected: projected)
        try reader.finish()
        self.init(secretName: name, items: keys.items, defaultMode: keys.defaultMode, optional: keys.optional)
        self.projected = projected
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set(projected ? "name" : "secretName", nonEmpty: secretName)
        KeyedFiles(items: items, defaultMode: defaultMode, optional: optional).write(&writer)
        return writer.json
    }
}

/// A file of a downward API volume: a field of the pod or a resource of a container.
public struct DownwardAPIVolumeFile: JSONConvertible {
    public var path: String
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var mode: Int32?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(path: String, fieldRef: ObjectFieldSelector? = nil, resourceFieldRef: ResourceFieldSelector? = nil, mode: Int32? = nil) {
        self.path = path
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
        self.mode = mode
    }

    public init(json: JSONValue, path fieldPath: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: fieldPath)
        let path = reader.string("path") ?? ""
        let fieldRef = reader.decode("fieldRef", as: ObjectFieldSelector.self)
        let resourceFieldRef = reader.decode("resourceFieldRef", as: ResourceFieldSelector.self)
        let mode = reader.int32("mode")
        try reader.finish()
        self.init(path: path, fieldRef: fieldRef, resourceFieldRef: resourceFieldRef, mode: mode)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("path", .string(path))
        writer.set("fieldRef", fieldRef)
        writer.set("resourceFieldRef", resourceFieldRef)
        writer.set("mode", mode)
        return writer.json
    }
}

/// A downward API volume (or projected source): files holding fields of the pod.
public struct DownwardAPIVolumeSource: JSONConvertible {
    public var items: [DownwardAPIVolumeFile]
    public var defaultMode: Int32?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(items: [DownwardAPIVolumeFile] = [], defaultMode: Int32? = ProjectedFileMode.default) {
        self.items = items
        self.defaultMode = defaultMode
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        try self.init(json: json, path: path, projected: false)
    }

    init(json: JSONValue, path: FieldPath, projected: Bool) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let items = reader.list("items", of: DownwardAPIVolumeFile.self)
        let mode = projected ? nil : (reader.int32("defaultMode") ?? ProjectedFileMode.default)
        try reader.finish()
        self.init(items: items, defaultMode: mode)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("items", list: items)
        writer.set("defaultMode", defaultMode)
        return writer.json
    }
}

/// One source of a projected volume.
public enum VolumeProjection: JSONConvertible {
    case configMap(ConfigMapVolumeSource)
    case secret(SecretVolumeSource)
    case downwardAPI(DownwardAPIVolumeSource)

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        var found: [VolumeProjection] = []
        do {
            if let value = reader.value("configMap") {
                found.append(.configMap(try ConfigMapVolumeSource(json: value, path: path.child("configMap"), projected: true)))
            }
            if let value = reader.value("secret") {
                found.append(.secret(try SecretVolumeSource(json: value, path: path.child("secret"), projected: true)))
            }
            if let value = reader.value("downwardAPI") {
                found.append(.downwardAPI(try DownwardAPIVolumeSource(json: value, path: path.child("downwardAPI"), projected: true)))
            }
        } catch {
            reader.absorb(error)
        }
        // A token needs an issuer podd does not have: refused, with its path.
        reader.reject(["serviceAccountToken", "clusterTrustBundle", "podCertificate"])
        if found.count > 1 { reader.invalid(.forbidden(path, "may not specify more than 1 volume type per source")) }
        if found.isEmpty && reader.problems.isEmpty { reader.invalid(.required(path, "must specify exactly 1 volume type per source")) }
        try reader.finish()
        guard let first = found.first else { throw .invalid([.required(path, "must specify exactly 1 volume type per source")], objectName: "") }
        self = first
    }

    public var json: JSONValue {
        switch self {
        case let .configMap(source): return .object(JSONObject([("configMap", source.json)]))
        case let .secret(source): return .object(JSONObject([("secret", source.json)]))
        case let .downwardAPI(source): return .object(JSONObject([("downwardAPI", source.json)]))
        }
    }
}

/// A projected volume: several ConfigMaps, Secrets and downward API files in one directory.
public struct ProjectedVolumeSource: JSONConvertible {
    public var sources: [VolumeProjection]
    public var defaultMode: Int32

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(sources: [VolumeProjection] = [], defaultMode: Int32 = ProjectedFileMode.default) {
        self.sources = sources
        self.defaultMode = defaultMode
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let sources = reader.list("sources", of: VolumeProjection.self)
        let mode = reader.int32("defaultMode") ?? ProjectedFileMode.default
        try reader.finish()
        self.init(sources: sources, defaultMode: mode)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("sources", .array(sources.map(\.json)))
        writer.set("defaultMode", defaultMode)
        return writer.json
    }
}
