import NIOHTTP1
import PodRuntime
import Testing

@testable import PodAPI

/// The API's URL space: what each path names and which methods it takes.
@Suite struct APIRouteTests {
    private func route(_ path: String) throws(StatusError) -> APIRoute? {
        guard let segments = pathSegments(path) else { return nil }
        return try APIRoute.match(segments)
    }

    private let web = PodRegistry.Key("default", "web")

    @Test func serverPaths() throws {
        #expect(try route("/version") == .version)
        for path in ["/healthz", "/readyz", "/livez"] { #expect(try route(path) == .health) }
        #expect(try route("/metrics") == .metrics)
        #expect(try route("/api") == .apiVersions)
        #expect(try route("/api/v1") == .coreResources)
        #expect(try route("/apis") == .apiGroups)
        #expect(try route("/apis/podd.io") == .poddGroup)
        #expect(try route("/apis/podd.io/v1") == .poddResources)
        #expect(try route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") == .selfSubjectAccessReviews)
        #expect(try route("/apis/authorization.k8s.io/v1/selfsubjectrulesreviews") == .selfSubjectRulesReviews)
        #expect(try route("/apis/authentication.k8s.io/v1/selfsubjectreviews") == .selfSubjectReviews)
        #expect(try route("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews/x") == nil)
        #expect(APIRoute.selfSubjectAccessReviews.methods == [.POST])
    }

    @Test func podPaths() throws {
        #expect(try route("/api/v1/pods") == .pods(namespace: nil))
        #expect(try route("/api/v1/namespaces/default/pods") == .pods(namespace: "default"))
        #expect(try route("/api/v1/namespaces/default/pods/web") == .pod(web))
        #expect(try route("/api/v1/namespaces/default/pods/web/log") == .podLog(web))
        #expect(try route("/api/v1/namespaces/default/pods/web/exec") == .podExec(web))
        #expect(try route("/api/v1/namespaces/default/pods/web/attach") == .podAttach(web))
        #expect(try route("/api/v1/namespaces/default/pods/web/ephemeralcontainers") == .podEphemeralContainers(web))
        #expect(try route("/api/v1/namespaces/default/pods/web/status") == .podStatus(web))
        #expect(try route("/apis/podd.io/v1/namespaces/default/pods/web/ephemeralcontainers")
                == .pruneEphemeralContainers(web, container: nil))
        #expect(try route("/apis/podd.io/v1/namespaces/default/pods/web/ephemeralcontainers/debugger")
                == .pruneEphemeralContainers(web, container: "debugger"))
    }

    @Test func eventNamespaceAndImagePaths() throws {
        #expect(try route("/api/v1/events") == .events(namespace: nil))
        #expect(try route("/api/v1/namespaces/kube-system/events") == .events(namespace: "kube-system"))
        #expect(try route("/api/v1/namespaces") == .namespaces)
        #expect(try route("/api/v1/namespaces/default") == .namespace("default"))
        #expect(try route("/api/v1/nodes") == .nodes)
        #expect(try route("/api/v1/nodes/vm") == .node("vm"))
        #expect(APIRoute.nodes.methods == [.GET] && APIRoute.node("vm").methods == [.GET, .PUT, .PATCH])
        #expect(try route("/apis/podd.io/v1/images") == .images)
        // A reference with '/' in its name spans the rest of the path.
        #expect(try route("/apis/podd.io/v1/images/myorg/tool:1") == .image("myorg/tool:1"))
    }

    @Test func configMapAndSecretPaths() throws {
        #expect(try route("/api/v1/configmaps") == .storedObjects(resource: "configmaps", namespace: nil))
        #expect(try route("/api/v1/namespaces/demo/secrets") == .storedObjects(resource: "secrets", namespace: "demo"))
        #expect(try route("/api/v1/namespaces/demo/configmaps/app") == .storedObject(resource: "configmaps", PodRegistry.Key("demo", "app")))
        #expect(try route("/api/v1/namespaces/demo/secrets/app/extra") == nil)
    }

    @Test func policyPaths() throws {
        #expect(try route("/apis/policy") == .policyGroup)
        #expect(try route("/apis/policy/v1") == .policyResources)
        #expect(try route("/apis/policy/v1/poddisruptionbudgets") == .storedObjects(resource: "poddisruptionbudgets", namespace: nil))
        #expect(try route("/apis/policy/v1/namespaces/demo/poddisruptionbudgets")
                == .storedObjects(resource: "poddisruptionbudgets", namespace: "demo"))
        #expect(try route("/apis/policy/v1/namespaces/demo/poddisruptionbudgets/web")
                == .storedObject(resource: "poddisruptionbudgets", PodRegistry.Key("demo", "web")))
        #expect(try route("/api/v1/namespaces/demo/pods/web/eviction") == .podEviction(PodRegistry.Key("demo", "web")))
        #expect(APIRoute.podEviction(PodRegistry.Key("demo", "web")).methods == [.POST])
        // Budgets are policy's, not the core group's; other policy kinds are not served.
        #expect(try route("/api/v1/namespaces/demo/poddisruptionbudgets") == nil)
        #expect(try route("/apis/policy/v1/namespaces/demo/podsecuritypolicies") == nil)
        #expect(throws: StatusError.self) { try route("/apis/policy/v1/namespaces/Bad_NS/poddisruptionbudgets") }
    }

    @Test func unknownPathsAreNotFound() throws {
        for path in ["/", "/api/v2", "/api/v1/namespaces/default/pods/web/proxy", "/api/v1/namespaces/default/services",
                     "/apis/apps/v1", "/apis/podd.io/v1/volumes", "/api/v1/namespaces/default/pods/web/log/more"] {
            #expect(try route(path) == nil, "\(path)")
        }
    }

    @Test func aNamespaceThatCannotBeOneIsABadRequest() {
        #expect(throws: StatusError.self) { try route("/api/v1/namespaces/Not_A_Label/pods") }
        do {
            _ = try route("/api/v1/namespaces/Bad_NS/pods/web")
            Issue.record("expected a refusal")
        } catch {
            #expect(error.code == 400)
            #expect(error.reason == "BadRequest")
            #expect(error.message == "invalid namespace \"Bad_NS\"")
        }
    }

    @Test func methodsOfEachResource() throws {
        #expect(APIRoute.pods(namespace: nil).methods == [.GET])
        #expect(APIRoute.pods(namespace: "default").methods == [.GET, .POST])
        #expect(APIRoute.pod(web).methods == [.GET, .PUT, .PATCH, .DELETE])
        #expect(APIRoute.podLog(web).methods == [.GET])
        #expect(APIRoute.podExec(web).methods == [.GET, .POST])
        #expect(APIRoute.podEphemeralContainers(web).methods == [.GET, .PUT, .PATCH])
        #expect(APIRoute.pruneEphemeralContainers(web, container: nil).methods == [.DELETE])
        #expect(APIRoute.images.methods == [.GET, .POST])
        #expect(APIRoute.image("busybox").methods == [.GET, .DELETE, .POST])   // POST: images/load, pull, tag, prune
        #expect(APIRoute.version.methods == [.GET])
    }
}

/// Paths and queries as the server splits and decodes them.
@Suite struct RequestParsingTests {
    @Test func pathSegmentsArePercentDecoded() {
        #expect(pathSegments("/api/v1/namespaces/default/pods/web") == ["api", "v1", "namespaces", "default", "pods", "web"])
        #expect(pathSegments("/apis/podd.io/v1/images/my%2Dtool") == ["apis", "podd.io", "v1", "images", "my-tool"])
        #expect(pathSegments("//api///v1/") == ["api", "v1"])
    }

    @Test func segmentsThatCouldEscapeAPathAreRefused() {
        #expect(pathSegments("/api/v1/namespaces/default/pods/..") == nil)
        #expect(pathSegments("/api/v1/namespaces/default/pods/.") == nil)
        #expect(pathSegments("/api/v1/namespaces/default/pods/%2E%2E") == nil)
        #expect(pathSegments("/api/v1/namespaces/a%2Fb/pods") == nil)
        #expect(pathSegments("/api/v1/namespaces/a%00b/pods") == nil)
        #expect(pathSegments("/api/v1/namespaces/%zz/pods") == nil)
    }

    @Test func queryValuesRepeatAndDecode() {
        let query = parseQuery("command=sh&command=-c&command=echo+hi%21&stdin=true&tty&container=")
        #expect(query["command"] == ["sh", "-c", "echo hi!"])
        #expect(query["stdin"] == ["true"])
        #expect(query["tty"] == [""])
        #expect(query["container"] == [""])
        #expect(query["missing"] == nil)
    }

    @Test func queryBooleansAsKubernetesReadsThem() {
        let request = APIRequest(method: .GET, path: "/", segments: [], query: parseQuery("a=true&b=1&c&d=false&e=0"),
                                 headers: HTTPHeaders(), body: .bytes([]), peer: PeerCredentials(pid: 1, uid: 0, gid: 0))
        #expect(request.queryBool("a"))
        #expect(request.queryBool("b"))
        #expect(request.queryBool("c"))
        #expect(!request.queryBool("d"))
        #expect(!request.queryBool("e"))
        #expect(!request.queryBool("f"))
        #expect(request.queryValue("a") == "true")
    }
}
