/// Pulling a container's image, as kubelet shows it: the container waits in
/// ContainerCreating (state `.starting`) while its image is pulled; a failed pull leaves it
/// waiting with ErrImagePull, and the pulls after it with ImagePullBackOff, each retried
/// when the container's backoff (the restart schedule, at least its initial delay) is over.
extension PodLifecycle {
    mutating func imagePulled(_ i: Int) -> [Action] {
        guard case .starting = containers[i].state else { return [] }
        containers[i].imagePullFailures = 0
        return [.start(containers[i].spec.name)]
    }

    mutating func imagePullFailed(_ i: Int, image: String, message: String) -> [Action] {
        guard case .starting = containers[i].state else { return [] }
        let name = containers[i].spec.name
        // No container was made: not a run, and no restart (kubelet's restartCount stays).
        forgetStart(i)
        containers[i].imagePullFailures += 1
        let delay = Swift.max(containers[i].backoff.next(ranFor: 0), backoffSettings.initial)
        let until = now.adding(seconds: delay)
        var actions: [Action] = [.event(type: "Warning", reason: "Failed", message: "Failed to pull image \"\(image)\": \(message)", container: name),
                                 .event(type: "Warning", reason: "Failed", message: "Error: ErrImagePull", container: name)]
        if containers[i].imagePullFailures == 1 {
            containers[i].state = .backoff(until: until, reason: "ErrImagePull", message: message)
        } else {
            containers[i].state = .backoff(until: until, reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\": ErrImagePull: \(message)")
            actions.append(.event(type: "Normal", reason: "BackOff", message: "Back-off pulling image \"\(image)\"", container: name))
        }
        return actions
    }
}
