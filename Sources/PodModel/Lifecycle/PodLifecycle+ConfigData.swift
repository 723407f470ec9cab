/// Containers that wait for a ConfigMap or Secret (kubelet's CreateContainerConfigError).
extension PodLifecycle {
    /// The reason of a container that cannot start because what its env or volumes refer to
    /// is missing, as kubelet gives it.
    public static let configErrorReason = "CreateContainerConfigError"

    /// Containers waiting with CreateContainerConfigError become due at once (the object
    /// they need may now exist); `advance` then starts those whose turn it is. Any other
    /// backoff keeps its schedule.
    mutating func retryConfigWaits() {
        for i in containers.indices {
            guard case let .backoff(_, reason, message) = containers[i].state, reason == Self.configErrorReason else { continue }
            containers[i].state = .backoff(until: now, reason: reason, message: message)
        }
    }

    /// Undoes the count `start` made of a run that never began.
    mutating func forgetStart(_ i: Int) {
        containers[i].starts -= 1
        if containers[i].starts > 0 { containers[i].restartCount -= 1 }
    }
}
