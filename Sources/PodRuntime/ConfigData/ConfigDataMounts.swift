import PodModel

/// How volumes that project API data are mounted, and what `$(VAR)` expansion does to a
/// container's argv and subPathExpr (kubelet's ExpandContainerCommandAndArgs and
/// expandSubpath).
enum ConfigDataMounts {
    /// configMap, secret, downwardAPI and projected volumes are mounted read-only, as kubelet does.
    static func isReadOnly(_ volume: Volume) -> Bool {
        switch volume.source {
        case .configMap, .secret, .downwardAPI, .projected: return true
        case .emptyDir, .hostPath: return false
        }
    }

    /// `KEY=VALUE` lines to a lookup (the last definition wins).
    static func lookup(_ environment: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for line in environment {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }

    static func expandArguments(_ argv: [String], environment: [String]) -> [String] {
        guard argv.contains(where: { $0.contains("$") }) else { return argv }
        let values = lookup(environment)
        return argv.map { VariableExpansion.expand($0) { values[$0] } }
    }

    /// The path inside the volume a mount binds (subPath, or subPathExpr expanded from the
    /// container's environment); nil for the whole volume. The monitor opens it beneath the
    /// volume's root (openat2 RESOLVE_BENEATH), so no symlink or `..` leads out of it.
    static func subPath(_ mount: VolumeMount, environment: [String]) -> String? {
        if let subPath = mount.subPath, !subPath.isEmpty { return subPath }
        guard let expr = mount.subPathExpr, !expr.isEmpty else { return nil }
        let values = lookup(environment)
        return VariableExpansion.expand(expr) { values[$0] }
    }

    /// Whether the pod refers to a ConfigMap or Secret (`resource` "configmaps"/"secrets") of
    /// this name, in its env, envFrom or volumes.
    static func refers(_ pod: Pod, resource: String, name: String) -> Bool {
        let configMap = resource == ConfigMap.resource
        for volume in pod.spec.volumes {
            switch volume.source {
            case let .configMap(s) where configMap && s.name == name: return true
            case let .secret(s) where !configMap && s.secretName == name: return true
            case let .projected(p):
                for source in p.sources {
                    switch source {
                    case let .configMap(s) where configMap && s.name == name: return true
                    case let .secret(s) where !configMap && s.secretName == name: return true
                    default: break
                    }
                }
            default: break
            }
        }
        let containers = pod.spec.initContainers + pod.spec.containers + pod.spec.ephemeralContainers.map(\.common)
        for c in containers {
            for e in c.env {
                if configMap, e.valueFrom?.configMapKeyRef?.name == name { return true }
                if !configMap, e.valueFrom?.secretKeyRef?.name == name { return true }
            }
            for source in c.envFrom {
                switch source.reference {
                case let .configMap(n, _)? where configMap && n == name: return true
                case let .secret(n, _)? where !configMap && n == name: return true
                default: break
                }
            }
        }
        return false
    }

    /// Whether a volume's files come from the ConfigMap or Secret named.
    static func volume(_ volume: Volume, uses resource: String, name: String) -> Bool {
        var single = volume
        single.name = volume.name
        var pod = Pod()
        pod.spec.volumes = [single]
        return refers(pod, resource: resource, name: name)
    }
}
