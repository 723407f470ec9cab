/// `spec.tolerations[]`: the node taints a pod accepts: node.kubernetes.io/unschedulable
/// while the node is cordoned, and those set with `kubectl taint` (NodeScheduling,
/// TaintEviction). They are validated as the API server validates them, so that a manifest
/// from a cluster (where admission adds the not-ready and unreachable ones to every pod) runs
/// here unchanged.
public struct Toleration: JSONConvertible {
    /// The taint key matched; empty with operator Exists: every taint.
    public var key: String
    /// "Equal" (also when empty) or "Exists"; anything else is refused by validation.
    public var `operator`: String
    public var value: String
    /// "NoSchedule", "PreferNoSchedule", "NoExecute", or empty: every effect.
    public var effect: String
    /// With effect NoExecute: how long the pod stays bound once the taint appears.
    public var tolerationSeconds: Int64?

    public init(key: String = "", operator: String = "", value: String = "", effect: String = "", tolerationSeconds: Int64? = nil) {
        self.key = key
        self.operator = `operator`
        self.value = value
        self.effect = effect
        self.tolerationSeconds = tolerationSeconds
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let key = reader.string("key") ?? ""
        let op = reader.string("operator") ?? ""
        let value = reader.string("value") ?? ""
        let effect = reader.string("effect") ?? ""
        let seconds = reader.int64("tolerationSeconds")
        try reader.finish()
        self.init(key: key, operator: op, value: value, effect: effect, tolerationSeconds: seconds)
    }

    /// Whether it tolerates the taint `taintKey=taintValue:taintEffect`, as
    /// v1helper.TolerationsTolerateTaint matches them.
    public func tolerates(key taintKey: String, value taintValue: String = "", effect taintEffect: String) -> Bool {
        if !effect.isEmpty && effect != taintEffect { return false }
        if !key.isEmpty && key != taintKey { return false }
        switch `operator` {
        case "Exists": return true
        case "", "Equal": return value == taintValue
        default: return false
        }
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("key", nonEmpty: key)
        writer.set("operator", nonEmpty: `operator`)
        writer.set("value", nonEmpty: value)
        writer.set("effect", nonEmpty: effect)
        writer.set("tolerationSeconds", tolerationSeconds)
        return writer.json
    }
}
