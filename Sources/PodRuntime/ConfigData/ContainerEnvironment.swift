import PodModel

/// A container's environment as kubelet makes it (makeEnvironmentVariables): envFrom first,
/// in order, each key prefixed (keys that are not valid names skipped and reported), then
/// env in order, a later entry replacing an earlier one; a `value` has `$(VAR)` expanded
/// from what is defined before it; valueFrom reads ConfigMaps, Secrets, the pod's fields and
/// the container's resources.
struct ContainerEnvironment {
    let pod: Pod
    let catalog: ConfigDataCatalog
    let node: NodeResources

    /// Keys of an envFrom source that are not valid variable names, skipped.
    struct Skipped: Sendable {
        /// "configMap" or "secret", as kubelet's event names the source.
        var kind: String
        var name: String
        var keys: [String]
    }

    struct Result {
        var variables: [(name: String, value: String)]
        var skipped: [Skipped]

        /// The variables as a process gets them, `NAME=VALUE`.
        var assignments: [String] { variables.map { "\($0.name)=\($0.value)" } }
    }

    /// `strict` false (an exec's environment): what cannot be resolved is left out instead
    /// of refusing the container.
    func resolve(_ c: ContainerDefinition, base: [(String, String)], strict: Bool = true) throws(ConfigReferenceError) -> Result {
        var variables = base
        var skipped: [Skipped] = []
        func set(_ name: String, _ value: String) {
            if let i = variables.firstIndex(where: { $0.0 == name }) { variables[i].1 = value } else { variables.append((name, value)) }
        }
        let namespace = pod.metadata.namespace
        for source in c.envFrom {
            let prefix = source.prefix ?? ""
            let contents: [String: [UInt8]]
            let kind: String, name: String
            switch source.reference {
            case let .configMap(n, optional)?:
                (kind, name) = ("configMap", n)
                guard let config = catalog.configMap(namespace: namespace, name: n) else {
                    if optional ?? false || !strict { continue }
                    throw .notFound(ConfigMap.kind, n)
                }
                // kubelet reads data only, not binaryData, for envFrom.
                contents = config.data.mapValues { Array($0.utf8) }
            case let .secret(n, optional)?:
                (kind, name) = ("secret", n)
                guard let secret = catalog.secret(namespace: namespace, name: n) else {
                    if optional ?? false || !strict { continue }
                    throw .notFound(Secret.kind, n)
                }
                contents = secret.data
            case nil:
                continue
            }
            var invalid: [String] = []
            for key in contents.keys.sorted() {
                let variable = prefix + key
                guard EnvironmentVariableName.isValid(variable) else {
                    invalid.append(variable)
                    continue
                }
                set(variable, String(decoding: contents[key] ?? [], as: UTF8.self))
            }
            if !invalid.isEmpty { skipped.append(Skipped(kind: kind, name: name, keys: invalid)) }
        }
        let values = DownwardAPIValues(pod: pod, node: node)
        for e in c.env {
            if let source = e.valueFrom {
                if let ref = source.fieldRef {
                    set(e.name, values.field(ref.fieldPath))
                } else if let ref = source.resourceFieldRef {
                    set(e.name, node.value(ref, resources: pod.containerResources(named: ref.containerName ?? c.name)))
                } else if let ref = source.configMapKeyRef {
                    let optional = ref.optional ?? false
                    guard let config = catalog.configMap(namespace: namespace, name: ref.name) else {
                        if optional || !strict { continue }
                        throw .notFound(ConfigMap.kind, ref.name)
                    }
                    guard let value = config.data[ref.key] else {
                        if optional || !strict { continue }
                        throw .missingKey(ref.key, kind: ConfigMap.kind, namespace: namespace, name: ref.name)
                    }
                    set(e.name, value)
                } else if let ref = source.secretKeyRef {
                    let optional = ref.optional ?? false
                    guard let secret = catalog.secret(namespace: namespace, name: ref.name) else {
                        if optional || !strict { continue }
                        throw .notFound(Secret.kind, ref.name)
                    }
                    guard let value = secret.data[ref.key] else {
                        if optional || !strict { continue }
                        throw .missingKey(ref.key, kind: Secret.kind, namespace: namespace, name: ref.name)
                    }
                    set(e.name, String(decoding: value, as: UTF8.self))
                }
            } else {
                let defined = variables
                let expanded = VariableExpansion.expand(e.value ?? "") { name in defined.last { $0.0 == name }?.1 }
                set(e.name, expanded)
            }
        }
        return Result(variables: variables, skipped: skipped)
    }
}
