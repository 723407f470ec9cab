import PodModel

/// Kubernetes Event objects about pods (and the few other objects a controller of podd's
/// reports on: PodDisruptionBudgets), kept in memory (the newest 1000), listed and watched
/// per namespace. A repeated event (same object, reason and message) bumps `count` and
/// `lastTimestamp` as the API server's event correlator does.
public actor EventRecorder {
    public struct Record: Sendable {
        public var namespace: String
        public var involvedName: String
        public var json: JSONValue
        /// What makes an event the same as another (`repeatKey`).
        var repeatKey = ""
    }

    private var records: [Record] = []
    /// Each kept event's place in `records`, by `repeatKey`, counted from the first event ever
    /// recorded (`dropped` of them are gone): a repeat is found without reading every record
    /// (it was most of an event's cost with a thousand kept, and a pod's create records four).
    private var positions: [String: Int] = [:]
    private var dropped = 0
    /// The resourceVersion counter, recent changes and watches of events.
    private var hub = WatchHub<JSONValue>(capacity: 1000)
    private var sequence: Int64 = 0
    /// This machine's name (the events' source host, and the node of every pod).
    public nonisolated let host: String
    private let limit = 1000

    public init(host: String) { self.host = host }

    /// `fieldPath` names the container (`spec.initContainers{init}`), as kubelet's events do.
    /// `kind` and `apiVersion` name the object's kind when it is not a pod (`pod` is then its
    /// name).
    public func record(namespace: String, pod: String, uid: String, fieldPath: String?, type: String,
                       reason: String, message: String, at time: Timestamp, kind: String = "Pod", apiVersion: String = "v1") {
        let key = Self.repeatKey(namespace: namespace, pod: kind == "Pod" ? pod : kind + "/" + pod, uid: uid, reason: reason, message: message)
        if let position = positions[key], position >= dropped, case var .object(o) = records[position - dropped].json {
            let i = position - dropped
            let previous = records[i].json
            o["count"] = .int((o["count"]?.intValue ?? 1) + 1)
            o["lastTimestamp"] = .string(time.description)
            records[i].json = .object(o)
            records[i].json = commit(records[i], type: "MODIFIED", previous: previous)
            return
        }
        sequence += 1
        var involved = JSONObject([("kind", .string(kind)), ("namespace", .string(namespace)), ("name", .string(pod)),
                                   ("uid", .string(uid)), ("apiVersion", .string(apiVersion))])
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
        var record = Record(namespace: namespace, involvedName: pod, json: event, repeatKey: key)
        record.json = commit(record, type: "ADDED")
        positions[key] = dropped + records.count
        records.append(record)
        if records.count > limit {
            let excess = records.count - limit
            for (offset, old) in records.prefix(excess).enumerated() where positions[old.repeatKey] == dropped + offset {
                positions[old.repeatKey] = nil
            }
            records.removeFirst(excess)
            dropped += excess
        }
    }

    /// The same object (namespace, name and uid), reason and message: a repeat of an event,
    /// as the API server's event correlator counts them.
    static func repeatKey(namespace: String, pod: String, uid: String, reason: String, message: String) -> String {
        [namespace, pod, uid, reason, message].joined(separator: "\u{0}")
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
        positions = [:]
        for (index, record) in records.enumerated() { positions[record.repeatKey] = dropped + index }
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
