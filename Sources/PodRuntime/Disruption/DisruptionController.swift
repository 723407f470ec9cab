import Logging
import PodModel
import Synchronization

/// Kubernetes' disruption controller for podd's node: keeps the status of every
/// PodDisruptionBudget (healthy, desired and expected pods, disruptions allowed) as the pods
/// it covers change, and drops an eviction's grant once its pod is going or two minutes have
/// passed. The arithmetic is DisruptionBudgets' (PodModel); this actor only feeds it and
/// writes the result through the object registry, so that watches see each change.
public actor DisruptionController {
    /// Set once at start (`bind`): the registry's change callback needs this controller first.
    private var registry: ObjectRegistry?
    private let pods: PodRegistry
    private let events: EventRecorder?
    private let logger: Logger
    /// Namespaces to look at again; one task drains them, so a burst of pod changes costs one
    /// pass per namespace.
    private var pending: Set<String> = []
    private var draining = false
    /// A pass due when the oldest grant of a namespace's budgets runs out.
    private var rechecks: [String: Task<Void, Never>] = [:]
    /// The namespaces that hold a budget: a pod change elsewhere is dropped without a hop to
    /// this actor (most pods are never covered by one).
    private nonisolated let covered = Mutex<Set<String>>([])

    public init(pods: PodRegistry, events: EventRecorder? = nil, logger: Logger) {
        self.pods = pods
        self.events = events
        self.logger = logger
    }

    public func bind(_ objects: ObjectRegistry) { registry = objects }

    private var budgets: ObjectRegistry {
        guard let registry else { preconditionFailure("DisruptionController used before bind(_:)") }
        return registry
    }

    /// Every namespace with a budget, once at start.
    public func start() async {
        let namespaces = Set(await budgets.list(PodDisruptionBudget.self, namespace: nil).map(\.metadata.namespace))
        covered.withLock { $0 = namespaces }
        for namespace in namespaces { await sync(namespace) }
    }

    /// A pod of `namespace` changed (PodRegistry's commit).
    public nonisolated func podChanged(namespace: String) {
        guard covered.withLock({ $0.contains(namespace) }) else { return }
        Task { await self.schedule(namespace) }
    }

    /// A budget of `namespace` was created, changed or deleted (the object registry's change).
    public func budgetChanged(namespace: String) async {
        let any = !(await budgets.list(PodDisruptionBudget.self, namespace: namespace).isEmpty)
        covered.withLock { if any { $0.insert(namespace) } else { $0.remove(namespace) } }
        schedule(namespace)
    }

    /// The status of `budget` as of now, for the eviction subresource, which must decide on
    /// the pods as they are rather than on the last pass.
    public func freshStatus(_ budget: PodDisruptionBudget) async -> PodDisruptionBudget.Status {
        let views = await pods.list(namespace: budget.metadata.namespace).map(DisruptionBudgets.PodView.init)
        return DisruptionBudgets.status(of: budget, pods: views, now: RuntimeClock.now())
    }

    private func schedule(_ namespace: String) {
        pending.insert(namespace)
        guard !draining else { return }
        draining = true
        Task { await self.drain() }
    }

    private func drain() async {
        while let namespace = pending.popFirst() { await sync(namespace) }
        draining = false
    }

    /// Writes the status of each budget of `namespace` that changed, and sets the next pass
    /// for when a grant runs out.
    /// The controller's events about a budget whose status changes: no pod to cover, or
    /// pods its arithmetic cannot count (DisruptionBudgets.unmanagedWarning).
    private func report(_ budget: PodDisruptionBudget, pods: [DisruptionBudgets.PodView]) async {
        guard let events else { return }
        func record(_ type: String, _ reason: String, _ message: String) async {
            await events.record(namespace: budget.metadata.namespace, pod: budget.metadata.name, uid: budget.metadata.uid ?? "",
                                fieldPath: nil, type: type, reason: reason, message: message, at: RuntimeClock.now(),
                                kind: PodDisruptionBudget.kind, apiVersion: PodDisruptionBudget.apiVersion)
        }
        if !pods.contains(where: { DisruptionBudgets.covers(budget, labels: $0.labels) }) {
            await record("Normal", "NoPods", "No matching pods found")
        }
        if let warning = DisruptionBudgets.unmanagedWarning(budget, pods: pods) { await record("Warning", "UnmanagedPods", warning) }
    }

    private func sync(_ namespace: String) async {
        let list = await budgets.list(PodDisruptionBudget.self, namespace: namespace)
        guard !list.isEmpty else { return }
        let views = await pods.list(namespace: namespace).map(DisruptionBudgets.PodView.init)
        let now = RuntimeClock.now()
        var nextExpiry: Timestamp?
        for budget in list {
            let status = DisruptionBudgets.status(of: budget, pods: views, now: now)
            for granted in status.disruptedPods.values {
                let expiry = granted.adding(seconds: DisruptionBudgets.deletionTimeout)
                if nextExpiry.map({ expiry < $0 }) ?? true { nextExpiry = expiry }
            }
            guard status != budget.status else { continue }
            await report(budget, pods: views)
            do throws(ObjectUpdateError<Never>) {
                _ = try await budgets.update(PodDisruptionBudget.self, namespace: namespace, name: budget.metadata.name, status: true) { current in
                    var updated = current
                    updated.status = status
                    return updated
                }
            } catch {
                // Gone meanwhile (deleted), or the state dir is full: the next change tries again.
                if case let .runtime(failure) = error, case .notFound = failure { continue }
                logger.warning("PodDisruptionBudget \(namespace)/\(budget.metadata.name): status not written: \(error)")
            }
        }
        rechecks[namespace]?.cancel()
        rechecks[namespace] = nil
        if let nextExpiry {
            let delay = max(nextExpiry.seconds(since: now), 0) + 0.05
            rechecks[namespace] = Task {
                try? await Task.sleep(for: .milliseconds(Int64(delay * 1000)))
                if Task.isCancelled { return }
                self.schedule(namespace)
            }
        }
    }
}
