import PodModel
import PodOS

/// The node's changeable part through the API (`kubectl label node`, `kubectl annotate node`,
/// `kubectl taint node`, `kubectl cordon` and `uncordon`, `kubectl drain`'s cordon): its
/// labels, annotations, taints and spec.unschedulable, stored in the state dir (NodeSettings). A change is a new resourceVersion for the node's watchers, and
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

    /// The node's annotations (`kubectl annotate node`).
    public var nodeAnnotations: [String: String] { nodeSettings?.annotations ?? [:] }

    /// What a change of the node asks: its labels, annotations, taints (the cordon's aside) and
    /// cordon.
    public struct NodeChange: Sendable {
        public var labels: [String: String]
        public var annotations: [String: String]
        public var taints: [Taint]
        public var unschedulable: Bool

        public init(labels: [String: String], annotations: [String: String] = [:], taints: [Taint] = [], unschedulable: Bool) {
            self.labels = labels
            self.annotations = annotations
            self.taints = taints
            self.unschedulable = unschedulable
        }
    }

    /// The node as `change` would leave it, kubelet's own labels kept, and the taints with the
    /// time each NoExecute taint was added (kept from before for a taint already there).
    public func nodeAfter(_ change: NodeChange) -> (node: Node, annotations: [String: String]) {
        var changed = node
        changed.labels = labelsKeepingKubelet(change.labels)
        changed.unschedulable = change.unschedulable
        let now = RuntimeClock.now()
        changed.taints = change.taints.map { wanted in
            var taint = wanted
            if let same = node.taints.first(where: { $0.key == taint.key && $0.value == taint.value && $0.effect == taint.effect }) {
                taint.timeAdded = same.timeAdded
            } else if taint.effect == "NoExecute" && taint.timeAdded == nil {
                taint.timeAdded = now
            }
            return taint
        }
        return (changed, change.annotations)
    }

    /// Gives the node what `change` asks (kubelet's own labels kept). `resourceVersion`, when
    /// given, must be the node's (409 otherwise), as for any object.
    public func changeNode(_ change: NodeChange, resourceVersion: String?) throws(RuntimeError) -> Node {
        if let resourceVersion, !resourceVersion.isEmpty, resourceVersion != String(nodeVersion) {
            throw .conflict(kind: "nodes", name: node.name,
                            reason: "Operation cannot be fulfilled on nodes \"\(node.name)\": the object has been modified; please apply your changes to the latest version and try again")
        }
        var causes: [RuntimeError.Cause] = []
        for key in change.labels.keys.sorted() {
            if let problem = Node.labelProblem(key: key, value: change.labels[key] ?? "") {
                causes.append(.init(reason: "FieldValueInvalid", message: "Invalid value: \(problem)", field: "metadata.labels"))
            }
        }
        causes += Taint.errors(change.taints, path: FieldPath("spec").child("taints")).map(RuntimeError.Cause.init)
        causes += PodValidation.annotationErrors(change.annotations, path: FieldPath("metadata").child("annotations")).map(RuntimeError.Cause.init)
        if !causes.isEmpty { throw .invalid(kind: "nodes", name: node.name, causes: causes) }
        let (wanted, annotations) = nodeAfter(change)
        guard wanted != node || annotations != nodeAnnotations else { return node }
        var settings = nodeSettings ?? NodeSettings(labels: ctx.node.labels)
        settings.labels = wanted.labels
        settings.annotations = annotations
        settings.taints = wanted.taints
        settings.cordonedAt = wanted.unschedulable ? settings.cordonedAt ?? RuntimeClock.now() : nil
        settings.version += 1
        do throws(OSError) {
            try settings.save(stateDir: ctx.config.stateDir)
        } catch {
            throw .insufficientStorage(what: "cannot store node \"\(node.name)\"", reason: "\(error)")
        }
        let taintsChanged = wanted.taints != node.taints
        nodeSettings = settings
        node = wanted
        for watcher in nodeWatchers.values { watcher.yield(settings.version) }
        if !unscheduled.isEmpty && !retryingUnscheduled {
            retryingUnscheduled = true
            Task { await self.retryUnscheduled() }
        }
        if taintsChanged { evictForTaints() }
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
