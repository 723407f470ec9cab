/// An environment variable of a container: a literal `value`, or one taken from the pod
/// (`valueFrom.fieldRef`). Of Kubernetes' sources only fieldRef is supported; configMapKeyRef,
/// secretKeyRef, resourceFieldRef and fileKeyRef are refused as not supported.
public struct EnvVar: JSONConvertible {
    public var name: String
    public var value: String?
    public var valueFrom: EnvVarSource?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, value: String? = nil, valueFrom: EnvVarSource? = nil) {
        self.name = name
        self.value = value
        self.valueFrom = valueFrom
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let value = reader.string("value")
        let valueFrom = reader.decode("valueFrom", as: EnvVarSource.self)
        try reader.finish()
        self.init(name: name, value: value, valueFrom: valueFrom)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("value", nonEmpty: value)
        writer.set("valueFrom", valueFrom)
        return writer.json
    }
}

/// Where an environment variable's value comes from.
public struct EnvVarSource: JSONConvertible {
    /// A field of the pod (metadata.name, metadata.namespace, metadata.uid).
    public var fieldRef: ObjectFieldSelector?
    public var resourceFieldRef: ResourceFieldSelector?
    public var configMapKeyRef: ConfigMapKeySelector?
    public var secretKeyRef: SecretKeySelector?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(fieldRef: ObjectFieldSelector? = nil, resourceFieldRef: ResourceFieldSelector? = nil,
                configMapKeyRef: ConfigMapKeySelector? = nil, secretKeyRef: SecretKeySelector? = nil) {
        self.fieldRef = fieldRef
        self.resourceFieldRef = resourceFieldRef
        self.configMapKeyRef = configMapKeyRef
        self.secretKeyRef = secretKeyRef
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let fieldRef = reader.decode("fieldRef", as: ObjectFieldSelector.self)
        let resourceFieldRef = reader.decode("resourceFieldRef", as: ResourceFieldSelector.self)
        let configMapKeyRef = reader.decode("configMapKeyRef", as: ConfigMapKeySelector.self)
        let secretKeyRef = reader.decode("secretKeyRef", as: SecretKeySelector.self)
        reader.reject(["fileKeyRef"])
        try reader.finish()
        self.init(fieldRef: fieldRef, resourceFieldRef: resourceFieldRef, configMapKeyRef: configMapKeyRef, secretKeyRef: secretKeyRef)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("fieldRef", fieldRef)
        writer.set("resourceFieldRef", resourceFieldRef)
        writer.set("configMapKeyRef", configMapKeyRef)
        writer.set("secretKeyRef", secretKeyRef)
        return writer.json
    }
}

/// A field of the pod, for the downward API.
public struct ObjectFieldSelector: JSONConvertible {
    /// Defaults to "v1", as Kubernetes' defaulting does.
    public var apiVersion: String
    public var fieldPath: String

    /// The field paths podd can provide in env (besides `metadata.labels['KEY']` and
    /// `metadata.annotations['KEY']`), Kubernetes' list.
    public static let supportedFieldPaths = ["metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                                             "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs"]

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(apiVersion: String = "v1", fieldPath: String) {
        self.apiVersion = apiVersion
        self.fieldPath = fieldPath
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let apiVersion = reader.string("apiVersion") ?? ""
        let fieldPath = reader.string("fieldPath") ?? ""
        try reader.finish()
        self.init(apiVersion: apiVersion.isEmpty ? "v1" : apiVersion, fieldPath: fieldPath)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("apiVersion", .string(apiVersion))
        writer.set("fieldPath", .string(fieldPath))
        return writer.json
    }
}
