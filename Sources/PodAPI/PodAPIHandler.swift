import Logging
import NIOHTTP1
import PodImages
import PodModel
import PodRuntime

/// The Kubernetes-shaped API: maps paths (`APIRoute`) to the registry, the image store and
/// the event recorder. Errors are Kubernetes Status objects (`StatusError`).
public struct PodAPIHandler: APIRequestHandler {
    public let registry: PodRegistry
    public let images: ImageStore
    public let events: EventRecorder
    public let version: VersionInfo
    public let logger: Logger
    /// Limit of an image upload (config `images.maxUploadBytes`).
    public var imageUploadLimit = 16 << 30
    /// The daemon's image pulls (`POST images/pull`).
    public var pulls: ImagePulls?
    /// Reads pods' cgroups for the metrics API and /metrics (MetricsRoutes).
    public var usage = PodUsageSampler(cgroups: nil)
    /// ConfigMaps, Secrets and PodDisruptionBudgets; nil: those paths are not served.
    public var objects: ObjectRegistry?
    /// The budgets' controller, for evictions; nil: `pods/NAME/eviction` is not served.
    public var disruption: DisruptionController?
    /// podd's node, for `/api/v1/nodes`; nil: those paths are not served.
    public var nodeReport: NodeReport?

    public init(registry: PodRegistry, images: ImageStore, events: EventRecorder, version: VersionInfo, logger: Logger) {
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

    /// nil when refused: the plain route (`handle`) then answers why.
    public func webSocket(_ request: APIRequest) async -> WebSocketSession? {
        guard Impersonation.refusal(request) == nil else { return nil }
        return await StreamRoutes(registry: registry, logger: logger).accept(request)
    }

    public func spdy(_ request: APIRequest) async -> SPDYSession? {
        guard Impersonation.refusal(request) == nil else { return nil }
        return await StreamRoutes(registry: registry, logger: logger).acceptSPDY(request)
    }

    public func handle(_ r: APIRequest) async -> APIResponse {
        let started = RuntimeClock.monotonic()
        defer { LatencyHistogram.apiRequests.observe(RuntimeClock.monotonic() - started) }
        if let refusal = Impersonation.refusal(r) { return refusal.response }
        do {
            return try await route(r)
        } catch {
            if error.code >= 500 { logger.error("\(r.method) \(r.path): \(error.message)") }
            return error.response
        }
    }

    private func route(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        guard let route = try APIRoute.match(r.segments) else { throw .noRoute(r.method, r.path) }
        guard route.methods.contains(r.method) else {
            switch route {
            case .namespaces, .namespace: throw NamespaceRoutes.noNamespaceObjects(r.method, r.path)
            case .nodes, .node: throw NodeRoutes.readOnly(r.method, r.path)
            default: throw .methodNotAllowed(r.method, r.path)
            }
        }
        switch route {
        case .version: return Self.json(200, version.json)
        case .health: return .full(status: .ok, contentType: "text/plain; charset=utf-8", body: Array("ok".utf8))
        case .metrics: return await metrics()
        case .apiVersions: return Self.json(200, Discovery.apiVersions)
        case .coreResources: return Self.json(200, Discovery.coreV1Resources)
        case .apiGroups: return Self.json(200, Discovery.apiGroups)
        case .poddGroup: return Self.json(200, Discovery.poddGroup)
        case .poddResources: return Self.json(200, Discovery.poddV1Resources)
        case .metricsGroup: return Self.json(200, Discovery.metricsGroup)
        case .metricsResources: return Self.json(200, Discovery.metricsV1beta1Resources)
        case .authorizationGroup: return Self.json(200, Discovery.authorizationGroup)
        case .authorizationResources: return Self.json(200, Discovery.authorizationV1Resources)
        case .authenticationGroup: return Self.json(200, Discovery.authenticationGroup)
        case .authenticationResources: return Self.json(200, Discovery.authenticationV1Resources)
        case .policyGroup: return Self.json(200, Discovery.policyGroup)
        case .policyResources: return Self.json(200, Discovery.policyV1Resources)
        case .schedulingGroup: return Self.json(200, Discovery.schedulingGroup)
        case .schedulingResources: return Self.json(200, Discovery.schedulingV1Resources)
        case .selfSubjectAccessReviews: return try AccessReviews.accessReview(r)
        case .selfSubjectRulesReviews: return try AccessReviews.rulesReview(r)
        case .selfSubjectReviews: return try AccessReviews.subjectReview(r)
        case let .nodeMetrics(name):
            guard let nodeReport else { throw .noRoute(r.method, r.path) }
            return try MetricsRoutes(registry: registry, sampler: usage).nodeMetrics(r, node: await registry.node, name: name)
        case let .podMetrics(namespace, name):
            return try await MetricsRoutes(registry: registry, sampler: usage).podMetrics(r, namespace: namespace, name: name)
        case let .pods(namespace):
            if r.method == .POST, let namespace { return try await createPod(r, namespace: namespace) }
            return try await listPods(r, namespace: namespace)
        case let .pod(key):
            switch r.method {
            case .PUT: return try await replacePod(r, key: key)
            case .PATCH: return try await patchPod(r, key: key)
            case .DELETE: return try await deletePod(r, key: key)
            default:
                guard let pod = await registry.get(key) else { throw .notFound(key.name) }
                return try podAnswer(r, pod)
            }
        case let .podStatus(key):
            if r.method != .GET { return try await updatePodStatus(r, key: key) }
            guard let pod = await registry.get(key) else { throw .notFound(key.name) }
            return Self.json(200, pod.json)
        case let .podEviction(key):
            guard let objects, let disruption else { throw .noRoute(r.method, r.path) }
            return try await EvictionRoute(registry: registry, objects: objects, disruption: disruption).respond(r, key: key)
        case let .podLog(key):
            return try await PodLogs.respond(r, registry: registry, key: key)
        case let .podExec(key):
            return try await StreamRoutes(registry: registry, logger: logger).respond(r, key: key, kind: .exec)
        case let .podAttach(key):
            return try await StreamRoutes(registry: registry, logger: logger).respond(r, key: key, kind: .attach)
        case let .podPortForward(key):
            return try await PortForwardRoutes(registry: registry, logger: logger).respond(r, key: key)
        case let .podEphemeralContainers(key):
            return try await EphemeralContainerRoutes(registry: registry).respond(r, key: key)
        case let .pruneEphemeralContainers(key, container):
            return try await EphemeralContainerRoutes(registry: registry).prune(r, key: key, container: container)
        case let .events(namespace): return try await listEvents(r, namespace: namespace)
        case let .storedObjects(resource, namespace):
            guard let objects else { throw .noRoute(r.method, r.path) }
            return try await ObjectRoutes<ConfigMap>.respond(r, registry: objects, resource: resource, namespace: namespace, name: nil)
        case let .storedObject(resource, key):
            guard let objects else { throw .noRoute(r.method, r.path) }
            return try await ObjectRoutes<ConfigMap>.respond(r, registry: objects, resource: resource, namespace: key.namespace, name: key.name)
        case .namespaces: return try await NamespaceRoutes(registry: registry, objects: objects).list(r)
        case let .namespace(name): return try await NamespaceRoutes(registry: registry, objects: objects).get(r, name: name)
        case .nodes:
            guard let nodeReport else { throw .noRoute(r.method, r.path) }
            return try await NodeRoutes(report: nodeReport, registry: registry).list(r)
        case let .node(name):
            guard let nodeReport else { throw .noRoute(r.method, r.path) }
            let routes = NodeRoutes(report: nodeReport, registry: registry)
            return r.method == .GET ? try await routes.get(r, name: name) : try await routes.change(r, name: name)
        case .images: return try await ImageRoutes(images: images, registry: registry, pulls: pulls).respondToList(r)
        case let .image(reference): return try await ImageRoutes(images: images, registry: registry, pulls: pulls).respond(r, reference: reference)
        case .openAPIV2: return try OpenAPIDocuments.respondV2(accept: r.headers["Accept"].joined(separator: ","))
        case .openAPIV3: return OpenAPIDocuments.respondV3Discovery()
        case let .openAPIV3GroupVersion(groupVersion): return try OpenAPIDocuments.respondV3(groupVersion)
        }
    }

    // MARK: - Pods

    private func createPod(_ r: APIRequest, namespace: String) async throws(StatusError) -> APIResponse {
        try await createPod(try Self.body(r), r, namespace: namespace)
    }

    /// A pod made from `raw` (a POST's body, or a server-side apply's configuration): 201.
    func createPod(_ raw: JSONValue, _ r: APIRequest, namespace: String) async throws(StatusError) -> APIResponse {
        let dryRun = try DryRun.requested(r)
        let (pod, warnings) = try FieldValidation(r).decodePod(raw, namespace: namespace)
        let created = try await runtime { () async throws(RuntimeError) in
            try await GeneratedNames.create(pod.metadata) { (metadata: ObjectMeta) async throws(RuntimeError) -> Pod in
                var named = pod
                named.metadata = metadata
                return try await registry.create(named, dryRun: dryRun)
            }
        }
        return Self.json(201, created.json).warning(warnings)
    }

    private func replacePod(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        let raw = try Self.body(r)
        let dryRun = try DryRun.requested(r)
        let (pod, warnings) = try FieldValidation(r).decodePod(raw, namespace: key.namespace)
        guard pod.metadata.name == key.name else {
            throw .badRequest("the name of the object (\(pod.metadata.name)) does not match the name on the URL (\(key.name))")
        }
        let replaced = try await runtime { () async throws(RuntimeError) in try await registry.replace(pod, dryRun: dryRun) }
        return Self.json(200, replaced.json).warning(warnings)
    }

    private func deletePod(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        let options = try DeleteOptions(r)
        // Any int64 is taken (DeleteValidation: negative is 1 s, beyond the bound is the bound).
        let grace = options.gracePeriod.map(DeleteValidation.gracePeriod)
        let pod = try await runtime { () async throws(RuntimeError) in
            try await registry.delete(key, gracePeriod: grace, preconditions: options.preconditions, dryRun: options.dryRun)
        }
        return Self.json(200, pod.json)
    }

    // MARK: - Events, metrics

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
        if let rss = DaemonProcess.residentBytes {
            text += "# HELP process_resident_memory_bytes Resident memory of podd.\n# TYPE process_resident_memory_bytes gauge\n"
            text += "process_resident_memory_bytes \(rss)\n"
        }
        text += await MetricsRoutes(registry: registry, sampler: usage).prometheus()
        return .full(status: .ok, contentType: "text/plain; version=0.0.4", body: Array(text.utf8))
    }

    // MARK: - Requests and answers

    /// The request body as JSON (or YAML, or a ConfigMap or Secret in protobuf, by Content-Type).
    static func body(_ r: APIRequest) throws(StatusError) -> JSONValue {
        let bytes = r.body.bytes
        guard !bytes.isEmpty else { throw .badRequest("the request body is empty; send a Pod as JSON") }
        let type = r.headers["Content-Type"].first?.lowercased() ?? "application/json"
        if type.hasPrefix(ProtobufBody.mediaType) { return try ProtobufBody.json(bytes) }
        guard type.hasPrefix("application/json") || type.contains("yaml") else {
            throw .unsupportedMediaType("the body of the request was in an unknown format (\(type)): send application/json or application/yaml")
        }
        do {
            if type.contains("yaml") {
                let docs = try JSONValue.parseYAMLDocuments(String(decoding: bytes, as: UTF8.self))
                guard docs.count == 1, let doc = docs.first else { throw StatusError.badRequest("expected exactly one YAML document, found \(docs.count)") }
                return doc
            }
            return try JSONValue.parse(bytes)
        } catch let e as StatusError {
            throw e
        } catch {
            throw .badRequest("the request body is not valid \(type.contains("yaml") ? "YAML" : "JSON"): \(error)")
        }
    }

    /// Decodes a Pod strictly; the namespace comes from the URL unless the object names one,
    /// and then the two must agree.
    static func decodePod(_ raw: JSONValue, namespace: String) throws(StatusError) -> Pod {
        var pod: Pod
        do {
            pod = try PodManifest.decodePod(raw)
        } catch {
            throw StatusError(error, name: raw["metadata"]?["name"]?.stringValue ?? "")
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
}
