/// spec.nodeName, spec.nodeSelector and spec.tolerations, checked as the API server checks
/// them (ValidatePodSpec, ValidateTolerations). Whether the pod fits podd's node is not a
/// validation matter: it is decided when the pod is admitted (NodeScheduling).
enum SchedulingValidation {
    static func validate(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let node = spec.nodeName {
            for message in DNS1123.subdomainErrors(node) {
                errors.append(.invalid(path.child("nodeName"), .string(node), message))
            }
        }
        // Reported at the map's path, as metadata.labels are.
        for key in spec.nodeSelector.keys.sorted() {
            for message in NameRules.qualifiedNameErrors(key) {
                errors.append(.invalid(path.child("nodeSelector"), .string(key), message))
            }
            let value = spec.nodeSelector[key] ?? ""
            for message in NameRules.labelValueErrors(value) {
                errors.append(.invalid(path.child("nodeSelector"), .string(value), message))
            }
        }
        if let os = spec.osName {
            if os.isEmpty {
                errors.append(.required(path.child("os").child("name")))
            } else if !["linux", "windows"].contains(os) {
                errors.append(.notSupported(path.child("os").child("name"), .string(os), supported: ["linux", "windows"]))
            }
        }
        for (index, toleration) in spec.tolerations.enumerated() {
            errors += tolerationErrors(toleration, path: path.child("tolerations").index(index))
        }
        return errors
    }

    static let taintEffects = ["NoSchedule", "PreferNoSchedule", "NoExecute"]

    static func tolerationErrors(_ t: Toleration, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if !t.key.isEmpty {
            for message in NameRules.qualifiedNameErrors(t.key) {
                errors.append(.invalid(path.child("key"), .string(t.key), message))
            }
        }
        if t.key.isEmpty && t.operator != "Exists" {
            errors.append(.invalid(path.child("operator"), .string(t.operator),
                                   "operator must be Exists when `key` is empty, which means \"match all values and all keys\""))
        }
        if t.tolerationSeconds != nil && t.effect != "NoExecute" {
            errors.append(.invalid(path.child("effect"), .string(t.effect), "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        }
        switch t.operator {
        case "Equal", "":
            let messages = NameRules.labelValueErrors(t.value)
            if !messages.isEmpty { errors.append(.invalid(path.child("operator"), .string(t.value), messages.joined(separator: ";"))) }
        case "Exists":
            if !t.value.isEmpty {
                errors.append(.invalid(path.child("operator"), t.json, "value must be empty when `operator` is 'Exists'"))
            }
        default:
            errors.append(.notSupported(path.child("operator"), .string(t.operator), supported: ["Equal", "Exists"]))
        }
        if !t.effect.isEmpty && !taintEffects.contains(t.effect) {
            errors.append(.notSupported(path.child("effect"), .string(t.effect), supported: taintEffects))
        }
        return errors
    }
}
