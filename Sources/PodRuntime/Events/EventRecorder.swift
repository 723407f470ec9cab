import PodModel

/// Kubernetes Event objects about pods, kept in memory (the newest 1000), listed and watched
/// per namespace. A repeated event (same object, reason and message) bumps `count` and
/// `lastTimestamp` as the API server's event correlator does.
public actor EventRecorder {
    public struct Record: Sendable {
        public var namespace: String
        public var involvedName: String
        public var json: JSONValue
    }

    private var records: [Record] = []
    private var watchers: [Int: (namespace: String?, continuation: AsyncStream<JSONValue>.Continuation)] = [:]
    private var nextWatcher = 0
    private var sequence: Int64 = 0
    private let host: String
    private let limit = 1000

    public init(host: String) { self.host = host }

    /// `fieldPath` names the container (`spec.initContainers{init}`), as kubelet's events do.
    public func record(namespace: String, pod: String, uid: String, fieldPath: String?, type: String,
                       reason: String, message: String, at time: Timestamp) {
        if let i = records.lastIndex(where: { $0.namespace == namespace && $0.involvedName == pod
            && $0.json["reason"]?.stringValue == reason && $0.json["message"]?.stringValue == message
            && $0.json["involvedObject"]?["uid"]?.stringValue == uid }), case var .object(o) = records[i].json {
            o["count"] = .int((o["count"]?.intValue ?? 1) + 1)
            o["lastTimestamp"] = .string(time.description)
            records[i].json = .object(o)
            broadcast(records[i], type: "MODIFIED")
            return
        }
        sequence += 1
        var involved = JSONObject([("kind", "Pod"), ("namespace", .string(namespace)), ("name", .string(pod)),
                                   ("uid", .string(uid)), ("apiVersion", "v1")])
        if let fieldPath { involved["fieldPath"] = .string(fieldPath) }
        let name = "\(pod).\(String(time.seconds, radix: 16))\(String(sequence, radix: 16))"
        let event = JSONValue.object(JSONObject([
            ("kind", "Event"), ("apiVersion", "v1"),
            ("metadata", .object(JSONObject([("name", .string(name)), ("namespace", .string(namespace)),
                                             ("resourceVersion", .string(String(sequence))),
                                             ("creationTimestamp", .string(time.description))]))),
            ("involvedObject", .object(involved)),
            ("reason", .string(reason)), ("message", .string(message)),
            ("source", .object(JSONObject([("component", "podd"), ("host", .string(host))]))),
            ("firstTimestamp", .string(time.description)), ("lastTimestamp", .string(time.description)),
            ("count", 1), ("type", .string(type)), ("reportingComponent", "podd"), ("reportingInstance", .string(host)),
        ]))
        let record = Record(namespace: namespace, involvedName: pod, json: event)
        records.append(record)
        if records.count > limit { records.removeFirst(records.count - limit) }
        broadcast(record, type: "ADDED")
    }

    private func broadcast(_ record: Record, type: String) {
        let event = JSONValue.object(JSONObject([("type", .string(type)), ("object", record.json)]))
        for (_, w) in watchers where w.namespace == nil || w.namespace == record.namespace {
            w.continuation.yield(event)
        }
    }

    /// Events in a namespace (all when nil), oldest first, optionally about one pod.
    public func list(namespace: String?, involvedName: String? = nil) -> [JSONValue] {
        records.filter { (namespace == nil || $0.namespace == namespace) && (involvedName == nil || $0.involvedName == involvedName) }
            .map(\.json)
    }

    /// Drops the events of a pod that is gone (by uid), as the API server's TTL would.
    public func forget(uid: String) {
        records.removeAll { $0.json["involvedObject"]?["uid"]?.stringValue == uid }
    }

    public func watch(namespace: String?) -> AsyncStream<JSONValue> {
        let (stream, continuation) = AsyncStream<JSONValue>.makeStream(bufferingPolicy: .bufferingNewest(1000))
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = (namespace, continuation)
        continuation.onTermination = { _ in Task { await self.unwatch(id) } }
        return stream
    }

    private func unwatch(_ id: Int) { watchers[id] = nil }
}
