/// spec.nodeName, spec.nodeSelector, spec.affinity and spec.tolerations, checked as the API
/// server checks them (ValidatePodSpec, ValidateAffinity, ValidateTolerations). Whether the pod fits podd's node is not a
/// validation matter: it is decided when the pod is admitted (NodeScheduling).
public enum SchedulingValidation {
    static func validate(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let node = spec.nodeName {
            for message in DNS1123.subdomainErrors(node) {
                errors.append(.invalid(path.child("nodeName"), .string(node), message))
            }
        }
        errors += PodValidation.labelErrors(spec.nodeSelector, path: path.child("nodeSelector"))
        if let os = spec.osName {
            if os.isEmpty {
                errors.append(.required(path.child("os").child("name")))
            } else if !["linux", "windows"].contains(os) {
                errors.append(.notSupported(path.child("os").child("name"), .string(os), supported: ["linux", "windows"]))
            }
        }
        if let affinity = spec.affinity?.nodeAffinity {
            errors += nodeAffinityErrors(affinity, path: path.child("affinity").child("nodeAffinity"))
        }
        if let affinity = spec.affinity?.podAffinity {
            errors += podAffinityErrors(affinity, path: path.child("affinity").child("podAffinity"))
        }
        if let affinity = spec.affinity?.podAntiAffinity {
            errors += podAffinityErrors(affinity, path: path.child("affinity").child("podAntiAffinity"))
        }
        for (index, toleration) in spec.tolerations.enumerated() {
            errors += tolerationErrors(toleration, path: path.child("tolerations").index(index))
        }
        for (index, gate) in spec.readinessGates.enumerated() {
            for message in NameRules.qualifiedNameErrors(gate.conditionType) {
                errors.append(.invalid(path.child("readinessGates").index(index).child("conditionType"), .string(gate.conditionType), message))
            }
        }
        if let name = spec.priorityClassName {
            for message in DNS1123.subdomainErrors(name) { errors.append(.invalid(path.child("priorityClassName"), .string(name), message)) }
        }
        if let policy = spec.preemptionPolicy, !PriorityClass.preemptionPolicies.contains(policy) {
            errors.append(.notSupported(path.child("preemptionPolicy"), .string(policy), supported: PriorityClass.preemptionPolicies))
        }
        errors += spreadErrors(spec.topologySpreadConstraints, path: path.child("topologySpreadConstraints"))
        var gates: Set<String> = []
        for (index, gate) in spec.schedulingGates.enumerated() {
            let p = path.child("schedulingGates").index(index).child("name")
            for message in NameRules.qualifiedNameErrors(gate.name) { errors.append(.invalid(p, .string(gate.name), message)) }
            if !gates.insert(gate.name).inserted { errors.append(.duplicate(p, .string(gate.name))) }
        }
        if !spec.schedulingGates.isEmpty && spec.nodeName != nil {
            errors.append(.forbidden(path.child("nodeName"), "cannot be set until all schedulingGates have been cleared"))
        }
        return errors
    }

    /// validateTopologySpreadConstraints of the API server.
    static func spreadErrors(_ constraints: [TopologySpreadConstraint], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, c) in constraints.enumerated() {
            let p = path.index(index)
            if c.maxSkew <= 0 { errors.append(.invalid(p.child("maxSkew"), .int(Int64(c.maxSkew)), "must be greater than zero")) }
            if c.topologyKey.isEmpty {
                errors.append(.required(p.child("topologyKey"), "can not be empty"))
            } else {
                for message in NameRules.qualifiedNameErrors(c.topologyKey) {
                    errors.append(.invalid(p.child("topologyKey"), .string(c.topologyKey), message))
                }
            }
            let whens = ["DoNotSchedule", "ScheduleAnyway"]
            if !whens.contains(c.whenUnsatisfiable) {
                errors.append(.notSupported(p.child("whenUnsatisfiable"), .string(c.whenUnsatisfiable), supported: whens))
            }
            if let min = c.minDomains {
                if min <= 0 {
                    errors.append(.invalid(p.child("minDomains"), .int(Int64(min)), "must be greater than zero"))
                } else if !c.isHard {
                    errors.append(.invalid(p.child("minDomains"), .int(Int64(min)),
                                           "can only use minDomains if whenUnsatisfiable=DoNotSchedule, not \(c.whenUnsatisfiable)"))
                }
            }
            for (field, policy) in [("nodeAffinityPolicy", c.nodeAffinityPolicy), ("nodeTaintsPolicy", c.nodeTaintsPolicy)] {
                if let policy, !["Honor", "Ignore"].contains(policy) {
                    errors.append(.notSupported(p.child(field), .string(policy), supported: ["Honor", "Ignore"]))
                }
            }
            // Reported at the first of a repeated kind, as the API server reports it.
            if constraints[(index + 1)...].contains(where: { $0.topologyKey == c.topologyKey && $0.whenUnsatisfiable == c.whenUnsatisfiable }) {
                errors.append(.duplicate(p.child("{topologyKey, whenUnsatisfiable}"), .string("{\(c.topologyKey), \(c.whenUnsatisfiable)}")))
            }
            errors += c.labelSelector?.errors(path: p.child("labelSelector")) ?? []
            let selected = Set((c.labelSelector?.matchLabels.keys).map(Array.init) ?? []).union(c.labelSelector?.matchExpressions.map(\.key) ?? [])
            if !c.matchLabelKeys.isEmpty && c.labelSelector == nil {
                errors.append(.forbidden(p.child("matchLabelKeys"), "must not be specified when labelSelector is not set"))
            } else {
                for (k, key) in c.matchLabelKeys.enumerated() {
                    let kp = p.child("matchLabelKeys").index(k)
                    for message in NameRules.qualifiedNameErrors(key) { errors.append(.invalid(kp, .string(key), message)) }
                    if selected.contains(key) { errors.append(.invalid(kp, .string(key), "exists in both matchLabelKeys and labelSelector")) }
                }
            }
        }
        return errors
    }

    /// An update may remove scheduling gates, never add one (ValidatePodUpdate's check).
    public static func gateUpdateErrors(old: PodSpec, new: PodSpec) -> [FieldError] {
        let had = Set(old.schedulingGates.map(\.name))
        guard let added = new.schedulingGates.first(where: { !had.contains($0.name) }) else { return [] }
        return [.forbidden(FieldPath.root.child("spec").child("schedulingGates"), "only deletion is allowed, but found new scheduling gate '\(added.name)'")]
    }

    static func nodeAffinityErrors(_ affinity: NodeAffinity, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if let terms = affinity.required {
            let termsPath = path.child("requiredDuringSchedulingIgnoredDuringExecution").child("nodeSelectorTerms")
            if terms.isEmpty { errors.append(.required(termsPath, "must have at least one node selector term")) }
            for (index, term) in terms.enumerated() { errors += termErrors(term, path: termsPath.index(index)) }
        }
        for (index, preferred) in affinity.preferred.enumerated() {
            let p = path.child("preferredDuringSchedulingIgnoredDuringExecution").index(index)
            if preferred.weight < 1 || preferred.weight > 100 {
                errors.append(.invalid(p.child("weight"), .int(Int64(preferred.weight)), "must be in the range 1-100"))
            }
            errors += termErrors(preferred.preference, path: p.child("preference"))
        }
        return errors
    }

    static func podAffinityErrors(_ affinity: PodAffinity, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, term) in affinity.required.enumerated() {
            errors += podAffinityTermErrors(term, path: path.child("requiredDuringSchedulingIgnoredDuringExecution").index(index))
        }
        for (index, weighted) in affinity.preferred.enumerated() {
            let p = path.child("preferredDuringSchedulingIgnoredDuringExecution").index(index)
            if weighted.weight < 1 || weighted.weight > 100 {
                errors.append(.invalid(p.child("weight"), .int(Int64(weighted.weight)), "must be in the range 1-100"))
            }
            errors += podAffinityTermErrors(weighted.podAffinityTerm, path: p.child("podAffinityTerm"))
        }
        return errors
    }

    /// validatePodAffinityTerm and validateMatchLabelKeysAndMismatchLabelKeys of the API server.
    static func podAffinityTermErrors(_ term: PodAffinityTerm, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        errors += term.labelSelector?.errors(path: path.child("labelSelector")) ?? []
        errors += term.namespaceSelector?.errors(path: path.child("namespaceSelector")) ?? []
        for namespace in term.namespaces {
            for message in DNS1123.labelErrors(namespace) {
                errors.append(.invalid(path.child("namespace"), .string(namespace), message))
            }
        }
        if term.topologyKey.isEmpty {
            errors.append(.required(path.child("topologyKey"), "can not be empty"))
        } else {
            for message in NameRules.qualifiedNameErrors(term.topologyKey) {
                errors.append(.invalid(path.child("topologyKey"), .string(term.topologyKey), message))
            }
        }
        for (field, keys) in [("matchLabelKeys", term.matchLabelKeys), ("mismatchLabelKeys", term.mismatchLabelKeys)] where !keys.isEmpty {
            if term.labelSelector == nil {
                errors.append(.forbidden(path.child(field), "must not be specified when labelSelector is not set"))
            }
            for (index, key) in keys.enumerated() {
                for message in NameRules.qualifiedNameErrors(key) {
                    errors.append(.invalid(path.child(field).index(index), .string(key), message))
                }
            }
        }
        for (index, key) in term.mismatchLabelKeys.enumerated() where term.matchLabelKeys.contains(key) {
            errors.append(.invalid(path.child("mismatchLabelKeys").index(index), .string(key), "exists in both matchLabelKeys and mismatchLabelKeys"))
        }
        return errors
    }

    static func termErrors(_ term: NodeSelectorTerm, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, r) in term.matchExpressions.enumerated() {
            let p = path.child("matchExpressions").index(index)
            switch r.operator {
            case "In", "NotIn":
                if r.values.isEmpty { errors.append(.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !r.values.isEmpty { errors.append(.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            case "Gt", "Lt":
                if r.values.count != 1 {
                    errors.append(.required(p.child("values"), "must be specified single value when `operator` is 'Lt' or 'Gt'"))
                } else if Int64(r.values[0]) == nil {
                    errors.append(.invalid(p.child("values").index(0), .string(r.values[0]), "must be an integer"))
                }
            default:
                errors.append(.notSupported(p.child("operator"), .string(r.operator), supported: ["DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn"]))
            }
            for message in NameRules.qualifiedNameErrors(r.key) {
                errors.append(.invalid(p.child("key"), .string(r.key), message))
            }
        }
        for (index, r) in term.matchFields.enumerated() {
            let p = path.child("matchFields").index(index)
            if r.key != "metadata.name" {
                errors.append(.invalid(p.child("key"), .string(r.key), "not a valid field selector key"))
            }
            switch r.operator {
            case "In", "NotIn":
                if r.values.count != 1 {
                    errors.append(.required(p.child("values"), "must be only one value when `operator` is 'In' or 'NotIn' for node field selector"))
                }
            default:
                errors.append(.invalid(p.child("operator"), .string(r.operator), "not a valid selector operator"))
            }
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
