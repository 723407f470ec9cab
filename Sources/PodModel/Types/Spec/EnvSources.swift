/// A key of a ConfigMap, for an environment variable.
public struct ConfigMapKeySelector: JSONConvertible {
    public var name: String
    public var key: String
    public var optional: Bool?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(name: String, key: String, optional: Bool? = nil) {
        self.name = name
        self.key = key
        self.optional = optional
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let name = reader.string("name") ?? ""
        let key = reader.string("key") ?? ""
        let optional = reader.bool("optional")
        try reader.finish()
        self.init(name: name, key: key, optional: optional)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", nonEmpty: name)
        writer.set("key", .string(key))
        writer.set("optional", optional)
        return writer.json
    }
}

/// A key of a Secret, for an environment variable (same shape as ConfigMapKeySelector).
public typealias SecretKeySelector = ConfigMapKeySelector

/// A resource of a container (limits.cpu, requests.memory, ...), for the downward API.
public struct ResourceFieldSelector: JSONConvertible {
    /// Required in a volume; in env, defaults to the container itself.
    public var containerName: String?
    public var resource: String
    /// The unit the value is written in; "1" when unset.
    public var divisor: Quantity?

    /// The resources Kubernetes allows.
    public static let supportedResources = ["limits.cpu", "limits.ephemeral-storage", "limits.memory",
                                            "requests.cpu", "requests.ephemeral-storage", "requests.memory"]

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(containerName: String? = nil, resource: String, divisor: Quantity? = nil) {
        self.containerName = containerName
        self.resource = resource
        self.divisor = divisor
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let containerName = reader.string("containerName")
        let resource = reader.string("resource") ?? ""
        let divisor = reader.quantity("divisor")
        try reader.finish()
        self.init(containerName: containerName, resource: resource, divisor: divisor)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("containerName", nonEmpty: containerName)
        writer.set("resource", .string(resource))
        // The API server writes the defaulted divisor.
        writer.set("divisor", .string(divisor?.string ?? "0"))
        return writer.json
    }
}

/// A whole ConfigMap or Secret as environment variables (`envFrom`), each name prefixed.
public struct EnvFromSource: JSONConvertible {
    public enum Reference: Sendable, Equatable {
        case configMap(name: String, optional: Bool?)
        case secret(name: String, optional: Bool?)
    }

    public var prefix: String?
    public var reference: Reference?

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(prefix: String? = nil, reference: Reference?) {
        self.prefix = prefix
        self.reference = reference
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let prefix = reader.string("prefix")
        var references: [Reference] = []
        for key in ["configMapRef", "secretRef"] {
            guard let value = reader.value(key) else { continue }
            do {
                var ref = try ObjectReader(value, path: path.child(key))
                let name = ref.string("name") ?? ""
                let optional = ref.bool("optional")
                try ref.finish()
                references.append(key == "configMapRef" ? .configMap(name: name, optional: optional) : .secret(name: name, optional: optional))
            } catch {
                reader.absorb(error)
            }
        }
        if references.count > 1 {
            reader.invalid(.invalid(path, "", "may not have more than one field specified at a time"))
        }
        try reader.finish()
        self.init(prefix: prefix, reference: references.first)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("prefix", nonEmpty: prefix)
        switch reference {
        case let .configMap(name, optional)?:
            var ref = ObjectWriter()
            ref.set("name", nonEmpty: name)
            ref.set("optional", optional)
            writer.set("configMapRef", ref.json)
        case let .secret(name, optional)?:
            var ref = ObjectWriter()
            ref.set("name", nonEmpty: name)
            ref.set("optional", optional)
            writer.set("secretRef", ref.json)
        case nil:
            break
        }
        return writer.json
    }
}
