/// What Kubernetes' disruption controller computes of a PodDisruptionBudget, for podd's one
/// node: which pods a budget covers, how many are healthy, how many must be, and so whether an
/// eviction may proceed (`status`). Pure: the runtime's DisruptionController feeds it the pods.
///
/// podd's pods have no controller (ownerReferences are refused), so, as in Kubernetes for
/// unmanaged pods, only an integer `minAvailable` gives a budget that allows disruptions: a
/// percentage or `maxUnavailable` is scaled against the pods' controllers, of which there are
/// none, and allows none (`unmanagedWarning` says why, as the controller's event does).
public enum DisruptionBudgets {
    /// What a budget needs of a pod.
    public struct PodView: Sendable, Equatable {
        public var name: String
        public var labels: [String: String]
        public var phase: PodPhase
        public var ready: Bool
        public var terminating: Bool

        public init(name: String, labels: [String: String], phase: PodPhase, ready: Bool, terminating: Bool) {
            self.name = name
            self.labels = labels
            self.phase = phase
            self.ready = ready
            self.terminating = terminating
        }

        public init(_ pod: Pod) {
            self.init(name: pod.metadata.name, labels: pod.metadata.labels, phase: pod.status.phase,
                      ready: pod.status.conditions.contains { $0.type == "Ready" && $0.status == "True" },
                      terminating: pod.metadata.deletionTimestamp != nil)
        }
    }

    /// How long an eviction's grant keeps a pod from counting healthy if it is not deleted
    /// (the controller's DeletionTimeout).
    public static let deletionTimeout: Double = 120

    public static let disruptionAllowed = "DisruptionAllowed"

    /// "50%" as 50; nil when not an integer percentage (IsValidPercent: `^[0-9]+%$`).
    public static func percent(_ text: String) -> Int? {
        guard text.count >= 2, text.hasSuffix("%") else { return nil }
        let digits = text.dropLast()
        guard digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits) ?? Int.max
    }

    /// Whether `budget` covers a pod with `labels`: an empty or missing selector covers none.
    public static func covers(_ budget: PodDisruptionBudget, labels: [String: String]) -> Bool {
        guard let selector = budget.spec.selector, !(selector.matchLabels.isEmpty && selector.matchExpressions.isEmpty) else {
            return false
        }
        return selector.matches(labels)
    }

    /// The status the controller would write for `budget`, given all pods of its namespace.
    /// The condition keeps its transition time while its status stands.
    public static func status(of budget: PodDisruptionBudget, pods all: [PodView], now: Timestamp) -> PodDisruptionBudget.Status {
        let pods = all.filter { covers(budget, labels: $0.labels) }
        var status = PodDisruptionBudget.Status()
        status.observedGeneration = budget.metadata.generation
        // Pods with a controller would be scaled by it; podd's have none: expected 0.
        let expected: Int32
        let desired: Int32
        if budget.spec.maxUnavailable == nil, case .int(let number)? = budget.spec.minAvailable {
            expected = Int32(pods.count)
            desired = number
        } else {
            // A percentage or maxUnavailable is scaled by the pods' controllers: none here.
            (expected, desired) = (0, 0)
        }
        // Grants that still hold: the pod is there, not yet being deleted, and the grant is
        // less than two minutes old.
        for pod in pods where !pod.terminating {
            if let granted = budget.status.disruptedPods[pod.name], granted.adding(seconds: deletionTimeout) > now {
                status.disruptedPods[pod.name] = granted
            }
        }
        let healthy = Int32(pods.filter { !$0.terminating && status.disruptedPods[$0.name] == nil && $0.ready }.count)
        status.currentHealthy = healthy
        status.desiredHealthy = desired
        status.expectedPods = expected
        status.disruptionsAllowed = expected > 0 ? max(healthy - desired, 0) : 0
        let allowed = status.disruptionsAllowed > 0
        let previous = budget.status.conditions.first { $0.type == disruptionAllowed }
        let conditionStatus = allowed ? "True" : "False"
        let reason = allowed ? "SufficientPods" : "InsufficientPods"
        let since = previous.flatMap { $0.status == conditionStatus ? $0.lastTransitionTime : nil } ?? now
        status.conditions = [.init(type: disruptionAllowed, status: conditionStatus, observedGeneration: status.observedGeneration,
                                   lastTransitionTime: since, reason: reason)]
        return status
    }

    /// The controller's warning when a budget's arithmetic needs the pods' controllers and the
    /// pods it covers have none (its UnmanagedPods event); nil when none is due.
    public static func unmanagedWarning(_ budget: PodDisruptionBudget, pods: [PodView]) -> String? {
        let scaled: Bool
        switch (budget.spec.minAvailable, budget.spec.maxUnavailable) {
        case (_, .some): scaled = true
        case (.some(.string), _): scaled = true
        default: scaled = false
        }
        guard scaled, pods.contains(where: { covers(budget, labels: $0.labels) }) else { return nil }
        return "Pods selected by this PodDisruptionBudget (selector: \(selectorText(budget.spec.selector))) were found to be unmanaged. "
            + "As a result, the status of the PDB cannot be calculated correctly, which may result in undefined behavior. "
            + "To account for these pods please set \".spec.minAvailable\" field of the PDB to an integer value."
    }

    /// The selector as `kubectl describe` prints one (metav1.FormatLabelSelector:
    /// `app=web,tier in (a,b)`, the requirements sorted by key, a set's values sorted).
    public static func selectorText(_ selector: LabelSelectorSpec?) -> String {
        guard let selector else { return "<none>" }
        var parts = selector.matchLabels.map { (key: $0.key, text: "\($0.key)=\($0.value)") }
        for r in selector.matchExpressions {
            let values = r.values.sorted().joined(separator: ",")
            switch r.operator {
            case "In": parts.append((r.key, "\(r.key) in (\(values))"))
            case "NotIn": parts.append((r.key, "\(r.key) notin (\(values))"))
            case "Exists": parts.append((r.key, r.key))
            default: parts.append((r.key, "!\(r.key)"))
            }
        }
        return parts.isEmpty ? "<none>" : parts.sorted { $0.key < $1.key }.map(\.text).joined(separator: ",")
    }
}
