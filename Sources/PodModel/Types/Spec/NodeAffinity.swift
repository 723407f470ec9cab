/// `spec.affinity`: its `nodeAffinity` (matched against podd's node) and the pods it must or
/// must not run beside (`podAffinity`, `podAntiAffinity`), as NodeScheduling decides them.
public struct Affinity: JSONConvertible {
    public var nodeAffinity: NodeAffinity?
    public var podAffinity: PodAffinity?
    public var podAntiAffinity: PodAffinity?

    public init(nodeAffinity: NodeAffinity? = nil, podAffinity: PodAffinity? = nil, podAntiAffinity: PodAffinity? = nil) {
        self.nodeAffinity = nodeAffinity
        self.podAffinity = podAffinity
        self.podAntiAffinity = podAntiAffinity
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let nodeAffinity = reader.decode("nodeAffinity", as: NodeAffinity.self)
        let podAffinity = reader.decode("podAffinity", as: PodAffinity.self)
        let podAntiAffinity = reader.decode("podAntiAffinity", as: PodAffinity.self)
        try reader.finish()
        self.init(nodeAffinity: nodeAffinity, podAffinity: podAffinity, podAntiAffinity: podAntiAffinity)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("nodeAffinity", nodeAffinity)
        writer.set("podAffinity", podAffinity)
        writer.set("podAntiAffinity", podAntiAffinity)
        return writer.json
    }
}

/// `affinity.nodeAffinity`: the node terms a pod must match (any one of them) to be placed,
/// and those it prefers (weights; on a one-node machine they decide nothing).
public struct NodeAffinity: JSONConvertible {
    /// `requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms`; nil: none asked.
    public var required: [NodeSelectorTerm]?
    public var preferred: [PreferredSchedulingTerm]

    public init(required: [NodeSelectorTerm]? = nil, preferred: [PreferredSchedulingTerm] = []) {
        self.required = required
        self.preferred = preferred
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let required = reader.decode("requiredDuringSchedulingIgnoredDuringExecution", as: NodeSelector.self)
        let preferred = reader.list("preferredDuringSchedulingIgnoredDuringExecution", of: PreferredSchedulingTerm.self)
        try reader.finish()
        self.init(required: required?.terms, preferred: preferred)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("requiredDuringSchedulingIgnoredDuringExecution", required.map { NodeSelector(terms: $0) })
        writer.set("preferredDuringSchedulingIgnoredDuringExecution", list: preferred)
        return writer.json
    }
}

/// `{nodeSelectorTerms: [...]}`, the required part's one field.
struct NodeSelector: JSONConvertible {
    var terms: [NodeSelectorTerm]

    init(terms: [NodeSelectorTerm]) { self.terms = terms }

    init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let terms = reader.list("nodeSelectorTerms", of: NodeSelectorTerm.self)
        try reader.finish()
        self.init(terms: terms)
    }

    var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("nodeSelectorTerms", .array(terms.map(\.json)))
        return writer.json
    }
}

/// One term: every expression (on the node's labels) and field (its metadata.name) must hold.
public struct NodeSelectorTerm: JSONConvertible {
    public var matchExpressions: [NodeSelectorRequirement]
    public var matchFields: [NodeSelectorRequirement]

    public init(matchExpressions: [NodeSelectorRequirement] = [], matchFields: [NodeSelectorRequirement] = []) {
        self.matchExpressions = matchExpressions
        self.matchFields = matchFields
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let expressions = reader.list("matchExpressions", of: NodeSelectorRequirement.self)
        let fields = reader.list("matchFields", of: NodeSelectorRequirement.self)
        try reader.finish()
        self.init(matchExpressions: expressions, matchFields: fields)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("matchExpressions", list: matchExpressions)
        writer.set("matchFields", list: matchFields)
        return writer.json
    }
}

/// `key operator values` of a node selector term: a label selector's requirement, whose
/// operators on a node add Gt and Lt (NodeScheduling matches them).
public typealias NodeSelectorRequirement = LabelSelectorRequirement

/// A preferred term and its weight (1-100).
public struct PreferredSchedulingTerm: JSONConvertible {
    public var weight: Int32
    public var preference: NodeSelectorTerm

    public init(weight: Int32, preference: NodeSelectorTerm) {
        self.weight = weight
        self.preference = preference
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let weight = reader.int32("weight") ?? 0
        let preference = reader.decode("preference", as: NodeSelectorTerm.self) ?? NodeSelectorTerm()
        try reader.finish()
        self.init(weight: weight, preference: preference)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("weight", .int(Int64(weight)))
        writer.set("preference", preference.json)
        return writer.json
    }
}
