import Glibc
import PodModel
import PodRuntime

/// `kubectl auth can-i` and `kubectl auth whoami`: the self reviews of authorization.k8s.io/v1
/// (SelfSubjectAccessReview, SelfSubjectRulesReview) and authentication.k8s.io/v1
/// (SelfSubjectReview).
///
/// podd's authorization is the socket's: a caller that got this far (root, or a member of the
/// socket's group, CallerCheck) may do everything podd serves, in every namespace. So a review
/// answers whether podd serves the verb on the resource, read from the discovery documents
/// (`Discovery.servedResources`): `kubectl auth can-i create deployments` says no, and why,
/// instead of a yes that the next command would contradict with a 404.
enum AccessReviews {
    static let authorizationVersion = "authorization.k8s.io/v1"
    static let authenticationVersion = "authentication.k8s.io/v1"

    /// The paths outside the resources that podd answers (GET), as RBAC's nonResourceURLs.
    static let nonResourceURLs = ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/metrics", "/openapi/*",
                                  "/readyz", "/version"]

    /// POST selfsubjectaccessreviews: 201 with the review and its `status.allowed`.
    static func accessReview(_ r: APIRequest) throws(StatusError) -> APIResponse {
        let review = try body(r, kind: "SelfSubjectAccessReview", version: authorizationVersion)
        let spec = review["spec"]
        var status = JSONObject()
        if let attributes = spec?["resourceAttributes"], attributes.objectValue != nil {
            let (allowed, reason) = decide(attributes)
            status["allowed"] = .bool(allowed)
            status["reason"] = .string(reason)
        } else if let attributes = spec?["nonResourceAttributes"], attributes.objectValue != nil {
            let path = attributes["path"]?.stringValue ?? ""
            let verb = attributes["verb"]?.stringValue ?? ""
            let served = verb == "get" && servesPath(path)
            status["allowed"] = .bool(served)
            status["reason"] = .string(served ? "podd answers GET \(path) to every caller the socket lets in"
                                              : "podd serves only GET on \(nonResourceURLs.joined(separator: ", ")) outside its resources")
        } else {
            let message = "exactly one of resourceAttributes or nonResourceAttributes must be set"
            throw StatusError(code: 422, reason: "Invalid", message: "SelfSubjectAccessReview is invalid: spec: \(message)",
                              kind: "SelfSubjectAccessReview", causes: [StatusCause(reason: "FieldValueRequired", message: message, field: "spec")])
        }
        return answer(review, status: status)
    }

    /// POST selfsubjectrulesreviews (`kubectl auth can-i --list`): every resource and verb podd
    /// serves, the same in every namespace.
    static func rulesReview(_ r: APIRequest) throws(StatusError) -> APIResponse {
        let review = try body(r, kind: "SelfSubjectRulesReview", version: authorizationVersion)
        var rules: [JSONValue] = []
        for served in Discovery.servedResources {
            rules.append(.object(JSONObject([("verbs", .array(served.verbs.map { .string($0) })),
                                             ("apiGroups", .array([.string(served.group)])),
                                             ("resources", .array([.string(served.resource)]))])))
        }
        let nonResource = JSONValue.object(JSONObject([("verbs", ["get"]), ("nonResourceURLs", .array(nonResourceURLs.map { .string($0) }))]))
        return answer(review, status: JSONObject([("resourceRules", .array(rules)), ("nonResourceRules", .array([nonResource])),
                                                  ("incomplete", false)]))
    }

    /// POST selfsubjectreviews (`kubectl auth whoami`): the caller as the socket saw it.
    static func subjectReview(_ r: APIRequest) throws(StatusError) -> APIResponse {
        let review = try body(r, kind: "SelfSubjectReview", version: authenticationVersion)
        var groups: [JSONValue] = []
        if let name = groupName(r.peer.gid) { groups.append(.string(name)) }
        groups.append("system:authenticated")
        let user = JSONObject([("username", .string(userName(r.peer.uid) ?? "uid:\(r.peer.uid)")), ("uid", .string(String(r.peer.uid))),
                               ("groups", .array(groups))])
        return answer(review, status: JSONObject([("userInfo", .object(user))]))
    }

    // MARK: Deciding

    /// Whether podd serves the verb on the resource (a subresource counted as "pods/exec").
    static func decide(_ attributes: JSONValue) -> (allowed: Bool, reason: String) {
        let verb = attributes["verb"]?.stringValue ?? ""
        let group = attributes["group"]?.stringValue ?? ""
        let resource = attributes["resource"]?.stringValue ?? ""
        let subresource = attributes["subresource"]?.stringValue ?? ""
        let name = subresource.isEmpty ? resource : resource + "/" + subresource
        let shown = group.isEmpty ? name : "\(name).\(group)"
        if verb == "*" || group == "*" || resource == "*" {
            return (false, "podd answers for one verb on one resource; `kubectl auth can-i --list` shows all it serves")
        }
        guard let served = Discovery.servedResources.first(where: { $0.group == group && $0.resource == name }) else {
            return (false, "podd does not serve \(shown)")
        }
        guard served.verbs.contains(verb) else {
            return (false, "podd serves \(shown) for \(served.verbs.joined(separator: ", ")), not \(verb.isEmpty ? "an empty verb" : verb)")
        }
        return (true, "podd lets every caller the socket lets in \(verb) \(shown), in every namespace")
    }

    static func servesPath(_ path: String) -> Bool {
        nonResourceURLs.contains { url in
            url.hasSuffix("/*") ? path.hasPrefix(String(url.dropLast())) || path == url : path == url
        }
    }

    // MARK: Parts

    private static func body(_ r: APIRequest, kind: String, version: String) throws(StatusError) -> JSONValue {
        let review = try PodAPIHandler.body(r)
        guard review.objectValue != nil else { throw .badRequest("the request body is not a \(kind) object") }
        if let sent = review["kind"]?.stringValue, sent != kind {
            throw .badRequest("the request body is a \(sent), not a \(kind)")
        }
        if let sent = review["apiVersion"]?.stringValue, sent != version {
            throw .badRequest("the request body is of apiVersion \(sent), not \(version)")
        }
        return review
    }

    /// 201 with the review as sent and its status, as the API server answers a create.
    private static func answer(_ review: JSONValue, status: JSONObject) -> APIResponse {
        var object = JSONObject([("kind", review["kind"] ?? .null), ("apiVersion", review["apiVersion"] ?? .null),
                                 ("metadata", .object(JSONObject([("creationTimestamp", .null)])))])
        if object["kind"] == .null { object["kind"] = nil }
        if object["apiVersion"] == .null { object["apiVersion"] = nil }
        if let spec = review["spec"] { object["spec"] = spec }
        object["status"] = .object(status)
        return PodAPIHandler.json(201, .object(object))
    }

    private static func userName(_ uid: UInt32) -> String? {
        var entry = passwd(), result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getpwuid_r(uid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.pw_name else { return nil }
        return String(cString: name)
    }

    private static func groupName(_ gid: UInt32) -> String? {
        var entry = group(), result: UnsafeMutablePointer<group>?
        var buffer = [CChar](repeating: 0, count: 4096)
        guard getgrgid_r(gid, &entry, &buffer, buffer.count, &result) == 0, result != nil, let name = entry.gr_name else { return nil }
        return String(cString: name)
    }
}

/// kubectl's `--as` and `--as-group` (the Impersonate-User, -Group, -Uid and -Extra-* headers):
/// refused, as the API server refuses a caller without the impersonate verb, which nobody has
/// here. Carried out as the caller, a request meant for another user would answer (`kubectl auth
/// can-i --as=nobody`) or act for the wrong one. The documents that describe the API
/// (discovery, OpenAPI, version, health) still answer, so that kubectl gets as far as the
/// request itself and shows this message, not a failed discovery.
enum Impersonation {
    static func refusal(_ r: APIRequest) -> StatusError? {
        guard let header = r.headers.first(where: { $0.name.lowercased().hasPrefix("impersonate-") }) else { return nil }
        switch (try? APIRoute.match(r.segments)) ?? nil {
        case .version?, .health?, .apiVersions?, .coreResources?, .apiGroups?, .poddGroup?, .poddResources?, .metricsGroup?,
             .metricsResources?, .authorizationGroup?, .authorizationResources?, .authenticationGroup?, .authenticationResources?,
             .openAPIV2?, .openAPIV3?, .openAPIV3GroupVersion?:
            return nil
        default: break
        }
        return StatusError(code: 403, reason: "Forbidden",
                           message: "podd does not impersonate (\(header.name): \(header.value)): its authorization is its socket's "
                               + "(root, or the members of its group), and every request is its caller's own; send it without "
                               + "kubectl's --as and --as-group")
    }
}
