/// A container cannot start because what its env or volumes refer to is missing: kubelet's
/// CreateContainerConfigError, with kubelet's message (`configmap "x" not found`,
/// `couldn't find key k in ConfigMap default/x`). It is retried when the object appears.
struct ConfigReferenceError: Error, Sendable, CustomStringConvertible {
    var message: String
    var description: String { message }

    static func notFound(_ kind: String, _ name: String) -> ConfigReferenceError {
        ConfigReferenceError(message: "\(kind.lowercased()) \"\(name)\" not found")
    }

    static func missingKey(_ key: String, kind: String, namespace: String, name: String) -> ConfigReferenceError {
        ConfigReferenceError(message: "couldn't find key \(key) in \(kind) \(namespace)/\(name)")
    }
}
