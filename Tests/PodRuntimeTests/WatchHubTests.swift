import PodModel
import Testing

@testable import PodRuntime

/// The resourceVersion counter, history and watches every watchable kind uses.
@Suite struct WatchHubTests {
    typealias Hub = WatchHub<String>

    func change(_ hub: inout Hub, _ type: String, _ object: String, namespace: String = "default") {
        let version = hub.nextVersion()
        hub.record(WatchChange(type: type, resourceVersion: version, namespace: namespace, object: object))
    }

    func drain(_ subscription: WatchSubscription<String>, count: Int) async -> [WatchChange<String>] {
        var out: [WatchChange<String>] = []
        var iterator = subscription.changes.makeAsyncIterator()
        while out.count < count, let next = await iterator.next() { out.append(next) }
        return out
    }

    @Test func aWatchFromAVersionGetsEveryChangeAfterItAndNothingBefore() async throws {
        var hub = Hub(capacity: 10, startingAt: 100)
        change(&hub, "ADDED", "a")
        let listed = hub.resourceVersion
        change(&hub, "MODIFIED", "a")
        change(&hub, "ADDED", "b", namespace: "other")
        let subscription = try hub.watch(namespace: nil, from: .after(listed), current: { [] }, ended: { _ in })
        change(&hub, "DELETED", "a")
        let seen = await drain(subscription, count: 3)
        #expect(seen.map(\.type) == ["MODIFIED", "ADDED", "DELETED"])
        #expect(seen.map(\.resourceVersion) == [102, 103, 104])
    }

    @Test func aNamespacedWatchSeesItsNamespaceOnly() async throws {
        var hub = Hub(capacity: 10, startingAt: 0)
        let subscription = try hub.watch(namespace: "default", from: .after(0), current: { [] }, ended: { _ in })
        change(&hub, "ADDED", "x", namespace: "other")
        change(&hub, "ADDED", "y")
        #expect(await drain(subscription, count: 1).map(\.object) == ["y"])
    }

    @Test func theCurrentStateFirstWhenNoVersionIsGiven() async throws {
        var hub = Hub(capacity: 10, startingAt: 7)
        let subscription = try hub.watch(namespace: nil, from: .now, current: { [("default", "a"), ("default", "b")] },
                                         initialEventsEnd: true, ended: { _ in })
        let seen = await drain(subscription, count: 3)
        #expect(seen.map(\.type) == ["ADDED", "ADDED", "BOOKMARK"])
        #expect(seen.last?.endsInitialEvents == true && seen.last?.resourceVersion == 7)
    }

    @Test func aVersionOlderThanTheHistoryOrNewerThanAnyIsExpired() throws {
        var hub = Hub(capacity: 3, startingAt: 0)
        for i in 0..<10 { change(&hub, "MODIFIED", "a\(i)") }
        #expect(throws: WatchExpired.self) { try hub.watch(namespace: nil, from: .after(2), current: { [] }, ended: { _ in }) }
        #expect(throws: WatchExpired.self) { try hub.watch(namespace: nil, from: .after(11), current: { [] }, ended: { _ in }) }
        #expect(throws: Never.self) { try hub.watch(namespace: nil, from: .after(7), current: { [] }, ended: { _ in }) }
    }

    @Test func readingAWatchVersion() {
        #expect(WatchStart(resourceVersion: nil) == .now)
        #expect(WatchStart(resourceVersion: "0") == .now)
        #expect(WatchStart(resourceVersion: "42") == .after(42))
        #expect(WatchStart(resourceVersion: "x") == nil)
    }

    @Test func aBookmarkCarriesTheCurrentVersionAndEndingFinishes() async throws {
        var hub = Hub(capacity: 3, startingAt: 50)
        let subscription = try hub.watch(namespace: nil, from: .after(50), current: { [] }, ended: { _ in })
        change(&hub, "ADDED", "a")
        hub.bookmark(subscription.id)
        hub.end(subscription.id)
        let seen = await drain(subscription, count: 10)
        #expect(seen.map(\.type) == ["ADDED", "BOOKMARK"])
        #expect(seen.last?.resourceVersion == 51)
        #expect(hub.watchCount == 0)
    }
}
