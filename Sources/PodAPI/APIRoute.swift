import NIOHTTP1
import PodModel
import PodRuntime

/// What a request's path names, and the methods it takes: the API's whole URL space in one
/// pure function (`match`), so that routing is tested without a daemon.
enum APIRoute: Sendable, Equatable {
    case version
    case health
    case metrics
    case apiVersions
    case coreResources
    case apiGroups
    case poddGroup
    /// `/apis/metrics.k8s.io` and its v1beta1 resources (kubectl top).
    case metricsGroup
    case metricsResources
    /// PodMetrics: all namespaces (nil), a namespace, or one pod (`name`).
    case podMetrics(namespace: String?, name: String?)
    /// NodeMetrics: podd's node (`name`, or the list of it).
    case nodeMetrics(name: String?)
    case poddResources
    /// authorization.k8s.io and authentication.k8s.io: the self reviews (AccessReviews).
    case authorizationGroup
    case authorizationResources
    case authenticationGroup
    case authenticationResources
    /// `/apis/policy` and its v1 resources (PodDisruptionBudgets).
    case policyGroup
    case policyResources
    /// `/apis/scheduling.k8s.io` and its v1 resources (PriorityClasses, cluster-scoped: their
    /// routes are `storedObjects` and `storedObject` with the namespace "").
    case schedulingGroup
    case schedulingResources
    case selfSubjectAccessReviews
    case selfSubjectRulesReviews
    case selfSubjectReviews
    /// `/api/v1/pods` (nil: all namespaces) and `/api/v1/namespaces/NS/pods`.
    case pods(namespace: String?)
    case pod(PodRegistry.Key)
    case podLog(PodRegistry.Key)
    case podExec(PodRegistry.Key)
    case podAttach(PodRegistry.Key)
    case podPortForward(PodRegistry.Key)
    case podEphemeralContainers(PodRegistry.Key)
    case podStatus(PodRegistry.Key)
    /// `POST .../pods/NAME/eviction` (EvictionRoute).
    case podEviction(PodRegistry.Key)
    case events(namespace: String?)
    /// `configmaps`, `secrets` or (policy/v1) `poddisruptionbudgets` (ObjectRoutes.swift), of a
    /// namespace or (nil) all of them.
    case storedObjects(resource: String, namespace: String?)
    case storedObject(resource: String, PodRegistry.Key)
    case namespaces
    case namespace(String)
    /// `/api/v1/nodes[/{name}]`: podd's one node (NodeRoutes).
    case nodes
    case node(String)
    /// podd's prune extension: `/apis/podd.io/v1/namespaces/NS/pods/NAME/ephemeralcontainers[/C]`.
    case pruneEphemeralContainers(PodRegistry.Key, container: String?)
    case images
    /// `/apis/podd.io/v1/images/REF` (a reference may hold '/': it spans the rest of the path).
    case image(String)
    /// `/openapi/v2`, `/openapi/v3` and `/openapi/v3/GROUP/VERSION` (OpenAPIDocuments).
    case openAPIV2
    case openAPIV3
    case openAPIV3GroupVersion(String)

    /// The methods the resource takes; any other is 405.
    var methods: [HTTPMethod] {
        switch self {
        case .pods(namespace: nil): return [.GET]
        case .pods: return [.GET, .POST]
        case .pod, .storedObject: return [.GET, .PUT, .PATCH, .DELETE]
        case .storedObjects(_, namespace: nil): return [.GET]
        case .storedObjects: return [.GET, .POST]
        case .podExec, .podAttach, .podPortForward: return [.GET, .POST]
        case .podEviction: return [.POST]
        case .podEphemeralContainers, .node, .podStatus: return [.GET, .PUT, .PATCH]
        case .pruneEphemeralContainers: return [.DELETE]
        case .images: return [.GET, .POST]
        case .image: return [.GET, .DELETE, .POST]
        case .selfSubjectAccessReviews, .selfSubjectRulesReviews, .selfSubjectReviews: return [.POST]
        default: return [.GET]
        }
    }

    /// The resource the percent-decoded path `segments` name: nil when none (404), 400 for a
    /// namespace that cannot be one.
    static func match(_ s: [String]) throws(StatusError) -> APIRoute? {
        switch s.count {
        case 1:
            switch s[0] {
            case "version": return .version
            case "healthz", "readyz", "livez": return .health
            case "metrics": return .metrics
            case "api": return .apiVersions
            case "apis": return .apiGroups
            default: break
            }
        case 2 where s == ["openapi", "v2"]: return .openAPIV2
        case 2 where s == ["openapi", "v3"]: return .openAPIV3
        case 2 where s == ["api", "v1"]: return .coreResources
        case 2 where s == ["apis", "podd.io"]: return .poddGroup
        case 2 where s == ["apis", "metrics.k8s.io"]: return .metricsGroup
        case 3 where s == ["apis", "metrics.k8s.io", "v1beta1"]: return .metricsResources
        case 4 where s == ["apis", "metrics.k8s.io", "v1beta1", "pods"]: return .podMetrics(namespace: nil, name: nil)
        case 4 where s == ["apis", "metrics.k8s.io", "v1beta1", "nodes"]: return .nodeMetrics(name: nil)
        case 5 where Array(s.prefix(4)) == ["apis", "metrics.k8s.io", "v1beta1", "nodes"]: return .nodeMetrics(name: s[4])
        case 3 where s == ["apis", "podd.io", "v1"]: return .poddResources
        case 2 where s == ["apis", "scheduling.k8s.io"]: return .schedulingGroup
        case 3 where s == ["apis", "scheduling.k8s.io", "v1"]: return .schedulingResources
        case 4 where s == ["apis", "scheduling.k8s.io", "v1", "priorityclasses"]: return .storedObjects(resource: "priorityclasses", namespace: "")
        case 5 where Array(s.prefix(4)) == ["apis", "scheduling.k8s.io", "v1", "priorityclasses"]:
            return .storedObject(resource: "priorityclasses", PodRegistry.Key("", s[4]))
        case 2 where s == ["apis", "policy"]: return .policyGroup
        case 3 where s == ["apis", "policy", "v1"]: return .policyResources
        case 4 where s == ["apis", "policy", "v1", "poddisruptionbudgets"]:
            return .storedObjects(resource: "poddisruptionbudgets", namespace: nil)
        case 2 where s == ["apis", "authorization.k8s.io"]: return .authorizationGroup
        case 3 where s == ["apis", "authorization.k8s.io", "v1"]: return .authorizationResources
        case 4 where s == ["apis", "authorization.k8s.io", "v1", "selfsubjectaccessreviews"]: return .selfSubjectAccessReviews
        case 4 where s == ["apis", "authorization.k8s.io", "v1", "selfsubjectrulesreviews"]: return .selfSubjectRulesReviews
        case 2 where s == ["apis", "authentication.k8s.io"]: return .authenticationGroup
        case 3 where s == ["apis", "authentication.k8s.io", "v1"]: return .authenticationResources
        case 4 where s == ["apis", "authentication.k8s.io", "v1", "selfsubjectreviews"]: return .selfSubjectReviews
        default: break
        }
        if s.count >= 3, s[0] == "openapi", s[1] == "v3" { return .openAPIV3GroupVersion(s.dropFirst(2).joined(separator: "/")) }
        if s.count >= 3, s[0] == "api", s[1] == "v1" { return try coreV1(Array(s.dropFirst(2))) }
        if s.count >= 4, s[0] == "apis", s[1] == "podd.io", s[2] == "v1" { return try podd(Array(s.dropFirst(3))) }
        if s.count == 6 || s.count == 7, s[0] == "apis", s[1] == "policy", s[2] == "v1", s[3] == "namespaces", s[5] == "poddisruptionbudgets" {
            guard DNS1123.isLabel(s[4]) else { throw .badRequest("invalid namespace \"\(s[4])\"") }
            return s.count == 7 ? .storedObject(resource: s[5], PodRegistry.Key(s[4], s[6])) : .storedObjects(resource: s[5], namespace: s[4])
        }
        if s.count == 6 || s.count == 7, s[0] == "apis", s[1] == "metrics.k8s.io", s[2] == "v1beta1", s[3] == "namespaces", s[5] == "pods" {
            guard DNS1123.isLabel(s[4]) else { throw .badRequest("invalid namespace \"\(s[4])\"") }
            return .podMetrics(namespace: s[4], name: s.count == 7 ? s[6] : nil)
        }
        return nil
    }

    private static func coreV1(_ s: [String]) throws(StatusError) -> APIRoute? {
        switch s.count {
        case 1 where s[0] == "pods": return .pods(namespace: nil)
        case 1 where s[0] == "events": return .events(namespace: nil)
        case 1 where s[0] == "namespaces": return .namespaces
        case 1 where s[0] == "nodes": return .nodes
        case 2 where s[0] == "nodes": return .node(s[1])
        case 1 where ["configmaps", "secrets", "serviceaccounts"].contains(s[0]): return .storedObjects(resource: s[0], namespace: nil)
        case 2 where s[0] == "namespaces": return .namespace(s[1])
        default: break
        }
        guard s.count >= 3, s[0] == "namespaces" else { return nil }
        let namespace = s[1]
        guard DNS1123.isLabel(namespace) else { throw .badRequest("invalid namespace \"\(namespace)\"") }
        switch (s[2], s.count) {
        case ("pods", 3): return .pods(namespace: namespace)
        case ("events", 3): return .events(namespace: namespace)
        case ("pods", 4): return .pod(PodRegistry.Key(namespace, s[3]))
        case ("configmaps", 3), ("secrets", 3), ("serviceaccounts", 3): return .storedObjects(resource: s[2], namespace: namespace)
        case ("configmaps", 4), ("secrets", 4), ("serviceaccounts", 4): return .storedObject(resource: s[2], PodRegistry.Key(namespace, s[3]))
        case ("pods", 5):
            let key = PodRegistry.Key(namespace, s[3])
            switch s[4] {
            case "log": return .podLog(key)
            case "exec": return .podExec(key)
            case "attach": return .podAttach(key)
            case "portforward": return .podPortForward(key)
            case "ephemeralcontainers": return .podEphemeralContainers(key)
            case "status": return .podStatus(key)
            case "eviction": return .podEviction(key)
            default: return nil
            }
        default: return nil
        }
    }

    private static func podd(_ s: [String]) throws(StatusError) -> APIRoute? {
        if s.count == 5 || s.count == 6, s[0] == "namespaces", s[2] == "pods", s[4] == "ephemeralcontainers" {
            guard DNS1123.isLabel(s[1]) else { throw .badRequest("invalid namespace \"\(s[1])\"") }
            return .pruneEphemeralContainers(PodRegistry.Key(s[1], s[3]), container: s.count == 6 ? s[5] : nil)
        }
        guard s.first == "images" else { return nil }
        return s.count == 1 ? .images : .image(s.dropFirst().joined(separator: "/"))
    }
}
