/// A core/v1 ServiceAccount: the identity a pod names in `spec.serviceAccountName`. The
/// ServiceAccount admission (PodRegistry) requires it to exist, and gives a pod that lists no
/// `imagePullSecrets` the account's. Every namespace has one named `default`, made by podd as
/// the ServiceAccount controller makes it (and made again when deleted). podd issues no
/// tokens: `secrets` are kept as given, and a pod asking for a token
/// (`automountServiceAccountToken: true`) is refused.
public struct ServiceAccount: StoredObject {
    public static let apiVersion = "v1"
    public static let kind = "ServiceAccount"
    public static let resource = "serviceaccounts"
    /// The account of a pod that names none, in every namespace.
    public static let defaultName = "default"

    public var metadata: ObjectMeta
    /// Secrets the account's pods may use (kept as given; podd mints no token Secrets).
    public var secrets: [ObjectReference]
    /// Given to each pod of the account that lists none of its own.
    public var imagePullSecrets: [LocalObjectReference]
    public var automountServiceAccountToken: Bool?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(metadata: ObjectMeta = ObjectMeta(), secrets: [ObjectReference] = [],
                imagePullSecrets: [LocalObjectReference] = [], automountServiceAccountToken: Bool? = nil) {
        self.metadata = metadata
        self.secrets = secrets
        self.imagePullSecrets = imagePullSecrets
        self.automountServiceAccountToken = automountServiceAccountToken
    }

    /// The `default` account of `namespace`, as the ServiceAccount controller creates it.
    public static func defaultAccount(namespace: String) -> ServiceAccount {
        ServiceAccount(metadata: ObjectMeta(name: defaultName, namespace: namespace))
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let metadata = Self.readHeader(&reader)
        let secrets = reader.list("secrets", of: ObjectReference.self)
        let imagePullSecrets = reader.list("imagePullSecrets", of: LocalObjectReference.self)
        let automount = reader.bool("automountServiceAccountToken")
        try reader.finish()
        self.init(metadata: metadata, secrets: secrets, imagePullSecrets: imagePullSecrets, automountServiceAccountToken: automount)
    }

    public var json: JSONValue {
        var writer = typeAndMetadataWriter
        writer.set("secrets", list: secrets)
        writer.set("imagePullSecrets", list: imagePullSecrets)
        writer.set("automountServiceAccountToken", automountServiceAccountToken)
        return writer.json
    }

    /// ValidateServiceAccount and ValidateServiceAccountUpdate: the metadata (a DNS subdomain
    /// name, in a namespace).
    public static func validate(_ object: ServiceAccount, old: ServiceAccount?) -> [FieldError] {
        PodValidation.validateMetadata(object.metadata)
    }
}
