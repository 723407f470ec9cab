/// ConfigMap and Secret validation as the API server does it (ValidateConfigMap,
/// ValidateSecret and their Update forms), with Kubernetes' paths and messages.
public enum ConfigDataValidation {
    /// The most a ConfigMap's or Secret's data may hold, all keys together (1 MiB).
    public static let maxSize = 1024 * 1024

    /// Kubernetes' IsConfigMapKey: `[-._a-zA-Z0-9]+`, at most 253 characters, not `.`, `..`
    /// or starting with `..` (the atomic writer's names).
    public static func keyErrors(_ key: String) -> [String] {
        var errors: [String] = []
        if key.utf8.count > 253 { errors.append(NameRules.maxLengthCharacters(253)) }
        let valid = !key.isEmpty && key.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"): return true
            default: return false
            }
        }
        if !valid {
            errors.append(NameRules.regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
                                               "[-._a-zA-Z0-9]+", examples: ["key.name", "KEY_NAME", "key-name"]))
        }
        if key == "." {
            errors.append("must not be '.'")
        } else if key == ".." {
            errors.append("must not be '..'")
        } else if key.hasPrefix("..") {
            errors.append("must not start with '..'")
        }
        return errors
    }

    /// The size error, for the whole object.
    static func tooLarge(_ path: FieldPath) -> FieldError {
        FieldError(type: .tooLong, field: path, badValue: nil, detail: "must have at most \(maxSize) bytes")
    }

    public static func validate(_ config: ConfigMap, old: ConfigMap?) -> [FieldError] {
        var errors = PodValidation.validateObjectMeta(config.metadata)
        var total = 0
        for key in config.data.keys.sorted() {
            let path = FieldPath("data").key(key)
            errors += keyErrors(key).map { .invalid(path, .string(key), $0) }
            if config.binaryData[key] != nil { errors.append(.invalid(path, .string(key), "duplicate of key present in binaryData")) }
            total += config.data[key]?.utf8.count ?? 0
        }
        for key in config.binaryData.keys.sorted() {
            errors += keyErrors(key).map { .invalid(FieldPath("binaryData").key(key), .string(key), $0) }
            total += config.binaryData[key]?.count ?? 0
        }
        if total > maxSize { errors.append(tooLarge(FieldPath("[]"))) }
        if let old, old.immutable == true {
            if config.immutable != true { errors.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
            if config.data != old.data { errors.append(.forbidden("data", "field is immutable when `immutable` is set")) }
            if config.binaryData != old.binaryData { errors.append(.forbidden("binaryData", "field is immutable when `immutable` is set")) }
        }
        return errors
    }

    public static func validate(_ secret: Secret, old: Secret?) -> [FieldError] {
        var errors = PodValidation.validateObjectMeta(secret.metadata)
        let dataPath = FieldPath("data")
        var total = 0
        for key in secret.data.keys.sorted() {
            errors += keyErrors(key).map { .invalid(dataPath.key(key), .string(key), $0) }
            total += secret.data[key]?.count ?? 0
        }
        if total > maxSize { errors.append(tooLarge(dataPath)) }
        typealias T = Secret.KnownType
        switch secret.type {
        case T.serviceAccountToken:
            // Accepted as the API server accepts it; podd has no token controller to fill it.
            if (secret.metadata.annotations["kubernetes.io/service-account.name"] ?? "").isEmpty {
                errors.append(.required(FieldPath("metadata.annotations").key("kubernetes.io/service-account.name")))
            }
        case T.dockercfg, T.dockerConfigJSON:
            let key = secret.type == T.dockercfg ? ".dockercfg" : ".dockerconfigjson"
            guard let bytes = secret.data[key] else {
                errors.append(.required(dataPath.key(key)))
                break
            }
            var isObject = false
            if let parsed = try? JSONValue.parse(bytes), case .object = parsed { isObject = true }
            if !isObject {
                errors.append(.invalid(dataPath.key(key), .string("<secret contents redacted>"), "must be a JSON object (a Docker config)"))
            }
        case T.basicAuth:
            if secret.data["username"] == nil && secret.data["password"] == nil {
                errors.append(.required(dataPath.key("username")))
                errors.append(.required(dataPath.key("password")))
            }
        case T.sshAuth:
            if (secret.data["ssh-privatekey"] ?? []).isEmpty { errors.append(.required(dataPath.key("ssh-privatekey"))) }
        case T.tls:
            if secret.data["tls.crt"] == nil { errors.append(.required(dataPath.key("tls.crt"))) }
            if secret.data["tls.key"] == nil { errors.append(.required(dataPath.key("tls.key"))) }
        default:
            break
        }
        if let old {
            if secret.type != old.type { errors.append(.invalid("type", .string(secret.type), "field is immutable")) }
            if old.immutable == true {
                if secret.immutable != true { errors.append(.forbidden("immutable", "field is immutable when `immutable` is set")) }
                if secret.data != old.data { errors.append(.forbidden("data", "field is immutable when `immutable` is set")) }
            }
        }
        return errors
    }
}

extension PodValidation {
    /// Object metadata rules shared by every kind (name, namespace, labels, annotations).
    static func validateObjectMeta(_ metadata: ObjectMeta) -> [FieldError] { validateMetadata(metadata) }
}
