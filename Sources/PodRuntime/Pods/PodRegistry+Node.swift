import PodModel
import PodOS

/// The node's changeable part through the API (`kubectl label node`, `kubectl cordon` and
/// `uncordon`, `kubectl drain`'s cordon): its labels and spec.unschedulable, stored in the
/// state dir (NodeSettings). A change is a new resourceVersion for the node's watchers, and
/// the pods left unscheduled are tried again: a label a nodeSelector waited for, or the end
/// of a cordon, places them. Running pods stay where they are (IgnoredDuringExecution).
extension PodRegistry {
    /// The node's resourceVersion.
    public var nodeVersion: Int64 { nodeSettings?.version ?? 1 }
    /// Since when the node is cordoned (its taint's timeAdded); nil when it is not.
    public var cordonedAt: Timestamp? { nodeSettings?.cordonedAt }

    /// kubelet's labels, which it sets again whenever it syncs its node: they stay whatever
    /// a change asks.
    static let kubeletLabelKeys: Set<String> = ["kubernetes.io/hostname", "kubernetes.io/os", "kubernetes.io/arch",
                                                "beta.kubernetes.io/os", "beta.kubernetes.io/arch"]

    /// Gives the node `labels` (kubelet's own kept) and the cordon `unschedulable` asks for.
    /// `resourceVersion`, when given, must be the node's (409 otherwise), as for any object.
    public func changeNode(labels: [String: String], unschedulable: Bool, resourceVersion: String?) throws(RuntimeError) -> Node {
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != String(nodeVersion) {
            throw .conflict(kind: "nodes", name: node.name,
                            reason: "Operation cannot be fulfilled on nodes \"\(node.name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        var causes: [RuntimeError.Cause] = []
        for key in labels.keys.sorted() {
            if let problem = Node.labelProblem(key: key, value: labels[key] ?? "") {
                causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \(problem)", field: "metadata.labels"))
            }
        }
        if !causes.isEmpty { throw .invalid(kind: "nodes", name: node.name, causes: causes) }
        let wanted = labelsKeepingKubelet(labels)
        guard wanted != node.labels || unschedulable != node.unschedulable else { return node }
        var settings = nodeSettings ?? NodeSettings(labels: ctx.node.labels)
        settings.labels = wanted
        settings.cordonedAt = unschedulable ? settings.cordonedAt ?? RuntimeClock.now() : nil
        settings.version += 1
        do throws(OSError) {
            try settings.save(stateDir: ctx.config.stateDir)
        } catch {
            throw .insufficientStorage(what: "cannot store node \"\(node.name)\"", reason: "\(error)")
        }
        nodeSettings = settings
        node.labels = wanted
        node.unschedulable = unschedulable
        for watcher in nodeWatchers.values { watcher.yield(settings.version) }
        if !unscheduled.isEmpty && !retryingUnscheduled {
            retryingUnscheduled = true
            Task { await self.retryUnscheduled() }
        }
        return node
    }

    /// `labels` with kubelet's own as the node has them, whatever `labels` says of them.
    public func labelsKeepingKubelet(_ labels: [String: String]) -> [String: String] {
        var kept = labels
        for key in Self.kubeletLabelKeys { kept[key] = ctx.node.labels[key] }
        return kept
    }

    /// The node's changes from now on: each new resourceVersion. End with `endNodeWatch`.
    public func watchNode() -> (id: Int, versions: AsyncStream<Int64>) {
        let (stream, continuation) = AsyncStream<Int64>.makeStream()
        nextNodeWatcher += 1
        nodeWatchers[nextNodeWatcher] = continuation
        return (nextNodeWatcher, stream)
    }

    public func endNodeWatch(_ id: Int) {
        nodeWatchers.removeValue(forKey: id)?.finish()
    }
}
