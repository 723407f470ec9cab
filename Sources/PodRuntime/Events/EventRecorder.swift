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
    /// The resourceVersion counter, recent changes and watches of events.
    private var hub = WatchHub<JSONValue>(capacity: 1000)
    private var sequence: Int64 = 0
    /// This machine's name (the events' source host, and the node of every pod).
    public nonisolated let host: String
    private let limit = 1000

    public init(host: String) { self.host = host }

    /// `fieldPath` names the container (`spec.initContainers{init}`), as kubelet's events do.
    public func record(namespace: String, pod: String, uid: String, fieldPath: String?, type: String,
                       reason: String, message: String, at time: Timestamp) {
        if let i = records.lastIndex(where: { $0.namespace == namespace && $0.involvedName == pod
            && $0.json["reason"]?.stringValue == reason && $0.json["message"]?.stringValue == message
            && $0.json["involvedObject"]?["uid"]?.stringValue == uid }), case var .object(o) = records[i].json {
            let previous = records[i].json
            o["count"] = .int((o["count"]?.intValue ?? 1) + 1)
            o["lastTimestamp"] = .string(time.description)
            records[i].json = .object(o)
            records[i].json = commit(records[i], type: "MODIFIED", previous: previous)
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
                                             ("resourceVersion", ""),
                                             ("creationTimestamp", .string(time.description))]))),
            ("involvedObject", .object(involved)),
            ("reason", .string(reason)), ("message", .string(message)),
            ("source", .object(JSONObject([("component", "podd"), ("host", .string(host))]))),
            ("firstTimestamp", .string(time.description)), ("lastTimestamp", .string(time.description)),
            ("count", 1), ("type", .string(type)), ("reportingComponent", "podd"), ("reportingInstance", .string(host)),
        ]))
        var record = Record(namespace: namespace, involvedName: pod, json: event)
        record.json = commit(record, type: "ADDED")
        records.append(record)
        if records.count > limit { records.removeFirst(records.count - limit) }
    }

    /// Stamps a change of an event with the next resourceVersion and sends it to watchers
    /// (see `WatchHub`); returns the event as stamped.
    private func commit(_ record: Record, type: String, previous: JSONValue? = nil) -> JSONValue {
        let version = hub.nextVersion()
        var json = record.json
        json["metadata"]?["resourceVersion"] = .string(String(version))
        hub.record(WatchChange(type: type, resourceVersion: version, namespace: record.namespace, object: json, previous: previous))
        return json
    }

    /// The resourceVersion of the latest change, for lists.
    public var listResourceVersion: String { String(hub.resourceVersion) }

    /// Events in a namespace (all when nil), oldest first, optionally about one pod.
    public func list(namespace: String?, involvedName: String? = nil) -> [JSONValue] {
        records.filter { (namespace == nil || $0.namespace == namespace) && (involvedName == nil || $0.involvedName == involvedName) }
            .map(\.json)
    }

    /// Drops the events of a pod that is gone (by uid), as the API server's TTL would.
    public func forget(uid: String) {
        records.removeAll { $0.json["involvedObject"]?["uid"]?.stringValue == uid }
    }

    /// Events in a namespace (all when nil) with the resourceVersion they were read at.
    public func listWithVersion(namespace: String?, involvedName: String? = nil) -> (events: [JSONValue], resourceVersion: String) {
        (list(namespace: namespace, involvedName: involvedName), listResourceVersion)
    }

    /// Ends every watch (shutdown).
    public func closeWatches() { hub.endAll() }
}

extension EventRecorder: WatchSource {
    public typealias Object = JSONValue

    public func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool = false) throws(WatchExpired) -> WatchSubscription<JSONValue> {
        let events = records.filter { namespace == nil || $0.namespace == namespace }.map { ($0.namespace, $0.json) }
        return try hub.watch(namespace: namespace, from: start, current: { events }, initialEventsEnd: initialEventsEnd) { id in
            Task { await self.unwatch(id) }
        }
    }

    private func unwatch(_ id: Int) { hub.remove(id) }

    public func bookmark(watch id: Int) { hub.bookmark(id) }

    public func endWatch(_ id: Int) { hub.end(id) }
}
