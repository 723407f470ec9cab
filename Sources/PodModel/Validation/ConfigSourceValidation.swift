/// Validation of what projects API data into a pod (configMap, secret, projected and
/// downwardAPI volumes; env valueFrom and envFrom; subPath mounts), as the API server does
/// it, with its paths and messages.
enum ConfigSourceValidation {
    static let modeMessage = "must be a number between 0 and 0777 (octal), both inclusive"

    /// The field paths a downward API volume may name (besides subscripted labels and
    /// annotations): Kubernetes' validVolumeDownwardAPIFieldPathExpressions.
    static let volumeFieldPaths = ["metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace", "metadata.uid"]

    static func mode(_ value: Int32?, path: FieldPath) -> [FieldError] {
        guard let value, value < 0 || value > 0o777 else { return [] }
        return [.invalid(path, .int(Int64(value)), modeMessage)]
    }

    /// Kubernetes' validateLocalDescendingPath: relative, no '..' element, not starting with '..'.
    static func localPath(_ value: String, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if value.hasPrefix("/") { errors.append(.invalid(path, .string(value), "must be a relative path")) }
        errors += PathRules.noBacksteps(value, path: path)
        if value.hasPrefix("..") && errors.isEmpty { errors.append(.invalid(path, .string(value), "must not start with '..'")) }
        return errors
    }

    static func items(_ items: [KeyToPath], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, item) in items.enumerated() {
            let itemPath = path.index(index)
            if item.key.isEmpty { errors.append(.required(itemPath.child("key"))) }
            if item.path.isEmpty { errors.append(.required(itemPath.child("path"))) } else { errors += localPath(item.path, path: itemPath.child("path")) }
            errors += mode(item.mode, path: itemPath.child("mode"))
        }
        return errors
    }

    static func downwardAPI(_ source: DownwardAPIVolumeSource, path: FieldPath) -> [FieldError] {
        var errors = mode(source.defaultMode, path: path.child("defaultMode"))
        for (index, file) in source.items.enumerated() {
            let filePath = path.child("items").index(index)
            if file.path.isEmpty { errors.append(.required(filePath.child("path"))) } else { errors += localPath(file.path, path: filePath.child("path")) }
            errors += mode(file.mode, path: filePath.child("mode"))
            switch (file.fieldRef, file.resourceFieldRef) {
            case let (fieldRef?, nil):
                errors += fieldRefErrors(fieldRef, allowed: volumeFieldPaths, path: filePath.child("fieldRef"))
            case let (nil, resourceRef?):
                if (resourceRef.containerName ?? "").isEmpty { errors.append(.required(filePath.child("resourceFieldRef", "containerName"))) }
                errors += resourceRefErrors(resourceRef, path: filePath.child("resourceFieldRef"))
            case (.some, .some):
                errors.append(.invalid(filePath, "resource", "fieldRef and resourceFieldRef can not be specified simultaneously"))
            case (nil, nil):
                errors.append(.required(filePath, "one of fieldRef and resourceFieldRef is required"))
            }
        }
        return errors
    }

    static func volumeSource(_ source: VolumeSource, path: FieldPath) -> [FieldError] {
        switch source {
        case let .configMap(s):
            let p = path.child("configMap")
            let errors = s.name.isEmpty ? [FieldError.required(p.child("name"))] : []
            return errors + items(s.items, path: p.child("items")) + mode(s.defaultMode, path: p.child("defaultMode"))
        case let .secret(s):
            let p = path.child("secret")
            let errors = s.secretName.isEmpty ? [FieldError.required(p.child("secretName"))] : []
            return errors + items(s.items, path: p.child("items")) + mode(s.defaultMode, path: p.child("defaultMode"))
        case let .downwardAPI(s):
            return downwardAPI(s, path: path.child("downwardAPI"))
        case let .projected(s):
            let p = path.child("projected")
            var errors = mode(s.defaultMode, path: p.child("defaultMode"))
            var paths = Set<String>()
            for (index, projection) in s.sources.enumerated() {
                let sp = p.child("sources").index(index)
                var filePaths: [String] = []
                switch projection {
                case let .configMap(c):
                    if c.name.isEmpty { errors.append(.required(sp.child("configMap", "name"))) }
                    errors += items(c.items, path: sp.child("configMap", "items"))
                    filePaths = c.items.map(\.path)
                case let .secret(c):
                    if c.secretName.isEmpty { errors.append(.required(sp.child("secret", "name"))) }
                    errors += items(c.items, path: sp.child("secret", "items"))
                    filePaths = c.items.map(\.path)
                case let .downwardAPI(d):
                    errors += downwardAPI(d, path: sp.child("downwardAPI"))
                    filePaths = d.items.map(\.path)
                }
                for file in filePaths where !file.isEmpty && !paths.insert(file).inserted {
                    errors.append(.invalid(sp, .string(file), "conflicting duplicate paths"))
                }
            }
            return errors
        case .emptyDir, .hostPath:
            return []
        }
    }

    // MARK: Environment

    static func fieldRefErrors(_ ref: ObjectFieldSelector, allowed: [String], path: FieldPath) -> [FieldError] {
        if ref.fieldPath.isEmpty { return [.required(path.child("fieldPath"))] }
        if ref.apiVersion != "v1" {
            return [.invalid(path.child("fieldPath"), .string(ref.fieldPath), "error converting fieldPath: unsupported pod version: \(ref.apiVersion)")]
        }
        if let (map, key) = DownwardAPIField.subscripted(ref.fieldPath) {
            let messages = NameRules.qualifiedNameErrors(map == "metadata.annotations" ? key.lowercased() : key)
            return messages.map { .invalid(path.child("fieldPath"), .string(ref.fieldPath), $0) }
        }
        if !allowed.contains(ref.fieldPath) {
            return [.notSupported(path.child("fieldPath"), .string(ref.fieldPath), supported: allowed)]
        }
        return []
    }

    static func resourceRefErrors(_ ref: ResourceFieldSelector, path: FieldPath) -> [FieldError] {
        if ref.resource.isEmpty { return [.required(path.child("resource"))] }
        guard ResourceFieldSelector.supportedResources.contains(ref.resource) else {
            return [.notSupported(path.child("resource"), .string(ref.resource), supported: ResourceFieldSelector.supportedResources)]
        }
        if let divisor = ref.divisor, DownwardAPIField.divisorMillis(divisor, resource: ref.resource) == nil {
            let detail = ref.resource.hasSuffix("cpu") ? "only divisor's values 1m and 1 are supported with the cpu resource"
                : "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported with the memory resource"
            return [.invalid(path.child("divisor"), .string(divisor.string), detail)]
        }
        return []
    }

    /// Exactly one source, each well-formed.
    static func envSource(_ source: EnvVarSource, value: String?, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var count = 0
        if let ref = source.fieldRef {
            count += 1
            errors += fieldRefErrors(ref, allowed: ObjectFieldSelector.supportedFieldPaths, path: path.child("fieldRef"))
        }
        if let ref = source.resourceFieldRef {
            count += 1
            errors += resourceRefErrors(ref, path: path.child("resourceFieldRef"))
        }
        for (name, ref) in [("configMapKeyRef", source.configMapKeyRef), ("secretKeyRef", source.secretKeyRef)] {
            guard let ref else { continue }
            count += 1
            if ref.name.isEmpty { errors.append(.required(path.child(name, "name"))) }
            if ref.key.isEmpty {
                errors.append(.required(path.child(name, "key")))
            } else {
                errors += ConfigDataValidation.keyErrors(ref.key).map { .invalid(path.child(name, "key"), .string(ref.key), $0) }
            }
        }
        if count == 0 {
            errors.append(.invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"))
        } else if count > 1 {
            errors.append(.invalid(path, "", "may not have more than one field specified at a time"))
        }
        if let value, !value.isEmpty {
            errors.append(.invalid(path, "", "may not be specified when `value` is not empty"))
        }
        return errors
    }

    static func envFrom(_ sources: [EnvFromSource], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, source) in sources.enumerated() {
            let p = path.index(index)
            switch source.reference {
            case let .configMap(name, _)?:
                if name.isEmpty { errors.append(.required(p.child("configMapRef", "name"))) }
            case let .secret(name, _)?:
                if name.isEmpty { errors.append(.required(p.child("secretRef", "name"))) }
            case nil:
                errors.append(.invalid(p, "", "must specify one of: `configMapRef` or `secretRef`"))
            }
            if let prefix = source.prefix, !prefix.isEmpty {
                errors += NameRules.environmentVariableNameErrors(prefix).map { .invalid(p.child("prefix"), .string(prefix), $0) }
            }
        }
        return errors
    }

    /// subPath must stay inside the volume; subPath and subPathExpr exclude each other.
    static func subPath(_ mount: VolumeMount, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let subPath = mount.subPath, !subPath.isEmpty {
            errors += localPath(subPath, path: path.child("subPath"))
            errors += ArgvRules.noNUL(subPath, path: path.child("subPath"))
        }
        if let expr = mount.subPathExpr, !expr.isEmpty {
            if let subPath = mount.subPath, !subPath.isEmpty {
                errors.append(.invalid(path.child("subPathExpr"), .string(expr), "subPathExpr and subPath are mutually exclusive"))
            }
            if expr.hasPrefix("/") { errors.append(.invalid(path.child("subPathExpr"), .string(expr), "must be a relative path")) }
            errors += ArgvRules.noNUL(expr, path: path.child("subPathExpr"))
        }
        return errors
    }
}

/// Reading the downward API's field paths and resource divisors, shared by validation and
/// the runtime that resolves them.
public enum DownwardAPIField {
    /// `metadata.labels['k']` → ("metadata.labels", "k"); nil for another path.
    public static func subscripted(_ fieldPath: String) -> (String, String)? {
        for map in ["metadata.labels", "metadata.annotations"] {
            let open = map + "['"
            if fieldPath.hasPrefix(open), fieldPath.hasSuffix("']"), fieldPath.count > open.count + 2 {
                return (map, String(fieldPath.dropFirst(open.count).dropLast(2)))
            }
        }
        return nil
    }

    /// kubelet's FormatMap (labels and annotations in a downward API file): `key="value"`
    /// lines, sorted by key, values quoted as Go's %q.
    public static func formatMap(_ map: [String: String]) -> String {
        map.keys.sorted().map { "\($0)=\(FieldError.goQuoted(map[$0] ?? ""))" }.joined(separator: "\n")
    }

    /// The divisor in thousandths of its unit (cpu: 1m is 1, 1 is 1000; memory: bytes × 1000);
    /// nil for a divisor Kubernetes does not allow for `resource`.
    public static func divisorMillis(_ divisor: Quantity, resource: String) -> Int64? {
        if resource.hasSuffix("cpu") {
            switch divisor.string {
            case "1m": return 1
            case "1", "0": return 1000
            default: return nil
            }
        }
        let allowed = ["0", "1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei"]
        guard allowed.contains(divisor.string) else { return nil }
        let value = divisor.value == 0 ? 1 : divisor.value
        return value.multipliedReportingOverflow(by: 1000).overflow ? nil : value * 1000
    }
}
