import PodModel

/// `GET /version` (Kubernetes' version.Info) and the discovery documents clients read first.
public struct VersionInfo: Sendable {
    public var gitVersion: String
    public var gitCommit: String
    public var buildDate: String

    public init(gitVersion: String, gitCommit: String = "", buildDate: String = "") {
        self.gitVersion = gitVersion
        self.gitCommit = gitCommit
        self.buildDate = buildDate
    }

    /// linux/amd64, linux/arm64... as Go names the machine.
    static let platform: String = {
        #if arch(x86_64)
        return "linux/amd64"
        #elseif arch(arm64)
        return "linux/arm64"
        #else
        return "linux/unknown"
        #endif
    }()

    var json: JSONValue {
        let parts = gitVersion.dropFirst().split(separator: ".")
        return .object(JSONObject([
            ("major", .string(parts.first.map(String.init) ?? "0")),
            ("minor", .string(parts.count > 1 ? String(parts[1]) : "0")),
            ("gitVersion", .string(gitVersion)), ("gitCommit", .string(gitCommit)), ("gitTreeState", "clean"),
            ("buildDate", .string(buildDate)), ("goVersion", "swift6"), ("compiler", "swiftc"), ("platform", .string(Self.platform)),
        ]))
    }
}

enum Discovery {
    /// `/apis`: the API groups besides the core one; podd's own extension group.
    static let apiGroups: JSONValue = .object(JSONObject([
        ("kind", "APIGroupList"), ("apiVersion", "v1"), ("groups", .array([policyGroup, schedulingGroup, poddGroup, metricsGroup, authorizationGroup, authenticationGroup])),
    ]))

    /// policy: PodDisruptionBudgets (the eviction subresource is the core group's pods/eviction).
    static let policyGroup = group("policy/v1")
    static let policyV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", "policy/v1"),
        ("resources", .array([resource("poddisruptionbudgets", "PodDisruptionBudget", namespaced: true,
                                       verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], short: ["pdb"])])),
    ]))

    /// scheduling.k8s.io: PriorityClasses (cluster-scoped).
    static let schedulingGroup = group("scheduling.k8s.io/v1")
    static let schedulingV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", "scheduling.k8s.io/v1"),
        ("resources", .array([resource("priorityclasses", "PriorityClass", namespaced: false,
                                       verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], short: ["pc"])])),
    ]))

    /// authorization.k8s.io: the reviews `kubectl auth can-i` sends (AccessReviews).
    static let authorizationGroup = group(AccessReviews.authorizationVersion)
    static let authorizationV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", .string(AccessReviews.authorizationVersion)),
        ("resources", .array([resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", namespaced: false, verbs: ["create"]),
                              resource("selfsubjectrulesreviews", "SelfSubjectRulesReview", namespaced: false, verbs: ["create"])])),
    ]))

    /// authentication.k8s.io: the review `kubectl auth whoami` sends.
    static let authenticationGroup = group(AccessReviews.authenticationVersion)
    static let authenticationV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", .string(AccessReviews.authenticationVersion)),
        ("resources", .array([resource("selfsubjectreviews", "SelfSubjectReview", namespaced: false, verbs: ["create"])])),
    ]))

    /// A group of one version, "GROUP/VERSION".
    private static func group(_ groupVersion: String) -> JSONValue {
        let parts = groupVersion.split(separator: "/").map(String.init)
        let version = JSONValue.object(JSONObject([("groupVersion", .string(groupVersion)), ("version", .string(parts[1]))]))
        return .object(JSONObject([("kind", "APIGroup"), ("apiVersion", "v1"), ("name", .string(parts[0])),
                                   ("versions", .array([version])), ("preferredVersion", version)]))
    }

    /// Every resource podd serves, by API group ("" the core one), with its verbs: what the
    /// discovery documents list, read back from them so that the two never disagree.
    static let servedResources: [(group: String, resource: String, verbs: [String])] = {
        let lists: [(String, JSONValue)] = [("", coreV1Resources), ("podd.io", poddV1Resources),
                                            ("metrics.k8s.io", metricsV1beta1Resources), ("policy", policyV1Resources), ("scheduling.k8s.io", schedulingV1Resources),
                                            ("authorization.k8s.io", authorizationV1Resources),
                                            ("authentication.k8s.io", authenticationV1Resources)]
        return lists.flatMap { group, list in
            (list["resources"]?.arrayValue ?? []).compactMap { entry in
                guard let name = entry["name"]?.stringValue else { return nil }
                return (group, name, (entry["verbs"]?.arrayValue ?? []).compactMap(\.stringValue))
            }
        }
    }()

    /// metrics.k8s.io: PodMetrics, what `kubectl top pod` reads.
    static let metricsGroup: JSONValue = .object(JSONObject([
        ("kind", "APIGroup"), ("apiVersion", "v1"), ("name", "metrics.k8s.io"),
        ("versions", .array([.object(JSONObject([("groupVersion", "metrics.k8s.io/v1beta1"), ("version", "v1beta1")]))])),
        ("preferredVersion", .object(JSONObject([("groupVersion", "metrics.k8s.io/v1beta1"), ("version", "v1beta1")]))),
    ]))

    static let metricsV1beta1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", "metrics.k8s.io/v1beta1"),
        ("resources", .array([resource("nodes", "NodeMetrics", namespaced: false, verbs: ["get", "list"]),
                              resource("pods", "PodMetrics", namespaced: true, verbs: ["get", "list"])])),
    ]))

    static let poddGroup: JSONValue = .object(JSONObject([
        ("kind", "APIGroup"), ("apiVersion", "v1"), ("name", "podd.io"),
        ("versions", .array([.object(JSONObject([("groupVersion", "podd.io/v1"), ("version", "v1")]))])),
        ("preferredVersion", .object(JSONObject([("groupVersion", "podd.io/v1"), ("version", "v1")]))),
    ]))

    static let poddV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("apiVersion", "v1"), ("groupVersion", "podd.io/v1"),
        ("resources", .array([resource("images", "Image", namespaced: false, verbs: ["create", "delete", "get", "list"])])),
    ]))

    static let apiVersions: JSONValue = .object(JSONObject([
        ("kind", "APIVersions"), ("versions", ["v1"]),
        ("serverAddressByClientCIDRs", .array([])),
    ]))

    static let coreV1Resources: JSONValue = .object(JSONObject([
        ("kind", "APIResourceList"), ("groupVersion", "v1"),
        ("resources", .array([
            // In the `all` category, as the API server lists pods: `kubectl get all` shows them.
            resource("pods", "Pod", namespaced: true, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], short: ["po"],
                     categories: ["all"]),
            resource("pods/log", "Pod", namespaced: true, verbs: ["get"]),
            resource("pods/ephemeralcontainers", "Pod", namespaced: true, verbs: ["get", "patch", "update"]),
            resource("pods/status", "Pod", namespaced: true, verbs: ["get", "patch", "update"]),
            // kubectl drain finds the Eviction's group and version here (CheckEvictionSupport).
            resource("pods/eviction", "Eviction", namespaced: true, verbs: ["create"], group: "policy", version: "v1"),
            resource("pods/exec", "PodExecOptions", namespaced: true, verbs: ["create", "get"]),
            resource("pods/attach", "PodAttachOptions", namespaced: true, verbs: ["create", "get"]),
            resource("events", "Event", namespaced: true, verbs: ["list", "watch"], short: ["ev"]),
            resource("configmaps", "ConfigMap", namespaced: true, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"], short: ["cm"]),
            resource("secrets", "Secret", namespaced: true, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"]),
            resource("serviceaccounts", "ServiceAccount", namespaced: true, verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
                     short: ["sa"]),
            resource("namespaces", "Namespace", namespaced: false, verbs: ["get", "list"], short: ["ns"]),
            resource("nodes", "Node", namespaced: false, verbs: ["get", "list", "patch", "update", "watch"], short: ["no"]),
        ])),
    ]))

    private static func resource(_ name: String, _ kind: String, namespaced: Bool, verbs: [String], short: [String] = [],
                                 categories: [String] = [], group: String? = nil, version: String? = nil) -> JSONValue {
        var o = JSONObject([("name", .string(name)), ("singularName", ""), ("namespaced", .bool(namespaced))])
        // A subresource of another group's kind names it (pods/eviction: policy/v1 Eviction).
        if let group, let version {
            o["group"] = .string(group)
            o["version"] = .string(version)
        }
        o["kind"] = .string(kind)
        o["verbs"] = .array(verbs.map { .string($0) })
        if !short.isEmpty { o["shortNames"] = .array(short.map { .string($0) }) }
        if !categories.isEmpty { o["categories"] = .array(categories.map { .string($0) }) }
        return .object(o)
    }
}
