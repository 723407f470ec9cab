/// A label selector written in an object (metav1.LabelSelector): `matchLabels` and
/// `matchExpressions`, all of which must hold. The query form (`?labelSelector=a=b`) is the
/// API layer's; this is the one pod affinity terms carry.
public struct LabelSelectorSpec: JSONConvertible {
    public var matchLabels: [String: String]
    public var matchExpressions: [LabelSelectorRequirement]

    public init(matchLabels: [String: String] = [:], matchExpressions: [LabelSelectorRequirement] = []) {
        self.matchLabels = matchLabels
        self.matchExpressions = matchExpressions
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let labels = reader.stringMap("matchLabels")
        let expressions = reader.list("matchExpressions", of: LabelSelectorRequirement.self)
        try reader.finish()
        self.init(matchLabels: labels, matchExpressions: expressions)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("matchLabels", map: matchLabels)
        writer.set("matchExpressions", list: matchExpressions)
        return writer.json
    }

    /// Whether `labels` satisfy every label and expression; an empty selector matches all.
    public func matches(_ labels: [String: String]) -> Bool {
        matchLabels.allSatisfy { labels[$0.key] == $0.value } && matchExpressions.allSatisfy { $0.matches(labels[$0.key]) }
    }

    /// `matches`, with the owner's values of `matchKeys` required and of `mismatchKeys`
    /// refused too, as the API server adds a term's matchLabelKeys and mismatchLabelKeys to
    /// its selector (a key the owner has no label for adds nothing).
    public func matches(_ labels: [String: String], owner: [String: String], matchKeys: [String], mismatchKeys: [String] = []) -> Bool {
        guard matches(labels) else { return false }
        return matchKeys.allSatisfy { key in owner[key].map { labels[key] == $0 } ?? true }
            && mismatchKeys.allSatisfy { key in owner[key].map { labels[key] != $0 } ?? true }
    }

    /// The problems the API server's ValidateLabelSelector finds, at `path`.
    public func errors(path: FieldPath) -> [FieldError] {
        var errors = PodValidation.labelErrors(matchLabels, path: path.child("matchLabels"))
        for (index, r) in matchExpressions.enumerated() {
            let p = path.child("matchExpressions").index(index)
            switch r.operator {
            case "In", "NotIn":
                if r.values.isEmpty { errors.append(.required(p.child("values"), "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !r.values.isEmpty { errors.append(.forbidden(p.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'")) }
            default:
                errors.append(.invalid(p.child("operator"), .string(r.operator), "not a valid selector operator"))
            }
            for message in NameRules.qualifiedNameErrors(r.key) {
                errors.append(.invalid(p.child("key"), .string(r.key), message))
            }
            for (v, value) in r.values.enumerated() {
                for message in NameRules.labelValueErrors(value) {
                    errors.append(.invalid(p.child("values").index(v), .string(value), message))
                }
            }
        }
        return errors
    }
}

/// `key operator values` of a label selector: In, NotIn, Exists, DoesNotExist (and, in a
/// node selector term, Gt and Lt: NodeSelectorRequirement).
public struct LabelSelectorRequirement: JSONConvertible {
    public var key: String
    public var `operator`: String
    public var values: [String]

    public init(key: String, operator: String, values: [String] = []) {
        self.key = key
        self.operator = `operator`
        self.values = values
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let key = reader.string("key") ?? ""
        let op = reader.string("operator") ?? ""
        let values = reader.strings("values")
        try reader.finish()
        self.init(key: key, operator: op, values: values)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("key", .string(key))
        writer.set("operator", .string(`operator`))
        writer.set("values", strings: values)
        return writer.json
    }

    /// Whether a label's value (nil: the label is absent) satisfies this requirement.
    func matches(_ value: String?) -> Bool {
        switch `operator` {
        case "In": return value.map(values.contains) ?? false
        case "NotIn": return value.map { !values.contains($0) } ?? true
        case "Exists": return value != nil
        case "DoesNotExist": return value == nil
        default: return false
        }
    }
}
