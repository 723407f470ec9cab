import NIOHTTP1
import PodModel
import PodRuntime
import Synchronization

/// `/api/v1/nodes[/{name}]`: podd's one node (NodeReport), read when asked, as an object, a
/// Table (kubectl's NAME STATUS ROLES AGE VERSION) or metadata, and changed by PATCH or PUT in
/// what kubectl changes of a node: its labels (`kubectl label node`), annotations (`kubectl
/// annotate node`), taints (`kubectl taint node`) and spec.unschedulable (`kubectl cordon`,
/// `uncordon`, `drain`), through the registry (PodRegistry+Node). There is no other node to
/// register or delete: those verbs are 405, saying why.
struct NodeRoutes {
    let report: NodeReport
    let registry: PodRegistry

    static func readOnly(_ method: HTTPMethod, _ path: String) -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed",
                    message: "podd's node is the machine itself: it is neither created nor deleted, and only its labels, annotations, taints and spec.unschedulable change (\(method) \(path))")
    }

    /// The node as it is now, in JSON.
    static func current(_ report: NodeReport, _ registry: PodRegistry) async -> JSONValue {
        let (node, annotations, version, cordonedAt) = await (registry.node, registry.nodeAnnotations, registry.nodeVersion, registry.cordonedAt)
        return report.json(node: node, annotations: annotations, resourceVersion: version, cordonedAt: cordonedAt, now: RuntimeClock.now())
    }

    func list(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let table = try PodAPIHandler.tableBuilder(r, form: form, kind: .nodes)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        // kubectl's `--field-selector metadata.name=NODE` (or spec.unschedulable=false).
        let fields = try FieldSelector(r.queryValue("fieldSelector") ?? "", fields: FieldSelector.fields(of: "nodes"))
        let matches: @Sendable (JSONValue) -> Bool = { selector.matches($0) && fields.matches($0) }
        if r.queryBool("watch") {
            return await WatchRoute(source: NodeWatchSource(report: report, registry: registry), kind: "Node", render: { $0 }, matches: matches,
                                    selective: !selector.requirements.isEmpty || !fields.terms.isEmpty)
                .respond(namespace: nil, options: try WatchOptions(r), table: table)
        }
        let node = await Self.current(report, registry)
        let version = node["metadata"]?["resourceVersion"]?.stringValue ?? "1"
        return PodAPIHandler.list([node].filter(matches), kind: "NodeList", resourceVersion: version, form: form, table: table)
    }

    func get(_ r: APIRequest, name: String) async throws(StatusError) -> APIResponse {
        let node = await Self.current(report, registry)
        guard name == node["metadata"]?["name"]?.stringValue else { throw .notFound(name, kind: "nodes") }
        return try PodAPIHandler.single(r, node, kind: .nodes, resourceVersion: node["metadata"]?["resourceVersion"]?.stringValue ?? "1")
    }

    /// PATCH (strategic merge, merge or JSON patch) or PUT of the node.
    func change(_ r: APIRequest, name: String) async throws(StatusError) -> APIResponse {
        let current = await Self.current(report, registry)
        guard name == current["metadata"]?["name"]?.stringValue else { throw .notFound(name, kind: "nodes") }
        let wanted = try PodAPIHandler.wanted(r, current: current, schema: Self.schema, name: name, what: "node", resource: "nodes")
        let (change, version) = try Self.changes(wanted, from: current, name: name)
        if try DryRun.requested(r) {
            // The node as the change would leave it, kubelet's own labels kept.
            let (node, annotations) = await registry.nodeAfter(change)
            let (resourceVersion, cordonedAt) = await (registry.nodeVersion, registry.cordonedAt)
            return PodAPIHandler.json(200, report.json(node: node, annotations: annotations, resourceVersion: resourceVersion,
                                                       cordonedAt: cordonedAt, now: RuntimeClock.now()))
        }
        do throws(RuntimeError) {
            _ = try await registry.changeNode(change, resourceVersion: version)
        } catch {
            throw StatusError(error)
        }
        return PodAPIHandler.json(200, await Self.current(report, registry))
    }

    /// How a node's lists merge in a strategic merge patch: taints by key.
    static let schema = StrategicMergeSchema(fields: ["spec": StrategicMergeSchema(fields: ["taints": .keyed("key")])])

    /// What `wanted` asks of the node that `current` is: its labels, annotations, taints and
    /// cordon, and the resourceVersion it was made from when it names another than the current
    /// one. What podd's node cannot take (another spec field, a new name) is 422; the
    /// registry validates the labels, annotations and taints.
    static func changes(_ wanted: JSONValue, from current: JSONValue, name: String) throws(StatusError) -> (change: PodRegistry.NodeChange, version: String?) {
        func invalid(_ field: String, _ message: String) -> StatusError {
            StatusError(RuntimeError.invalid(kind: "nodes", name: name, causes: [.init(reason: "FieldValueForbidden", message: message, field: field)]))
        }
        guard wanted.objectValue != nil else { throw .badRequest("the node must be a JSON object") }
        if let other = wanted["metadata"]?["name"]?.stringValue, other != name {
            throw .badRequest("the name of the object (\(other)) does not match the name on the URL (\(name))")
        }
        var labels: [String: String] = [:]
        for (key, value) in wanted["metadata"]?["labels"]?.objectValue ?? JSONObject() {
            guard let text = value.stringValue else { throw invalid("metadata.labels", "Invalid value: \"\(key)\": a label's value is a string") }
            labels[key] = text
        }
        var annotations: [String: String] = [:]
        for (key, value) in wanted["metadata"]?["annotations"]?.objectValue ?? JSONObject() {
            guard let text = value.stringValue else { throw invalid("metadata.annotations", "Invalid value: \"\(key)\": an annotation's value is a string") }
            annotations[key] = text
        }
        let spec = wanted["spec"]?.objectValue ?? JSONObject()
        let unschedulable = spec["unschedulable"]?.boolValue ?? false
        for (key, _) in spec where !["unschedulable", "taints"].contains(key) {
            throw invalid("spec.\(key)", "Forbidden: podd's node takes changes to spec.unschedulable and spec.taints only")
        }
        guard spec["taints"].map({ $0.isNull || $0.arrayValue?.allSatisfy { $0.objectValue != nil } == true }) ?? true else {
            throw .badRequest("spec.taints: expected a list of taints")
        }
        // The cordon's own taint follows spec.unschedulable: it is not one of the node's.
        let taints = (spec["taints"]?.arrayValue ?? []).map(Taint.init(json:)).filter { $0.key != NodeScheduling.unschedulableTaint }
        let version = wanted["metadata"]?["resourceVersion"]?.stringValue
        return (PodRegistry.NodeChange(labels: labels, annotations: annotations, taints: taints, unschedulable: unschedulable),
                version == current["metadata"]?["resourceVersion"]?.stringValue ? nil : version)
    }
}

/// A watch of podd's one node: an ADDED event for it (from "now"; from a version, nothing has
/// changed since), then the stream stays open for bookmarks until its timeout or the client
/// goes, as a watch of a node that does not change (`kubectl get nodes -w`). One per request.
final class NodeWatchSource: WatchSource, Sendable {
    typealias Object = JSONValue

    private let report: NodeReport
    private let registry: PodRegistry
    private let continuation = Mutex<AsyncStream<WatchChange<JSONValue>>.Continuation?>(nil)
    /// The registry's watch of the node's versions, and what relays it.
    private let relay = Mutex<(id: Int, task: Task<Void, Never>)?>(nil)

    init(report: NodeReport, registry: PodRegistry) {
        self.report = report
        self.registry = registry
    }

    func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool) async throws(WatchExpired) -> WatchSubscription<JSONValue> {
        let (stream, continuation) = AsyncStream<WatchChange<JSONValue>>.makeStream()
        let (id, versions) = await registry.watchNode()
        let node = await NodeRoutes.current(report, registry)
        let version = Int64(node["metadata"]?["resourceVersion"]?.stringValue ?? "") ?? 1
        if case let .after(from) = start, from < version {
            // Changed since the version asked for: the node as it is now is the change.
            continuation.yield(WatchChange(type: "MODIFIED", resourceVersion: version, namespace: nil, object: node))
        } else if start == .now {
            continuation.yield(WatchChange(type: "ADDED", resourceVersion: version, namespace: nil, object: node))
        }
        if initialEventsEnd {
            var end = WatchChange<JSONValue>(type: "BOOKMARK", resourceVersion: version, namespace: nil, object: nil)
            end.endsInitialEvents = true
            continuation.yield(end)
        }
        self.continuation.withLock { $0 = continuation }
        let (report, registry) = (report, registry)
        let task = Task {
            for await changed in versions {
                let node = await NodeRoutes.current(report, registry)
                continuation.yield(WatchChange(type: "MODIFIED", resourceVersion: changed, namespace: nil, object: node))
            }
        }
        relay.withLock { $0 = (id, task) }
        return WatchSubscription(id: 0, changes: stream)
    }

    func bookmark(watch id: Int) async {
        let version = await registry.nodeVersion
        _ = continuation.withLock { $0?.yield(WatchChange(type: "BOOKMARK", resourceVersion: version, namespace: nil, object: nil)) }
    }

    func endWatch(_ id: Int) async {
        continuation.withLock { $0?.finish() }
        if let (id, task) = relay.withLock({ $0 }) {
            task.cancel()
            await registry.endNodeWatch(id)
        }
    }
}
