import Glibc
import Logging
import NIOHTTP1
import PodModel
import PodOS
import PodRuntime

/// The Kubernetes-shaped API: maps paths to the registry, the image store and the event
/// recorder. Errors are Kubernetes Status objects.
public struct PodAPIHandler: APIRequestHandler {
    public let registry: PodRegistry
    public let images: ImageStore
    public let events: EventRecorder
    public let version: VersionInfo
    public let logger: Logger
    public let reactor: Reactor
    /// Limit of an image upload.
    public var imageUploadLimit = 16 << 30

    public init(registry: PodRegistry, images: ImageStore, events: EventRecorder, version: VersionInfo, reactor: Reactor, logger: Logger) {
        self.reactor = reactor
        self.registry = registry
        self.images = images
        self.events = events
        self.version = version
        self.logger = logger
    }

    public func uploadSpool(method: HTTPMethod, path: String) -> (directory: String, limit: Int)? {
        guard method == .POST, path.hasPrefix("/apis/podd.io/v1/images") else { return nil }
        return (images.incomingDirectory, imageUploadLimit)
    }

    public func failure(code: Int, reason: String, message: String) -> APIResponse {
        Self.error(APIError(code: code, reason: reason, message: message))
    }

    public func webSocket(_ request: APIRequest) async -> WebSocketSession? {
        await StreamRoutes(registry: registry, logger: logger).accept(request)
    }

    public func handle(_ r: APIRequest) async -> APIResponse {
        do {
            return try await route(r)
        } catch {
            if error.code >= 500 { logger.error("\(r.method) \(r.path): \(error.message)") }
            return Self.error(error)
        }
    }

    private func route(_ r: APIRequest) async throws(APIError) -> APIResponse {
        let s = r.segments
        switch (r.method, s.count) {
        case (.GET, 1) where s[0] == "version": return Self.json(200, version.json)
        case (.GET, 1) where ["healthz", "readyz", "livez"].contains(s[0]):
            return .full(status: .ok, contentType: "text/plain; charset=utf-8", body: Array("ok".utf8))
        case (.GET, 1) where s[0] == "metrics": return await metrics()
        case (.GET, 1) where s[0] == "api": return Self.json(200, Discovery.apiVersions)
        case (.GET, 2) where s == ["api", "v1"]: return Self.json(200, Discovery.coreV1Resources)
        case (.GET, 1) where s[0] == "apis": return Self.json(200, Discovery.apiGroups)
        case (.GET, 2) where s == ["apis", "podd.io"]: return Self.json(200, Discovery.poddGroup)
        case (.GET, 3) where s == ["apis", "podd.io", "v1"]: return Self.json(200, Discovery.poddV1Resources)
        case (_, 1) where ["version", "healthz", "readyz", "livez", "metrics", "api", "apis"].contains(s[0]),
             (_, 2) where s == ["api", "v1"] || s == ["apis", "podd.io"],
             (_, 3) where s == ["apis", "podd.io", "v1"]:
            throw Self.methodNotAllowed(r)
        default: break
        }
        if s.count >= 2 && s[0] == "api" && s[1] == "v1" { return try await coreV1(r, Array(s.dropFirst(2))) }
        if s.count >= 3 && s[0] == "apis" && s[1] == "podd.io" && s[2] == "v1" { return try await podd(r, Array(s.dropFirst(3))) }
        throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(r.method) \(r.path))")
    }

    private func coreV1(_ r: APIRequest, _ s: [String]) async throws(APIError) -> APIResponse {
        switch s.count {
        case 1 where s[0] == "pods":
            try only(r, [.GET])
            return try await listPods(r, namespace: nil)
        case 1 where s[0] == "events":
            try only(r, [.GET])
            return await listEvents(r, namespace: nil)
        case 1 where s[0] == "namespaces":
            try only(r, [.GET])
            return await listNamespaces()
        default: break
        }
        if s.count == 2 && s[0] == "namespaces" {
            try only(r, [.GET])
            return try await namespace(s[1])
        }
        guard s.count >= 3, s[0] == "namespaces" else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(r.method) \(r.path))")
        }
        let namespace = s[1]
        guard DNS1123.isLabel(namespace) else { throw .badRequest("invalid namespace \"\(namespace)\"") }
        switch (s[2], s.count) {
        case ("pods", 3):
            switch r.method {
            case .GET: return try await listPods(r, namespace: namespace)
            case .POST: return try await createPod(r, namespace: namespace)
            default: throw Self.methodNotAllowed(r)
            }
        case ("pods", 4):
            let key = PodRegistry.Key(namespace, s[3])
            switch r.method {
            case .GET:
                guard let pod = await registry.get(key) else { throw .notFound(key.name) }
                return Self.json(200, pod.json)
            case .PUT: return try await replacePod(r, key: key)
            case .PATCH: return try await patchPod(r, key: key)
            case .DELETE: return try await deletePod(r, key: key)
            default: throw Self.methodNotAllowed(r)
            }
        case ("pods", 5) where s[4] == "log":
            try only(r, [.GET])
            return try await PodLogs.respond(r, registry: registry, reactor: reactor, key: PodRegistry.Key(namespace, s[3]))
        case ("pods", 5) where s[4] == "exec" || s[4] == "attach":
            return try await StreamRoutes(registry: registry, logger: logger)
                .respond(r, key: PodRegistry.Key(namespace, s[3]), kind: s[4] == "exec" ? .exec : .attach)
        case ("pods", 5) where s[4] == "ephemeralcontainers":
            return try await EphemeralContainerRoutes(registry: registry).respond(r, key: PodRegistry.Key(namespace, s[3]))
        case ("pods", 5) where s[4] == "status":
            try only(r, [.GET])
            guard let pod = await registry.get(PodRegistry.Key(namespace, s[3])) else { throw .notFound(s[3]) }
            return Self.json(200, pod.json)
        case ("events", 3):
            try only(r, [.GET])
            return await listEvents(r, namespace: namespace)
        default:
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(r.method) \(r.path))")
        }
    }

    private func podd(_ r: APIRequest, _ s: [String]) async throws(APIError) -> APIResponse {
        // The prune extension: .../namespaces/{ns}/pods/{name}/ephemeralcontainers[/{container}].
        if (s.count == 5 || s.count == 6), s[0] == "namespaces", s[2] == "pods", s[4] == "ephemeralcontainers" {
            guard DNS1123.isLabel(s[1]) else { throw .badRequest("invalid namespace \"\(s[1])\"") }
            return try await EphemeralContainerRoutes(registry: registry)
                .prune(r, key: PodRegistry.Key(s[1], s[3]), container: s.count == 6 ? s[5] : nil)
        }
        guard let first = s.first, first == "images" else {
            throw APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource (\(r.method) \(r.path))")
        }
        return try await ImageRoutes(images: images).respond(r, Array(s.dropFirst()))
    }

    // MARK: - Pods

    private func listPods(_ r: APIRequest, namespace: String?) async throws(APIError) -> APIResponse {
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        let fieldSelector = try FieldSelector(r.queryValue("fieldSelector") ?? "")
        if r.queryBool("watch") {
            let stream = await registry.watch(namespace: namespace)
            return .stream(status: .ok, contentType: "application/json", chunks: Self.lines(stream) { event in
                guard let pod = event["object"] else { return true }
                return selector.matches(pod) && fieldSelector.matches(pod)
            })
        }
        let pods = await registry.list(namespace: namespace).filter { selector.matches($0.json) && fieldSelector.matches($0.json) }
        return Self.json(200, .object(JSONObject([
            ("kind", "PodList"), ("apiVersion", "v1"), ("metadata", .object(JSONObject([("resourceVersion", "")]))),
            ("items", .array(pods.map(\.json))),
        ])))
    }

    private func createPod(_ r: APIRequest, namespace: String) async throws(APIError) -> APIResponse {
        let raw = try Self.body(r)
        var pod = try Self.decodePod(raw, namespace: namespace)
        if pod.metadata.name.isEmpty, let generate = raw["metadata"]?["generateName"]?.stringValue {
            pod.metadata.name = generate + String(UInt32.random(in: 0...UInt32.max), radix: 36).prefix(5)
        }
        let created = try await registry.create(pod)
        return Self.json(201, created.json)
    }

    private func replacePod(_ r: APIRequest, key: PodRegistry.Key) async throws(APIError) -> APIResponse {
        let raw = try Self.body(r)
        let pod = try Self.decodePod(raw, namespace: key.namespace)
        guard pod.metadata.name == key.name else {
            throw .badRequest("the name of the object (\(pod.metadata.name)) does not match the name on the URL (\(key.name))")
        }
        let replaced = try await registry.replace(pod)
        return Self.json(200, replaced.json)
    }

    private func deletePod(_ r: APIRequest, key: PodRegistry.Key) async throws(APIError) -> APIResponse {
        var grace: Int64?
        if let g = r.queryValue("gracePeriodSeconds") {
            guard let v = Int64(g), v >= 0 else { throw .badRequest("gracePeriodSeconds: invalid value \"\(g)\": must be a non-negative integer") }
            grace = v
        }
        if !r.body.bytes.isEmpty {
            // DeleteOptions in the body, as kubectl sends it.
            guard let options = try? JSONValue.parse(r.body.bytes) else { throw .badRequest("the request body is not a valid DeleteOptions object") }
            if let g = options["gracePeriodSeconds"]?.intValue { grace = grace ?? g }
        }
        // A grace podd cannot turn into a deadline (Int64.max crashed it) is refused.
        if let grace {
            do { try DeleteValidation.gracePeriod(grace) } catch { throw .badRequest(error.description) }
        }
        let pod = try await registry.delete(key, gracePeriod: grace)
        return Self.json(200, pod.json)
    }

    // MARK: - Events, namespaces, metrics

    private func listEvents(_ r: APIRequest, namespace: String?) async -> APIResponse {
        var involved: String?
        if let fs = r.queryValue("fieldSelector") {
            for term in fs.split(separator: ",") where term.hasPrefix("involvedObject.name=") {
                involved = String(term.dropFirst("involvedObject.name=".count))
            }
        }
        if r.queryBool("watch") {
            let stream = await events.watch(namespace: namespace)
            let name = involved
            return .stream(status: .ok, contentType: "application/json", chunks: Self.lines(stream) { event in
                name == nil || event["object"]?["involvedObject"]?["name"]?.stringValue == name
            })
        }
        let items = await events.list(namespace: namespace, involvedName: involved)
        return Self.json(200, .object(JSONObject([
            ("kind", "EventList"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("items", .array(items)),
        ])))
    }

    private func listNamespaces() async -> APIResponse {
        var names = Set(await registry.list(namespace: nil).map(\.metadata.namespace))
        names.insert("default")
        let items: [JSONValue] = names.sorted().map { n in
            .object(JSONObject([("kind", "Namespace"), ("apiVersion", "v1"),
                                ("metadata", .object(JSONObject([("name", .string(n))]))),
                                ("status", .object(JSONObject([("phase", "Active")])))]))
        }
        return Self.json(200, .object(JSONObject([("kind", "NamespaceList"), ("apiVersion", "v1"), ("items", .array(items))])))
    }

    /// A namespace exists in podd once a pod lives in it (and `default` always).
    private func namespace(_ name: String) async throws(APIError) -> APIResponse {
        let names = Set(await registry.list(namespace: nil).map(\.metadata.namespace)).union(["default"])
        guard names.contains(name) else { throw .notFound(name, kind: "namespaces") }
        return Self.json(200, .object(JSONObject([("kind", "Namespace"), ("apiVersion", "v1"),
                                                  ("metadata", .object(JSONObject([("name", .string(name))]))),
                                                  ("status", .object(JSONObject([("phase", "Active")])))])))
    }

    private func metrics() async -> APIResponse {
        let pods = await registry.list(namespace: nil)
        var byPhase: [String: Int] = [:]
        var restarts = 0
        for p in pods {
            byPhase[p.status.phase.rawValue, default: 0] += 1
            restarts += (p.status.containerStatuses + p.status.initContainerStatuses).reduce(0) { $0 + Int($1.restartCount) }
        }
        var text = "# HELP podd_pods Pods by phase.\n# TYPE podd_pods gauge\n"
        for phase in ["Pending", "Running", "Succeeded", "Failed", "Unknown"] {
            text += "podd_pods{phase=\"\(phase)\"} \(byPhase[phase] ?? 0)\n"
        }
        text += "# HELP podd_container_restarts_total Restarts of every container of every pod.\n# TYPE podd_container_restarts_total counter\n"
        text += "podd_container_restarts_total \(restarts)\n"
        if let rss = ProcessControl.rss(of: getpid()) {
            text += "# HELP process_resident_memory_bytes Resident memory of podd.\n# TYPE process_resident_memory_bytes gauge\n"
            text += "process_resident_memory_bytes \(rss)\n"
        }
        return .full(status: .ok, contentType: "text/plain; version=0.0.4", body: Array(text.utf8))
    }

    // MARK: - Helpers

    private func only(_ r: APIRequest, _ methods: [HTTPMethod]) throws(APIError) {
        guard methods.contains(r.method) else { throw Self.methodNotAllowed(r) }
    }

    static func methodNotAllowed(_ r: APIRequest) -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource (\(r.method) \(r.path))")
    }

    /// The request body as JSON (or YAML, by Content-Type).
    static func body(_ r: APIRequest) throws(APIError) -> JSONValue {
        let bytes = r.body.bytes
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty; send a Pod as JSON") }
        let type = r.headers["Content-Type"].first?.lowercased() ?? "application/json"
        guard type.hasPrefix("application/json") || type.contains("yaml") else {
            throw APIError(code: 415, reason: "UnsupportedMediaType",
                           message: "the body of the request was in an unknown format (\(type)): send application/json or application/yaml")
        }
        do {
            if type.contains("yaml") {
                let docs = try JSONValue.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self))
                guard docs.count == 1, let doc = docs.first else { throw APIError.badRequest("expected exactly one YAML document, found \(docs.count)") }
                return doc
            }
            return try JSONValue.parse(bytes)
        } catch let e as APIError {
            throw e
        } catch {
            throw .badRequest("the request body is not valid \(type.contains("yaml") ? "YAML" : "JSON"): \(error)")
        }
    }

    /// Decodes a Pod strictly; the namespace comes from the URL unless the object names one,
    /// and then the two must agree.
    static func decodePod(_ raw: JSONValue, namespace: String) throws(APIError) -> Pod {
        var pod: Pod
        do {
            pod = try PodManifest.decodePod(raw)
        } catch {
            let name = raw["metadata"]?["name"]?.stringValue ?? ""
            let causes = error.causes.map { APIError.Cause(reason: $0.reason, message: $0.message, field: $0.field.description) }
            if error.kind == .decoding {
                throw APIError(code: 400, reason: "BadRequest", message: error.message, name: name, kind: "pods", causes: causes)
            }
            throw APIError(code: 422, reason: "Invalid", message: error.message, name: name, kind: "pods", causes: causes)
        }
        if let given = raw["metadata"]?["namespace"]?.stringValue, !given.isEmpty {
            guard given == namespace else {
                throw .badRequest("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(namespace))")
            }
        }
        pod.metadata.namespace = namespace
        return pod
    }

    static func json(_ code: Int, _ value: JSONValue) -> APIResponse {
        .full(status: HTTPResponseStatus(statusCode: code), contentType: "application/json", body: value.serialized())
    }

    static func error(_ e: APIError) -> APIResponse { json(e.code, e.json) }

    /// A watch stream as newline-delimited JSON, as the API server sends it.
    static func lines(_ events: AsyncStream<JSONValue>, filter: @escaping @Sendable (JSONValue) -> Bool) -> AsyncStream<[UInt8]> {
        AsyncStream { continuation in
            let task = Task {
                for await event in events where filter(event) {
                    continuation.yield(event.serialized() + [UInt8(ascii: "\n")])
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
