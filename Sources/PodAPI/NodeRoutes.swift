import NIOHTTP1
import PodModel
import PodRuntime
import Synchronization

/// `GET /api/v1/nodes[/{name}]`: podd's one node (NodeReport), read when asked, as an object,
/// a Table (kubectl's NAME STATUS ROLES AGE VERSION) or metadata. There is no other node to
/// register and nothing to change: other verbs are 405, saying why.
struct NodeRoutes {
    let report: NodeReport

    static func readOnly(_ method: HTTPMethod, _ path: String) -> StatusError {
        StatusError(code: 405, reason: "MethodNotAllowed",
                    message: "podd's node is the machine itself, read-only: its labels come from the config's nodeLabels (\(method) \(path))")
    }

    func list(_ r: APIRequest) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        let table = try PodAPIHandler.tableBuilder(r, form: form, kind: .nodes)
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        // kubectl's `--field-selector metadata.name=NODE`: the field podd's node is selected by.
        let fields = try FieldSelector(r.queryValue("fieldSelector") ?? "", fields: ["metadata.name"])
        let matches: @Sendable (JSONValue) -> Bool = { selector.matches($0) && fields.matches($0) }
        if r.queryBool("watch") {
            return await WatchRoute(source: NodeWatchSource(report: report), kind: "Node", render: { $0 }, matches: matches,
                                    selective: !selector.requirements.isEmpty || !fields.terms.isEmpty)
                .respond(namespace: nil, options: try WatchOptions(r), table: table)
        }
        let items = [report.json(now: RuntimeClock.now())].filter(matches)
        return PodAPIHandler.list(items, kind: "NodeList", resourceVersion: String(NodeWatchSource.version), form: form, table: table)
    }

    func get(_ r: APIRequest, name: String) throws(StatusError) -> APIResponse {
        guard name == report.node.name else { throw .notFound(name, kind: "nodes") }
        return try PodAPIHandler.single(r, report.json(now: RuntimeClock.now()), kind: .nodes, resourceVersion: String(NodeWatchSource.version))
    }
}

/// A watch of podd's one node: an ADDED event for it (from "now"; from a version, nothing has
/// changed since), then the stream stays open for bookmarks until its timeout or the client
/// goes, as a watch of a node that does not change (`kubectl get nodes -w`). One per request.
final class NodeWatchSource: WatchSource, Sendable {
    typealias Object = JSONValue

    private let report: NodeReport
    private let continuation = Mutex<AsyncStream<WatchChange<JSONValue>>.Continuation?>(nil)

    init(report: NodeReport) { self.report = report }

    /// The node's resourceVersion in its events (it has no other).
    static let version: Int64 = 1

    func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool) async throws(WatchExpired) -> WatchSubscription<JSONValue> {
        let (stream, continuation) = AsyncStream<WatchChange<JSONValue>>.makeStream()
        if start == .now {
            continuation.yield(WatchChange(type: "ADDED", resourceVersion: Self.version, namespace: nil, object: report.json(now: RuntimeClock.now())))
        }
        if initialEventsEnd {
            var end = WatchChange<JSONValue>(type: "BOOKMARK", resourceVersion: Self.version, namespace: nil, object: nil)
            end.endsInitialEvents = true
            continuation.yield(end)
        }
        self.continuation.withLock { $0 = continuation }
        return WatchSubscription(id: 0, changes: stream)
    }

    func bookmark(watch id: Int) async {
        _ = continuation.withLock { $0?.yield(WatchChange(type: "BOOKMARK", resourceVersion: Self.version, namespace: nil, object: nil)) }
    }

    func endWatch(_ id: Int) async {
        continuation.withLock { $0?.finish() }
    }
}
