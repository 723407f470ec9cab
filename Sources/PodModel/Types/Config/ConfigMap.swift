/// A core/v1 ConfigMap: string `data` and base64 `binaryData`, keyed by file-name-like keys,
/// optionally `immutable`.
public struct ConfigMap: ConfigDataObject {
    public static let apiVersion = "v1"
    public static let kind = "ConfigMap"
    public static let resource = "configmaps"

    public var metadata: ObjectMeta
    public var data: [String: String]
    public var binaryData: [String: [UInt8]]
    /// Once true, data and binaryData can no longer change (and immutable cannot be unset).
    public var immutable: Bool?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(metadata: ObjectMeta = ObjectMeta(), data: [String: String] = [:], binaryData: [String: [UInt8]] = [:],
                immutable: Bool? = nil) {
        self.metadata = metadata
        self.data = data
        self.binaryData = binaryData
        self.immutable = immutable
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let metadata = Self.readHeader(&reader)
        let data = reader.stringMap("data")
        let binaryData = reader.base64Map("binaryData")
        let immutable = reader.bool("immutable")
        try reader.finish()
        self.init(metadata: metadata, data: data, binaryData: binaryData, immutable: immutable)
    }

    public var json: JSONValue {
        var writer = headerWriter
        writer.set("data", map: data)
        writer.set("binaryData", bytes: binaryData)
        return writer.json
    }

    /// Every key with its bytes, data and binaryData together (a volume's files, envFrom).
    public var contents: [String: [UInt8]] {
        var all = binaryData
        for (key, value) in data { all[key] = Array(value.utf8) }
        return all
    }

    public static func validate(_ object: ConfigMap, old: ConfigMap?) -> [FieldError] {
        ConfigDataValidation.validate(object, old: old)
    }
}
