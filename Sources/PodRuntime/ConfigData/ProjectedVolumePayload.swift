import PodModel

/// The files of a configMap, secret, downwardAPI or projected volume, computed from what
/// podd holds now: relative path → bytes and mode. A missing object or key that is not
/// optional is a ConfigReferenceError (the container waits with CreateContainerConfigError).
struct ProjectedVolumePayload {
    let pod: Pod
    let catalog: ConfigDataCatalog
    let node: NodeResources

    typealias Files = [String: AtomicWriter.File]

    func files(_ source: VolumeSource) throws(ConfigReferenceError) -> Files {
        switch source {
        case let .configMap(s): return try configMap(s, defaultMode: s.defaultMode ?? ProjectedFileMode.default)
        case let .secret(s): return try secret(s, defaultMode: s.defaultMode ?? ProjectedFileMode.default)
        case let .downwardAPI(s): return downwardAPI(s, defaultMode: s.defaultMode ?? ProjectedFileMode.default)
        case let .projected(p):
            var all: Files = [:]
            for projection in p.sources {
                let files: Files
                switch projection {
                case let .configMap(s): files = try configMap(s, defaultMode: p.defaultMode)
                case let .secret(s): files = try secret(s, defaultMode: p.defaultMode)
                case let .downwardAPI(s): files = downwardAPI(s, defaultMode: p.defaultMode)
                }
                all.merge(files) { _, new in new }
            }
            return all
        case .emptyDir, .hostPath:
            return [:]
        }
    }

    private func configMap(_ s: ConfigMapVolumeSource, defaultMode: Int32) throws(ConfigReferenceError) -> Files {
        let optional = s.optional ?? false
        guard let config = catalog.configMap(namespace: pod.metadata.namespace, name: s.name) else {
            if optional { return [:] }
            throw .notFound(ConfigMap.kind, s.name)
        }
        return try project(config.contents, items: s.items, defaultMode: defaultMode, optional: optional, kind: "config")
    }

    private func secret(_ s: SecretVolumeSource, defaultMode: Int32) throws(ConfigReferenceError) -> Files {
        let optional = s.optional ?? false
        guard let secret = catalog.secret(namespace: pod.metadata.namespace, name: s.secretName) else {
            if optional { return [:] }
            throw .notFound(Secret.kind, s.secretName)
        }
        return try project(secret.contents, items: s.items, defaultMode: defaultMode, optional: optional, kind: "secret")
    }

    /// Every key as a file of its name, or only the listed items (a listed key that is
    /// missing refuses the volume unless optional, as kubelet's MakePayload).
    private func project(_ contents: [String: [UInt8]], items: [KeyToPath], defaultMode: Int32, optional: Bool,
                         kind: String) throws(ConfigReferenceError) -> Files {
        var files: Files = [:]
        if items.isEmpty {
            for (key, bytes) in contents { files[key] = .init(bytes: bytes, mode: defaultMode) }
            return files
        }
        for item in items {
            guard let bytes = contents[item.key] else {
                if optional { continue }
                throw ConfigReferenceError(message: "\(kind == "config" ? "configmap" : "secret") references non-existent \(kind) key: \(item.key)")
            }
            files[item.path] = .init(bytes: bytes, mode: item.mode ?? defaultMode)
        }
        return files
    }

    private func downwardAPI(_ s: DownwardAPIVolumeSource, defaultMode: Int32) -> Files {
        let values = DownwardAPIValues(pod: pod, node: node)
        var files: Files = [:]
        for item in s.items {
            let text: String
            if let ref = item.fieldRef {
                text = values.field(ref.fieldPath)
            } else if let ref = item.resourceFieldRef {
                text = node.value(ref, resources: ref.containerName.flatMap { pod.containerResources(named: $0) })
            } else {
                continue
            }
            files[item.path] = .init(bytes: Array(text.utf8), mode: item.mode ?? defaultMode)
        }
        return files
    }
}
