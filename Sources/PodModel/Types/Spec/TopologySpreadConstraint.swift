/// `spec.topologySpreadConstraints[]`: how unevenly the pods `labelSelector` selects (in the
/// pod's namespace) may spread over the domains of `topologyKey`. On podd's one node there is
/// one domain at most (PodTopologySpread): a node without the label refuses a DoNotSchedule
/// constraint, and `minDomains` above 1 makes the missing domains count as empty ones.
public struct TopologySpreadConstraint: JSONConvertible {
    public var maxSkew: Int32
    public var topologyKey: String
    /// "DoNotSchedule" (a filter) or "ScheduleAnyway" (a preference, which decides nothing here).
    public var whenUnsatisfiable: String
    public var labelSelector: LabelSelectorSpec?
    public var minDomains: Int32?
    /// "Honor" or "Ignore": whether nodes the pod's node affinity refuses count.
    public var nodeAffinityPolicy: String?
    /// "Honor" or "Ignore": whether tainted nodes count (one node: it decides nothing here).
    public var nodeTaintsPolicy: String?
    /// Labels of the pod whose values the counted pods must share.
    public var matchLabelKeys: [String]

    public init(maxSkew: Int32, topologyKey: String, whenUnsatisfiable: String, labelSelector: LabelSelectorSpec? = nil,
                minDomains: Int32? = nil, nodeAffinityPolicy: String? = nil, nodeTaintsPolicy: String? = nil, matchLabelKeys: [String] = []) {
        self.maxSkew = maxSkew
        self.topologyKey = topologyKey
        self.whenUnsatisfiable = whenUnsatisfiable
        self.labelSelector = labelSelector
        self.minDomains = minDomains
        self.nodeAffinityPolicy = nodeAffinityPolicy
        self.nodeTaintsPolicy = nodeTaintsPolicy
        self.matchLabelKeys = matchLabelKeys
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let maxSkew = reader.int32("maxSkew") ?? 0
        let topologyKey = reader.string("topologyKey") ?? ""
        let whenUnsatisfiable = reader.string("whenUnsatisfiable") ?? ""
        let selector = reader.decode("labelSelector", as: LabelSelectorSpec.self)
        let minDomains = reader.int32("minDomains")
        let affinityPolicy = reader.string("nodeAffinityPolicy")
        let taintsPolicy = reader.string("nodeTaintsPolicy")
        let keys = reader.strings("matchLabelKeys")
        try reader.finish()
        self.init(maxSkew: maxSkew, topologyKey: topologyKey, whenUnsatisfiable: whenUnsatisfiable, labelSelector: selector,
                  minDomains: minDomains, nodeAffinityPolicy: affinityPolicy, nodeTaintsPolicy: taintsPolicy, matchLabelKeys: keys)
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("maxSkew", .int(Int64(maxSkew)))
        writer.set("topologyKey", .string(topologyKey))
        writer.set("whenUnsatisfiable", .string(whenUnsatisfiable))
        writer.set("labelSelector", labelSelector)
        writer.set("minDomains", minDomains)
        writer.set("nodeAffinityPolicy", nodeAffinityPolicy)
        writer.set("nodeTaintsPolicy", nodeTaintsPolicy)
        writer.set("matchLabelKeys", strings: matchLabelKeys)
        return writer.json
    }

    /// A filter of the scheduler's (the others only rank nodes).
    public var isHard: Bool { whenUnsatisfiable == "DoNotSchedule" }
}
