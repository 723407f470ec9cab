/// A core/v1 Secret: base64 `data` (with `stringData` merged into it on write, as the API
/// server does; stringData is never returned), a `type` naming what it holds, optionally
/// `immutable`.
public struct Secret: ConfigDataObject {
    public static let apiVersion = "v1"
    public static let kind = "Secret"
    public static let resource = "secrets"

    public var metadata: ObjectMeta
    public var data: [String: [UInt8]]
    /// Kubernetes' secret types; "" reads as Opaque.
    public var type: String
    public var immutable: Bool?

    /// The types the API server knows (any other string is accepted too, as it does).
    public enum KnownType {
        public static let opaque = "Opaque"
        public static let serviceAccountToken = "kubernetes.io/service-account-token"
        public static let dockercfg = "kubernetes.io/dockercfg"
        public static let dockerConfigJSON = "kubernetes.io/dockerconfigjson"
        public static let basicAuth = "kubernetes.io/basic-auth"
        public static let sshAuth = "kubernetes.io/ssh-auth"
        public static let tls = "kubernetes.io/tls"
        public static let bootstrapToken = "bootstrap.kubernetes.io/token"
    }

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(metadata: ObjectMeta = ObjectMeta(), data: [String: [UInt8]] = [:], type: String = KnownType.opaque,
                immutable: Bool? = nil) {
        self.metadata = metadata
        self.data = data
        self.type = type.isEmpty ? KnownType.opaque : type
        self.immutable = immutable
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let metadata = Self.readHeader(&reader)
        var data = reader.base64Map("data")
        // stringData wins over data for the same key, as the API server's conversion does.
        for (key, value) in reader.stringMap("stringData") { data[key] = Array(value.utf8) }
        let type = reader.string("type") ?? ""
        let immutable = reader.bool("immutable")
        try reader.finish()
        self.init(metadata: metadata, data: data, type: type, immutable: immutable)
    }

    public var json: JSONValue {
        var writer = headerWriter
        writer.set("data", bytes: data)
        writer.set("type", .string(type))
        return writer.json
    }

    public var contents: [String: [UInt8]] { data }

    public static func validate(_ object: Secret, old: Secret?) -> [FieldError] {
        ConfigDataValidation.validate(object, old: old)
    }
}
