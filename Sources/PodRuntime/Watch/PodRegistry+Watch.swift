import PodModel

/// Watches of pods, as Kubernetes serves them (see `WatchHub`).
extension PodRegistry: WatchSource {
    public typealias Object = Pod

    /// The changes of pods (of one namespace, or all) from `start`; see `WatchHub.watch`.
    public func watch(namespace: String?, from start: WatchStart, initialEventsEnd: Bool = false) throws(WatchExpired) -> WatchSubscription<Pod> {
        let pods = list(namespace: namespace)
        return try hub.watch(namespace: namespace, from: start, current: { pods.map { ($0.metadata.namespace, $0) } },
                             initialEventsEnd: initialEventsEnd) { id in
            Task { await self.unwatch(id) }
        }
    }

    private func unwatch(_ id: Int) { hub.remove(id) }

    public func bookmark(watch id: Int) { hub.bookmark(id) }

    public func endWatch(_ id: Int) { hub.end(id) }
}
