/// Eviction for local storage, as kubelet's eviction manager does it (localStorageEviction in
/// pkg/kubelet/eviction/eviction_manager.go): a pod past an emptyDir's sizeLimit, its
/// containers' total ephemeral-storage limit or one container's limit is stopped with a grace
/// period of 1 s (kubelet's immediateEvictionGracePeriodSeconds, whatever the pod's own),
/// becomes Failed with reason Evicted and kubelet's message, and nothing of it restarts,
/// whatever its restartPolicy. It stays, Failed, until it is deleted.
///
/// A pod past its activeDeadlineSeconds ends the same way (kubelet's pastActiveDeadline),
/// with reason DeadlineExceeded, kubelet's message, and the pod's own grace period.
extension PodLifecycle {
    /// The pod's eviction: its status reason (Evicted, DeadlineExceeded) and message, and
    /// when whatever still runs is killed.
    public struct Eviction: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var deadline: Timestamp

        public init(reason: String = PodLifecycle.evictedReason, message: String, deadline: Timestamp) {
            self.reason = reason
            self.message = message
            self.deadline = deadline
        }
    }

    /// The status reason of an evicted pod, and the reason of its Warning event.
    public static let evictedReason = "Evicted"
    /// The status reason and message of a pod past its activeDeadlineSeconds, as kubelet's.
    public static let deadlineExceededReason = "DeadlineExceeded"
    public static let deadlineExceededMessage = "Pod was active on the node longer than the specified deadline"
    /// The reasons of a pod ended for good this way (a re-adopted pod with one stays ended).
    public static let endingReasons: Set<String> = [evictedReason, deadlineExceededReason]
    /// kubelet's grace period for evictions on local storage (immediateEvictionGracePeriodSeconds).
    public static let evictionGracePeriod = 1.0

    /// kubelet evicts only active pods: a pod that has finished or is being deleted is left
    /// as it is. Every container that runs (ephemeral ones too) is stopped with the eviction's
    /// grace period (its preStop hook within it); one whose start is under way is stopped once
    /// it is reported started; no backoff or pod restart goes on.
    mutating func evict(message: String) -> [Action] {
        end(reason: Self.evictedReason, message: message, grace: Self.evictionGracePeriod)
    }

    /// The pod has been active longer than its activeDeadlineSeconds allow (`activeDeadline`).
    mutating func exceedActiveDeadline() -> [Action] {
        end(reason: Self.deadlineExceededReason, message: Self.deadlineExceededMessage, grace: gracePeriod)
    }

    /// Whether the pod is active: admitted, and not finished, stopped or being deleted.
    var isActive: Bool {
        switch stage {
        case .created, .terminating, .stopped, .finished: return false
        default: return true
        }
    }

    private mutating func end(reason: String, message: String, grace: Double) -> [Action] {
        switch stage {
        case .terminating, .stopped, .finished: return []
        default: break
        }
        let deadline = now.adding(seconds: grace)
        eviction = Eviction(reason: reason, message: message, deadline: deadline)
        stage = .finished
        podRunStartedAt = nil
        sandboxRetryAt = nil
        var actions: [Action] = [.event(type: "Warning", reason: reason, message: message, container: nil)]
        for i in containers.indices {
            if case let .backoff(_, reason, waitMessage) = containers[i].state {
                containers[i].state = .waiting(reason: reason, message: waitMessage)
            }
            actions += beginStop(i, cause: .pod, deadline: deadline)
        }
        return actions
    }

    /// A re-adopted pod that had been evicted: it stays evicted, and whatever of it still runs
    /// (podd stopped within the eviction's grace period) is killed now.
    mutating func resumeEviction(reason: String, message: String) -> [Action] {
        eviction = Eviction(reason: reason, message: message, deadline: now)
        stage = .finished
        var actions: [Action] = []
        for i in containers.indices where containers[i].isRunning {
            actions += beginStop(i, cause: .pod, deadline: now)
        }
        return actions
    }
}
