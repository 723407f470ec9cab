import PodModel

/// One change of an object as a watch delivers it: `ADDED`, `MODIFIED`, `DELETED`, or a
/// `BOOKMARK` (no object: only the resourceVersion the watcher has reached).
public struct WatchChange<Object: Sendable>: Sendable {
    public var type: String
    public var resourceVersion: Int64
    /// The namespace of the object; nil for a bookmark.
    public var namespace: String?
    /// nil for a bookmark.
    public var object: Object? {
        get { objectBox?.value }
        set { objectBox = newValue.map(Box.init) }
    }
    /// The object before this change (MODIFIED, DELETED): a watch with a selector sends an
    /// object that stops matching as DELETED and one that starts matching as ADDED, as the
    /// API server's watch cache does.
    public var previous: Object? {
        get { previousBox?.value }
        set { previousBox = newValue.map(Box.init) }
    }
    /// The objects are shared by every watcher's copy of the change: a Pod is over a
    /// kilobyte stored inline, and each watcher's queue held its own copies (200 watchers
    /// that did not read, 3,000 changes: 800 MB).
    private final class Box: Sendable {
        let value: Object
        init(_ value: Object) { self.value = value }
    }
    private var objectBox: Box?
    private var previousBox: Box?
    /// A bookmark that ends the initial events of a `sendInitialEvents` watch (Kubernetes
    /// marks it with the annotation `k8s.io/initial-events-end: "true"`).
    public var endsInitialEvents = false

    public init(type: String, resourceVersion: Int64, namespace: String?, object: Object?, previous: Object? = nil) {
        self.type = type
        self.resourceVersion = resourceVersion
        self.namespace = namespace
        objectBox = object.map(Box.init)
        previousBox = previous.map(Box.init)
    }
}

/// Where a watch starts, as Kubernetes reads a watch's `resourceVersion`.
public enum WatchStart: Sendable, Equatable {
    /// Unset or "0": synthetic ADDED events for every object there is now, then the changes.
    case now
    /// "N": every change after N (and nothing before), none lost between a list answered at
    /// N and this watch.
    case after(Int64)

    /// Reads a watch's `resourceVersion` query parameter; nil when it is not a version.
    public init?(resourceVersion: String?) {
        guard let text = resourceVersion, !text.isEmpty, text != "0" else {
            self = .now
            return
        }
        guard let version = Int64(text), version > 0 else { return nil }
        self = .after(version)
    }
}

/// A watch that cannot start where it was asked: its resourceVersion is older than the
/// changes kept (or newer than any given out). Kubernetes answers it with an ERROR event
/// carrying a 410 Gone Status (reason Expired), and its client lists again.
public struct WatchExpired: Error, Sendable {
    public var requested: Int64
    /// The oldest resourceVersion a watch may start after.
    public var oldest: Int64

    /// The apiserver's wording.
    public var message: String { "too old resource version: \(requested) (\(oldest))" }
}

/// An open watch: its changes, and the id its owner's `bookmark(watch:)` and
/// `endWatch(_:)` take.
public struct WatchSubscription<Object: Sendable>: Sendable {
    public let id: Int
    public let changes: AsyncStream<WatchChange<Object>>

    public init(id: Int, changes: AsyncStream<WatchChange<Object>>) {
        self.id = id
        self.changes = changes
    }
}

/// The resourceVersion counter of one kind of object, its recent changes, and the watches
/// on it: what lists and watches need so that an informer (list at N, watch from N) never
/// misses or repeats a change. A value kept by the actor that owns the objects (the pod
/// registry, the event recorder, and every kind added later), so that a change is stamped,
/// recorded and sent to the watchers in one step, in resourceVersion order.
public struct WatchHub<Object: Sendable>: Sendable {
    private struct Watcher {
        var namespace: String?
        var continuation: AsyncStream<WatchChange<Object>>.Continuation
    }

    /// The version of the latest change (what a list answered now carries).
    public private(set) var resourceVersion: Int64
    /// Changes kept for watches that start at a resourceVersion, oldest first.
    private var history: [WatchChange<Object>] = []
    private var historyStart = 0
    /// Versions at or after this one can be watched from; an older one is expired.
    public private(set) var oldestWatchable: Int64
    private let capacity: Int
    private var watchers: [Int: Watcher] = [:]
    private var nextWatcher = 0

    /// Changes a watcher may have waiting before it counts as too slow: it is then ended
    /// (after the changes it has) rather than buffered for without bound, and its client
    /// watches again from the last version it saw. As many as the history keeps: a client
    /// further behind could not watch again from where it was anyway.
    public static var backlog: Int { 1_000 }

    /// `capacity`: how many recent changes are kept. The counter starts at the clock
    /// (microseconds since the epoch), so a version handed out by an earlier podd is older
    /// than any of this one's: a client that watches from it is told Expired and lists again,
    /// instead of waiting for versions that will never come.
    public init(capacity: Int = 1000, startingAt start: Int64 = WatchHub.clockVersion()) {
        self.capacity = max(1, capacity)
        resourceVersion = start
        oldestWatchable = start
    }

    /// A resourceVersion from the wall clock, in microseconds.
    public static func clockVersion() -> Int64 {
        let now = RuntimeClock.now()
        return now.seconds * 1_000_000 + Int64(now.nanoseconds / 1000)
    }

    /// The next version, for a change about to be recorded with `record`.
    public mutating func nextVersion() -> Int64 {
        resourceVersion += 1
        return resourceVersion
    }

    /// Records a change stamped by `nextVersion()` and sends it to every watcher of its
    /// namespace. A watcher too far behind is ended.
    public mutating func record(_ change: WatchChange<Object>) {
        history.append(change)
        if history.count - historyStart > capacity {
            oldestWatchable = history[historyStart].resourceVersion
            historyStart += 1
            // Compact now and then instead of shifting the array at every change.
            if historyStart >= capacity {
                history.removeFirst(historyStart)
                historyStart = 0
            }
        }
        guard !watchers.isEmpty else { return }
        for (id, watcher) in watchers where watcher.namespace == nil || watcher.namespace == change.namespace {
            if case .dropped = watcher.continuation.yield(change) {
                watcher.continuation.finish()
                watchers[id] = nil
            }
        }
    }

    /// Opens a watch of one namespace (nil: all). `.now` starts with `current` (the objects
    /// there are, as synthetic ADDED events at the current version); `.after(N)` replays the
    /// kept changes after N. With `initialEventsEnd`, a BOOKMARK marks the end of what came
    /// before the live changes (`sendInitialEvents`). `ended` is called with the watch's id
    /// when its client goes; the owner then calls `remove`.
    public mutating func watch(namespace: String?, from start: WatchStart, current: () -> [(namespace: String, object: Object)],
                               initialEventsEnd: Bool = false,
                               ended: @escaping @Sendable (Int) -> Void) throws(WatchExpired) -> WatchSubscription<Object> {
        var backlog: [WatchChange<Object>] = []
        switch start {
        case .now:
            backlog = current().map { WatchChange(type: "ADDED", resourceVersion: resourceVersion, namespace: $0.namespace, object: $0.object) }
        case let .after(version):
            guard version >= oldestWatchable, version <= resourceVersion else {
                throw WatchExpired(requested: version, oldest: oldestWatchable)
            }
            backlog = history[historyStart...].filter { $0.resourceVersion > version && (namespace == nil || $0.namespace == namespace) }
        }
        if initialEventsEnd {
            var end = WatchChange<Object>(type: "BOOKMARK", resourceVersion: resourceVersion, namespace: nil, object: nil)
            end.endsInitialEvents = true
            backlog.append(end)
        }
        let (stream, continuation) = AsyncStream<WatchChange<Object>>.makeStream(bufferingPolicy: .bufferingOldest(Self.backlog + backlog.count))
        for change in backlog { continuation.yield(change) }
        let id = nextWatcher
        nextWatcher += 1
        watchers[id] = Watcher(namespace: namespace, continuation: continuation)
        continuation.onTermination = { _ in ended(id) }
        return WatchSubscription(id: id, changes: stream)
    }

    /// Forgets a watch whose client has gone.
    public mutating func remove(_ id: Int) { watchers[id] = nil }

    /// Sends a watch a BOOKMARK at the current version (`allowWatchBookmarks`).
    public func bookmark(_ id: Int) {
        watchers[id]?.continuation.yield(WatchChange(type: "BOOKMARK", resourceVersion: resourceVersion, namespace: nil, object: nil))
    }

    /// Ends one watch (its `timeoutSeconds` ran out).
    public mutating func end(_ id: Int) {
        watchers[id]?.continuation.finish()
        watchers[id] = nil
    }

    /// Ends every watch (shutdown).
    public mutating func endAll() {
        for (_, watcher) in watchers { watcher.continuation.finish() }
        watchers = [:]
    }

    /// How many watches are open.
    public var watchCount: Int { watchers.count }
}

/// What the API needs of an owner of watchable objects: open a watch, bookmark it, end it.
/// An actor that owns one kind conforms itself; one that owns several hands out a source per
/// kind (ObjectRegistry.watchSource).
public protocol WatchSource<Object>: Sendable {
    associatedtype Object: Sendable
    func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool) async throws(WatchExpired) -> WatchSubscription<Object>
    func bookmark(watch id: Int) async
    func endWatch(_ id: Int) async
}
