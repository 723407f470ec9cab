import PodModel
import PodOS

/// What of podd's node the API may change, kept across restarts in the state dir
/// (`node.json`): labels set with `kubectl label node`, annotations (`kubectl annotate node`),
/// taints (`kubectl taint node`), and the cordon of `kubectl cordon` (spec.unschedulable,
/// since when), with the node's resourceVersion.
public struct NodeSettings: Sendable, Equatable {
    public var labels: [String: String]
    public var annotations: [String: String] = [:]
    public var taints: [Taint] = []
    public var cordonedAt: Timestamp?
    public var version: Int64

    public init(labels: [String: String], cordonedAt: Timestamp? = nil, version: Int64 = 1) {
        self.labels = labels
        self.cordonedAt = cordonedAt
        self.version = version
    }

    static func path(stateDir: String) -> String { stateDir + "/node.json" }

    /// The settings an earlier podd stored; nil when none (or unreadable: the node starts
    /// from the config's labels, as it would the first time).
    public static func load(stateDir: String) -> NodeSettings? {
        guard let bytes = try? FileSystem.read(path(stateDir: stateDir)), let json = try? JSONValue.parse(bytes),
              let labels = json["labels"]?.objectValue else { return nil }
        var settings = NodeSettings(labels: [:], version: json["resourceVersion"]?.intValue ?? 1)
        for (key, value) in labels { if let text = value.stringValue { settings.labels[key] = text } }
        for (key, value) in json["annotations"]?.objectValue ?? JSONObject() { if let text = value.stringValue { settings.annotations[key] = text } }
        settings.taints = (json["taints"]?.arrayValue ?? []).map(Taint.init(json:))
        settings.cordonedAt = json["cordonedAt"]?.stringValue.flatMap { Timestamp(rfc3339: $0) }
        return settings
    }

    public func save(stateDir: String) throws(OSError) {
        var json = JSONObject([("labels", .object(JSONObject(labels.keys.sorted().map { ($0, .string(labels[$0] ?? "")) }))),
                               ("resourceVersion", .int(version))])
        if !annotations.isEmpty {
            json["annotations"] = .object(JSONObject(annotations.keys.sorted().map { ($0, .string(annotations[$0] ?? "")) }))
        }
        if !taints.isEmpty { json["taints"] = .array(taints.map(\.json)) }
        if let cordonedAt { json["cordonedAt"] = .string(cordonedAt.rfc3339) }
        try FileSystem.writeAtomically(Self.path(stateDir: stateDir), JSONValue.object(json).serialized(pretty: true))
    }
}
