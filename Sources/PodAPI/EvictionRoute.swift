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
        let options = try DeleteOptions(r, options: body["deleteOptions"])
        // A pod read, decided on, then changed before its deletion is decided on again, as
        // the API server retries (EvictionsRetry: at most 20 times); not when the client
        // named the version it meant.
        for attempt in 1...Self.attempts {
            guard let pod = await registry.get(key) else { throw .notFound(key.name) }
            do {
                try await evict(pod, key: key, options: options)
                break
            } catch let retry as Retry {
                guard attempt < Self.attempts, retry.budget || options.preconditions.resourceVersion == nil else {
                    throw StatusError(retry.conflict)
                }
                try? await Task.sleep(for: .milliseconds(retry.budget ? 5 : 50))
            } catch let failure as StatusError {
                throw failure
            } catch {
                throw .internalError("\(error)")
            }
        }
        return PodAPIHandler.json(201, .object(JSONObject([
            ("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())), ("status", "Success"), ("code", 201),
        ])))
    }

    static let attempts = 20

    /// Decide again: a pending pod changed between its read and its deletion, or (`budget`)
    /// the budget changed between its read and the spending of a disruption (another
    /// eviction spent one, or the controller wrote its status).
    struct Retry: Error {
        let conflict: RuntimeError
        var budget = false
    }

    /// Decides on `pod` as read, and deletes it when the verdict lets it go.
    private func evict(_ pod: Pod, key: PodRegistry.Key, options requested: DeleteOptions) async throws {
        var options = requested
        let view = DisruptionBudgets.PodView(pod)
        var budgets: [PodDisruptionBudget] = []
        for var budget in await objects.list(PodDisruptionBudget.self, namespace: key.namespace)
        where DisruptionBudgets.covers(budget, labels: pod.metadata.labels) {
            budget.status = await disruption.freshStatus(budget)
            budgets.append(budget)
        }
        var guarding: String?
        switch EvictionPolicy.verdict(pod: view, budgets: budgets) {
        case .delete:
            break
        case let .deleteUnchanged(budget):
            if options.preconditions.resourceVersion == nil {
                options.preconditions.resourceVersion = pod.metadata.resourceVersion
                guarding = budget ?? ""
            }
        case let .spend(name):
            let version = budgets.first { $0.metadata.name == name }?.metadata.resourceVersion
            if !options.dryRun { try await spend(name, at: version, namespace: key.namespace, pod: key.name) }
        case let .refuse(refusal):
            throw StatusError(refusal)
        }
        if !options.dryRun, !view.terminating, !pod.status.phase.isTerminal {
            try await markDisruptionTarget(key, pod, options: &options, guarding: guarding)
        }
        let grace = options.gracePeriod.map(DeleteValidation.gracePeriod)
        do {
            _ = try await registry.delete(key, gracePeriod: grace, preconditions: options.preconditions, dryRun: options.dryRun)
        } catch {
            throw Self.changed(error, guarding: guarding)
        }
    }

    /// A refusal of the delete (or of marking the pod) as the eviction answers it: when the
    /// version podd added no longer holds, a pending pod is decided on again (`Retry`) and an
    /// unready one, which may have become ready, must ask its budget again (429).
    static func changed(_ error: RuntimeError, guarding: String?) -> any Error {
        guard case .conflict = error, let guarding else { return StatusError(error) }
        if guarding.isEmpty { return Retry(conflict: error) }
        return StatusError(EvictionPolicy.tooManyRequests(cause: "The disruption budget \(guarding) is still being processed by the server.",
                                                          retryAfter: 10))
    }

    /// Takes one disruption of the budget as it was read (`version`): the pod is recorded as
    /// disrupted, so it no longer counts healthy while it goes (the controller's next pass
    /// recomputes the rest). A budget changed since is decided on again (`Retry`): two
    /// evictions at once cannot both spend its last disruption.
    private func spend(_ name: String, at version: String?, namespace: String, pod: String) async throws {
        do throws(ObjectUpdateError<Never>) {
            _ = try await objects.update(PodDisruptionBudget.self, namespace: namespace, name: name, status: true) { current in
                var budget = current
                budget.metadata.resourceVersion = version
                budget.status.disruptedPods[pod] = RuntimeClock.now()
                budget.status.disruptionsAllowed = max(budget.status.disruptionsAllowed - 1, 0)
                return budget
            }
        } catch {
            guard case let .runtime(failure) = error else { return }
            if case .conflict = failure { throw Retry(conflict: failure, budget: true) }
            throw StatusError(failure)
        }
    }

    /// DisruptionTarget True (EvictionByEvictionAPI) among the pod's conditions, under the
    /// eviction's preconditions; a resourceVersion precondition then names the pod as marked,
    /// as the API server bumps it. A pod that cannot take the condition for another reason (a
    /// full disk) is deleted all the same.
    private func markDisruptionTarget(_ key: PodRegistry.Key, _ pod: Pod, options: inout DeleteOptions, guarding: String?) async throws {
        do {
            try options.preconditions.check(resource: "pods", name: key.name, uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion)
            let marked = try await registry.markDisrupted(key, EvictionPolicy.disruptionTarget, resourceVersion: options.preconditions.resourceVersion)
            if options.preconditions.resourceVersion != nil { options.preconditions.resourceVersion = marked.metadata.resourceVersion }
        } catch {
            switch error {
            case .conflict, .notFound: throw Self.changed(error, guarding: guarding)
            default: return
            }
        }
    }
}

extension StatusError {
    /// An eviction's refusal as the API answers it; a cause's type is its `reason`, as in
    /// metav1.StatusCause.
    init(_ refusal: EvictionPolicy.Refusal) {
        self.init(code: refusal.code, reason: refusal.reason, message: refusal.message,
                  causes: refusal.causes.map { StatusCause(reason: $0.type, message: $0.message, field: nil) },
                  retryAfter: refusal.retryAfterSeconds)
    }
}
