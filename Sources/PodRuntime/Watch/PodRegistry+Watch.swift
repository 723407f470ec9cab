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

    /// The pods (of one namespace, or all) as JSON, with the resourceVersion they were read
    /// at. A pod's JSON is made once per change of it, not at every list: `kubectl get pods`
    /// of pods that do not change costs their serialization only.
    public func listJSON(namespace: String?) -> (items: [JSONValue], resourceVersion: String) {
        var items: [JSONValue] = []
        for key in snapshots.keys.sorted() where namespace == nil || key.namespace == namespace {
            guard let pod = snapshots[key] else { continue }
            if let cached = snapshotJSON[key], cached.version == pod.metadata.resourceVersion {
                items.append(cached.json)
            } else {
                let json = pod.json
                snapshotJSON[key] = (pod.metadata.resourceVersion, json)
                items.append(json)
            }
        }
        return (items, listResourceVersion)
    }

    public func bookmark(watch id: Int) { hub.bookmark(id) }

    public func endWatch(_ id: Int) { hub.end(id) }
}
