/// A taint of podd's node (`kubectl taint node NAME key=value:effect`): pods that do not
/// tolerate it are not placed there (NoSchedule, NoExecute) and, for NoExecute, are evicted
/// from it (TaintEviction). The cordon's taint (node.kubernetes.io/unschedulable) follows
/// spec.unschedulable and is not one of these.
public struct Taint: Sendable, Equatable {
    public var key: String
    public var value: String
    /// "NoSchedule", "PreferNoSchedule" or "NoExecute".
    public var effect: String
    /// When a NoExecute taint was added: its tolerations' seconds count from then.
    public var timeAdded: Timestamp?

    public static let effects = ["NoExecute", "NoSchedule", "PreferNoSchedule"]

    public init(key: String, value: String = "", effect: String, timeAdded: Timestamp? = nil) {
        self.key = key
        self.value = value
        self.effect = effect
        self.timeAdded = timeAdded
    }

    /// Reads one from a node's spec.taints (any JSON object: the API validates it after).
    public init(json: JSONValue) {
        self.init(key: json["key"]?.stringValue ?? "", value: json["value"]?.stringValue ?? "", effect: json["effect"]?.stringValue ?? "",
                  timeAdded: json["timeAdded"]?.stringValue.flatMap { Timestamp(rfc3339: $0) })
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("key", .string(key))]
        if !value.isEmpty { members.append(("value", .string(value))) }
        members.append(("effect", .string(effect)))
        if let timeAdded { members.append(("timeAdded", .string(timeAdded.rfc3339))) }
        return .object(JSONObject(members))
    }

    /// `key=value:effect`, as kubectl and the scheduler's messages write a taint.
    public var description: String { value.isEmpty ? "\(key):\(effect)" : "\(key)=\(value):\(effect)" }

    /// Whether any of `tolerations` tolerates it.
    public func isTolerated(by tolerations: [Toleration]) -> Bool {
        tolerations.contains { $0.tolerates(key: key, value: value, effect: effect) }
    }

    /// The API server's validation of a node's taints (validateNodeTaints): key a qualified
    /// name, value a label value, a known effect, each key and effect once.
    public static func errors(_ taints: [Taint], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (index, taint) in taints.enumerated() {
            let at = path.index(index)
            if taint.key.isEmpty {
                errors.append(.required(at.child("key")))
            } else {
                errors += NameRules.qualifiedNameErrors(taint.key).map { .invalid(at.child("key"), .string(taint.key), $0) }
            }
            errors += NameRules.labelValueErrors(taint.value).map { .invalid(at.child("value"), .string(taint.value), $0) }
            if taint.effect.isEmpty {
                errors.append(.required(at.child("effect")))
            } else if !effects.contains(taint.effect) {
                errors.append(.notSupported(at.child("effect"), .string(taint.effect), supported: effects))
            }
            if !seen.insert(taint.key + "\u{0}" + taint.effect).inserted {
                errors.append(FieldError(type: .duplicate, field: at, badValue: nil, detail: "taints must be unique by key and effect pair"))
            }
        }
        return errors
    }
}
