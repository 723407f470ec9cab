import NIOHTTP1
import PodModel
import PodRuntime
import Synchronization

/// A watch's query, as the API server reads it: `resourceVersion` (unset or "0": the objects
/// there are as ADDED, then the changes; N: every change after N), `allowWatchBookmarks`,
/// `timeoutSeconds`, `sendInitialEvents`.
struct WatchOptions: Sendable {
    var start: WatchStart
    var bookmarks: Bool
    /// Seconds after which the watch ends (the client watches again from where it was).
    var timeout: Int?
    /// `sendInitialEvents=true`: the objects there are as ADDED, then a BOOKMARK marked
    /// `k8s.io/initial-events-end` (the watch-list protocol of newer informers).
    var initialEvents: Bool

    init(_ r: APIRequest) throws(StatusError) {
        let version = r.queryValue("resourceVersion")
        guard let start = WatchStart(resourceVersion: version) else {
            throw .badRequest("resourceVersion: Invalid value: \"\(version ?? "")\": must be a resource version a list or watch returned")
        }
        initialEvents = r.queryValue("sendInitialEvents") == "true"
        self.start = initialEvents ? .now : start
        bookmarks = r.queryBool("allowWatchBookmarks") || initialEvents
        if let text = r.queryValue("timeoutSeconds"), !text.isEmpty {
            guard let seconds = Int(text), seconds >= 0 else {
                throw .badRequest("timeoutSeconds: Invalid value: \"\(text)\": must be a non-negative integer")
            }
            timeout = seconds > 0 ? seconds : nil
        }
    }

    /// How often a watch that allows bookmarks gets one when nothing else happens (the API
    /// server's period); one is also sent just before `timeoutSeconds` ends a watch.
    static let bookmarkPeriod: Double = 60
}

/// Serves the watch of one kind: each change as a line of JSON (`{"type":..,"object":..}`),
/// or, when the client asked for a Table (`kubectl get -w`), each change's object as a
/// Table of one row (the column definitions in the first only).
struct WatchRoute<Source: WatchSource>: Sendable {
    let source: Source
    /// The kind of the objects (`Pod`), for bookmarks.
    let kind: String
    /// An object as JSON.
    let render: @Sendable (Source.Object) -> JSONValue
    /// Whether an object (as JSON) is one the client watches (its label and field selectors).
    let matches: @Sendable (JSONValue) -> Bool
    /// Whether the client gave a selector: then a change is judged against the object before
    /// it too.
    var selective = true

    func respond(namespace: String?, options: WatchOptions, table: TableBuilder?) async -> APIResponse {
        let subscription: WatchSubscription<Source.Object>
        do {
            subscription = try await source.watch(namespace: namespace, from: options.start, initialEventsEnd: options.initialEvents)
        } catch {
            // The API server answers 200 and an ERROR event (410 Expired): clients list again.
            let status = StatusError(code: 410, reason: "Expired", message: error.message).status.json
            let line = JSONValue.object(JSONObject([("type", "ERROR"), ("object", status)])).serialized() + [UInt8(ascii: "\n")]
            let sent = Mutex(false)
            return .stream(status: .ok, contentType: "application/json", body: ResponseChunks(next: {
                sent.withLock { done in
                    if done { return nil }
                    done = true
                    return line
                }
            }))
        }
        let id = subscription.id
        let source = self.source
        let timer = Self.timer(source: source, id: id, options: options)
        let render = self.render, matches = self.matches, kind = self.kind, selective = self.selective
        let columnsSent = Mutex(false)
        let chunks = ResponseChunks.from(subscription.changes) { change -> [UInt8]? in
            let event: JSONValue
            if change.type == "BOOKMARK" {
                let version = String(change.resourceVersion)
                var object: JSONValue
                if let table {
                    object = table.bookmark(resourceVersion: version)
                } else {
                    var metadata = JSONObject([("resourceVersion", .string(version))])
                    if change.endsInitialEvents {
                        metadata["annotations"] = .object(JSONObject([("k8s.io/initial-events-end", "true")]))
                    }
                    object = .object(JSONObject([("kind", .string(kind)), ("apiVersion", "v1"), ("metadata", .object(metadata))]))
                }
                event = .object(JSONObject([("type", "BOOKMARK"), ("object", object)]))
            } else {
                guard let (type, object) = Self.selected(change, render: render, matches: matches, selective: selective) else { return nil }
                if let table {
                    let first = columnsSent.withLock { sent in
                        defer { sent = true }
                        return !sent
                    }
                    event = .object(JSONObject([("type", .string(type)),
                                                ("object", table.table([object], resourceVersion: String(change.resourceVersion), withColumns: first))]))
                } else {
                    event = .object(JSONObject([("type", .string(type)), ("object", object)]))
                }
            }
            return event.serialized() + [UInt8(ascii: "\n")]
        }
        return .stream(status: .ok, contentType: "application/json", body: ResponseChunks(next: {
            guard let chunk = await chunks.next() else {
                timer?.cancel()
                return nil
            }
            return chunk
        }, cancel: {
            timer?.cancel()
            chunks.cancel()
            Task { await source.endWatch(id) }
        }))
    }

    /// The event a watcher with a selector gets for a change, as the API server's watch cache
    /// decides it: an object that starts matching is ADDED, one that stops matching is
    /// DELETED (its previous state, at the change's version), one that matches neither
    /// before nor after is not sent.
    static func selected(_ change: WatchChange<Source.Object>, render: (Source.Object) -> JSONValue,
                         matches: (JSONValue) -> Bool, selective: Bool) -> (type: String, object: JSONValue)? {
        guard let current = change.object else { return nil }
        let object = render(current)
        guard selective else { return (change.type, object) }
        let now = matches(object)
        guard change.type != "ADDED", let previousObject = change.previous else { return now ? (change.type, object) : nil }
        var previous = render(previousObject)
        let before = matches(previous)
        switch (change.type, before, now) {
        case ("DELETED", true, _), ("DELETED", _, true): return ("DELETED", object)
        case (_, true, true): return (change.type, object)
        case (_, false, true): return ("ADDED", object)
        case (_, true, false):
            previous["metadata"]?["resourceVersion"] = .string(String(change.resourceVersion))
            return ("DELETED", previous)
        default: return nil
        }
    }

    /// The task that sends a watch its bookmarks and ends it at its timeout; nil when it
    /// needs neither.
    private static func timer(source: Source, id: Int, options: WatchOptions) -> Task<Void, Never>? {
        guard options.bookmarks || options.timeout != nil else { return nil }
        let started = RuntimeClock.monotonic()
        let deadline = options.timeout.map { started + Double($0) }
        return Task {
            var nextBookmark = started + WatchOptions.bookmarkPeriod
            while !Task.isCancelled {
                let now = RuntimeClock.monotonic()
                var wake = options.bookmarks ? nextBookmark : Double.infinity
                if let deadline { wake = min(wake, deadline) }
                if wake > now {
                    try? await Task.sleep(for: .milliseconds(Int64(min(wake - now, 3600) * 1000)))
                    continue
                }
                if let deadline, now >= deadline {
                    // A last bookmark tells the client where to watch from next.
                    if options.bookmarks { await source.bookmark(watch: id) }
                    await source.endWatch(id)
                    return
                }
                await source.bookmark(watch: id)
                nextBookmark = now + WatchOptions.bookmarkPeriod
            }
        }
    }
}
