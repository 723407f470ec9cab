/// `affinity.podAffinity` or `affinity.podAntiAffinity`: the pods a pod must (required) or
/// would rather (preferred) share a topology domain with, or not. On podd's one node the
/// domain of a topologyKey is the node itself when it has that label (InterPodAffinity).
public struct PodAffinity: JSONConvertible {
    /// `requiredDuringSchedulingIgnoredDuringExecution`: every term must hold.
    public var required: [PodAffinityTerm]
    /// `preferredDuringSchedulingIgnoredDuringExecution`: weights that rank nodes; on one
    /// node they decide nothing.
    public var preferred: [WeightedPodAffinityTerm]

    public init(required: [PodAffinityTerm] = [], preferred: [WeightedPodAffinityTerm] = []) {
        self.required = required
        self.preferred = preferred
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let required = reader.list("requiredDuringSchedulingIgnoredDuringExecution", of: PodAffinityTerm.self)
        let preferred = reader.list("preferredDuringSchedulingIgnoredDuringExecution", of: WeightedPodAffinityTerm.self)
        try reader.finish()
        self.init(required: required, preferred: preferred)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("requiredDuringSchedulingIgnoredDuringExecution", list: required)
        writer.set("preferredDuringSchedulingIgnoredDuringExecution", list: preferred)
        return writer.json
    }
}

/// The pods a term selects: those matching `labelSelector` (with the owner's values of
/// `matchLabelKeys` and `mismatchLabelKeys` added) in `namespaces` and the namespaces
/// `namespaceSelector` selects, or the owner's namespace when neither is given.
public struct PodAffinityTerm: JSONConvertible {
    /// nil selects no pod.
    public var labelSelector: LabelSelectorSpec?
    public var namespaces: [String]
    /// The node label whose value names the domain; required.
    public var topologyKey: String
    /// nil: only `namespaces` (or the owner's); `{}`: every namespace.
    public var namespaceSelector: LabelSelectorSpec?
    /// Labels of the term's owner whose values the selected pods must share...
    public var matchLabelKeys: [String]
    /// ... or must not share.
    public var mismatchLabelKeys: [String]

    public init(labelSelector: LabelSelectorSpec? = nil, namespaces: [String] = [], topologyKey: String,
                namespaceSelector: LabelSelectorSpec? = nil, matchLabelKeys: [String] = [], mismatchLabelKeys: [String] = []) {
        self.labelSelector = labelSelector
        self.namespaces = namespaces
        self.topologyKey = topologyKey
        self.namespaceSelector = namespaceSelector
        self.matchLabelKeys = matchLabelKeys
        self.mismatchLabelKeys = mismatchLabelKeys
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let selector = reader.decode("labelSelector", as: LabelSelectorSpec.self)
        let namespaces = reader.strings("namespaces")
        let topologyKey = reader.string("topologyKey") ?? ""
        let namespaceSelector = reader.decode("namespaceSelector", as: LabelSelectorSpec.self)
        let matchKeys = reader.strings("matchLabelKeys")
        let mismatchKeys = reader.strings("mismatchLabelKeys")
        try reader.finish()
        self.init(labelSelector: selector, namespaces: namespaces, topologyKey: topologyKey, namespaceSelector: namespaceSelector,
                  matchLabelKeys: matchKeys, mismatchLabelKeys: mismatchKeys)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("labelSelector", labelSelector)
        writer.set("namespaces", strings: namespaces)
        writer.set("topologyKey", .string(topologyKey))
        writer.set("namespaceSelector", namespaceSelector)
        writer.set("matchLabelKeys", strings: matchLabelKeys)
        writer.set("mismatchLabelKeys", strings: mismatchLabelKeys)
        return writer.json
    }
}

/// A preferred term and its weight (1-100).
public struct WeightedPodAffinityTerm: JSONConvertible {
    public var weight: Int32
    public var podAffinityTerm: PodAffinityTerm

    public init(weight: Int32, podAffinityTerm: PodAffinityTerm) {
        self.weight = weight
        self.podAffinityTerm = podAffinityTerm
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let weight = reader.int32("weight") ?? 0
        let term = reader.decode("podAffinityTerm", as: PodAffinityTerm.self) ?? PodAffinityTerm(topologyKey: "")
        try reader.finish()
        self.init(weight: weight, podAffinityTerm: term)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("weight", .int(Int64(weight)))
        writer.set("podAffinityTerm", podAffinityTerm.json)
        return writer.json
    }
}
