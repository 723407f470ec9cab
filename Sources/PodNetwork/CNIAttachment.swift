import PodJSON

/// One pod's attachment to a CNI network: everything its DEL needs, saved before its ADD
/// runs and updated with the ADD's result, so that the pod's network is torn down with the
/// configuration it was set up with (whatever the conflist says by then), after a podd
/// restart or crash, and also when the ADD failed half-way.
public struct CNIAttachment: Sendable, Equatable {
    /// CNI_CONTAINERID: the pod's uid.
    public var containerID: String
    /// CNI_NETNS: the pod's (pinned) network namespace.
    public var netns: String
    /// CNI_IFNAME: the pod's interface.
    public var ifName: String
    /// CNI_ARGS, as kubelet passes them (K8S_POD_NAMESPACE, K8S_POD_NAME, ...).
    public var args: [(String, String)]
    /// Capability arguments (`portMappings`), handed to the plugins that declare them.
    public var runtimeConfig: JSONObject
    public var config: CNIConfigList
    /// The ADD's final result, once it succeeded.
    public var result: JSONValue?

    public init(containerID: String, netns: String, ifName: String = "eth0", args: [(String, String)],
                runtimeConfig: JSONObject, config: CNIConfigList, result: JSONValue? = nil) {
        self.containerID = containerID
        self.netns = netns
        self.ifName = ifName
        self.args = args
        self.runtimeConfig = runtimeConfig
        self.config = config
        self.result = result
    }

    public static func == (a: CNIAttachment, b: CNIAttachment) -> Bool {
        a.containerID == b.containerID && a.netns == b.netns && a.ifName == b.ifName
            && a.args.map { "\($0.0)=\($0.1)" } == b.args.map { "\($0.0)=\($0.1)" }
            && a.runtimeConfig == b.runtimeConfig && a.config == b.config && a.result == b.result
    }

    /// The CNI_ARGS string: `K=V;K=V`, with IgnoreUnknown so that plugins that do not know a
    /// key do not fail on it.
    var argsString: String {
        (args.isEmpty ? [] : [("IgnoreUnknown", "1")] + args).map { "\($0.0)=\($0.1)" }.joined(separator: ";")
    }

    public var json: JSONValue {
        var o = JSONObject()
        o["containerID"] = .string(containerID)
        o["netns"] = .string(netns)
        o["ifName"] = .string(ifName)
        o["args"] = .array(args.map { .array([.string($0.0), .string($0.1)]) })
        o["runtimeConfig"] = .object(runtimeConfig)
        o["config"] = config.json
        if let result { o["result"] = result }
        return .object(o)
    }

    public init(json: JSONValue) throws(CNIError) {
        guard let id = json["containerID"]?.stringValue, let netns = json["netns"]?.stringValue,
              let ifName = json["ifName"]?.stringValue, let config = json["config"] else {
            throw .runtime("a saved CNI attachment lacks containerID, netns, ifName or config")
        }
        self.containerID = id
        self.netns = netns
        self.ifName = ifName
        args = (json["args"]?.arrayValue ?? []).compactMap { pair in
            guard let k = pair[0]?.stringValue, let v = pair[1]?.stringValue else { return nil }
            return (k, v)
        }
        runtimeConfig = json["runtimeConfig"]?.objectValue ?? JSONObject()
        self.config = try CNIConfigList(json: config, source: "saved attachment \(id)")
        result = json["result"].flatMap { $0.isNull ? nil : $0 }
    }
}
