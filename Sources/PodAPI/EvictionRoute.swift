import PodModel
import PodRuntime

/// `POST /api/v1/namespaces/NS/pods/NAME/eviction`: a policy/v1 (or v1beta1) Eviction, what
/// `kubectl drain` sends. The pod is deleted, as its `deleteOptions` ask, unless the
/// PodDisruptionBudget covering it allows no disruption now (429, which kubectl drain
/// retries) (EvictionPolicy). A granted eviction is recorded in the budget (disruptedPods)
/// and marks the pod `DisruptionTarget` before it is deleted, as the API server does.
struct EvictionRoute {
    let registry: PodRegistry
    let objects: ObjectRegistry
    let disruption: DisruptionController

    static let versions = ["policy/v1", "policy/v1beta1"]

    func respond(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        let body = try PodAPIHandler.body(r)
        guard body.objectValue != nil else { throw .badRequest("Object is not an Eviction: expected a JSON object") }
        let kind = body["kind"]?.stringValue ?? ""
        let apiVersion = body["apiVersion"]?.stringValue ?? ""
        guard kind == "Eviction" else {
            throw .badRequest(kind.isEmpty ? "Object 'Kind' is missing in the Eviction" : "the kind in the data (\(kind)) does not match the expected kind (Eviction)")
        }
        guard Self.versions.contains(apiVersion) else {
            throw .badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (policy/v1)")
        }
        if let unknown = body.objectValue?.keys.first(where: { !["kind", "apiVersion", "metadata", "deleteOptions"].contains($0) }) {
            throw .badRequest("strict decoding error: unknown field \"\(unknown)\"")
        }
        guard (body["metadata"]?["name"]?.stringValue ?? "") == key.name else {
            throw .badRequest("name in URL does not match name in Eviction object")
        }
        if let given = body["metadata"]?["namespace"]?.stringValue, !given.isEmpty, given != key.namespace {
            throw .badRequest("the namespace of the provided object (\(given)) does not match the namespace sent on the request (\(key.namespace))")
        }
        var options = try DeleteOptions(r, options: body["deleteOptions"])
        guard let pod = await registry.get(key) else { throw .notFound(key.name) }

        let view = DisruptionBudgets.PodView(pod)
        var budgets: [PodDisruptionBudget] = []
        for var budget in await objects.list(PodDisruptionBudget.self, namespace: key.namespace)
        where DisruptionBudgets.covers(budget, labels: pod.metadata.labels) {
            budget.status = await disruption.freshStatus(budget)
            budgets.append(budget)
        }
        switch EvictionPolicy.verdict(pod: view, budgets: budgets) {
        case .delete:
            break
        case .deleteUnchanged:
            if options.preconditions.resourceVersion == nil { options.preconditions.resourceVersion = pod.metadata.resourceVersion }
        case let .spend(name):
            if !options.dryRun { try await spend(name, namespace: key.namespace, pod: key.name) }
        case let .refuse(refusal):
            throw StatusError(code: refusal.code, reason: refusal.reason, message: refusal.message,
                              causes: refusal.causes.map { StatusCause(reason: $0.type, message: $0.message, field: nil) },
                              retryAfter: refusal.retryAfterSeconds)
        }
        if !options.dryRun, !view.terminating, !pod.status.phase.isTerminal { await markDisruptionTarget(key, pod) }
        let grace = options.gracePeriod.map(DeleteValidation.gracePeriod)
        do {
            _ = try await registry.delete(key, gracePeriod: grace, preconditions: options.preconditions, dryRun: options.dryRun)
        } catch {
            throw StatusError(error)
        }
        return PodAPIHandler.json(201, .object(JSONObject([
            ("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Success"), ("code", 201),
        ])))
    }

    /// Takes one disruption of the budget: the pod is recorded as disrupted, so it no longer
    /// counts healthy while it goes (the controller's next pass recomputes the rest).
    private func spend(_ name: String, namespace: String, pod: String) async throws(StatusError) {
        do throws(ObjectUpdateError<StatusError>) {
            _ = try await objects.update(PodDisruptionBudget.self, namespace: namespace, name: name, status: true) {
                (current: PodDisruptionBudget) throws(StatusError) -> PodDisruptionBudget in
                var budget = current
                budget.status.disruptedPods[pod] = RuntimeClock.now()
                budget.status.disruptionsAllowed = max(budget.status.disruptionsAllowed - 1, 0)
                return budget
            }
        } catch {
            switch error {
            case let .change(failure): throw failure
            case let .runtime(failure): throw StatusError(failure)
            }
        }
    }

    /// DisruptionTarget True (EvictionByEvictionAPI) among the pod's conditions; a pod that
    /// cannot take it (gone meanwhile, a full disk) is deleted all the same.
    private func markDisruptionTarget(_ key: PodRegistry.Key, _ pod: Pod) async {
        var condition = EvictionPolicy.disruptionTarget
        condition.lastTransitionTime = RuntimeClock.now()
        var conditions = pod.status.conditions.filter { !PodConditionOwners.kubelet.contains($0.type) && $0.type != condition.type }
        conditions.append(condition)
        _ = try? await registry.updateConditions(key, conditions, resourceVersion: nil)
    }
}
