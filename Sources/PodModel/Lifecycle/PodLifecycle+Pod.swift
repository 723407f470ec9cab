/// The pod's stages: the init sequence, the app containers, restarts (of a container or of
/// the pod, after backoff), the pod's end, and its termination.
extension PodLifecycle {
    /// A run the pod did not stop itself has ended: the restart policy and scope decide what
    /// follows. Nothing restarts while the pod stops, restarts or has finished.
    mutating func afterEnd(_ i: Int, _ t: Termination) -> [Action] {
        switch stage {
        case .terminating, .stopped, .stoppingForRestart, .finished: return []
        default: break
        }
        var actions: [Action] = []
        let name = containers[i].spec.name
        let ranFor = t.startedAt.map { t.finishedAt.seconds(since: $0) } ?? 0
        switch containers[i].spec.role {
        case .ephemeral:
            break
        case .sidecar:
            // Sidecars restart whatever the policy, on their own backoff.
            actions += scheduleContainerRestart(i, ranFor: ranFor)
        case .initContainer:
            if t.exitCode == 0 {
                initDone.insert(name)
                actions.append(.event(type: "Normal", reason: "Completed", message: "Container \(name) completed", container: name))
            } else if policy == .never {
                stage = .finished
                actions.append(.event(type: "Warning", reason: "Failed", message: "Init container \(name) failed with exit code \(t.exitCode); restartPolicy is Never", container: name))
            } else if scope == .container {
                actions += scheduleContainerRestart(i, ranFor: ranFor)
            } else {
                actions += beginPodRestart(failed: i, ranFor: ranFor)
            }
        case .app:
            let restart = policy == .always || (policy == .onFailure && t.exitCode != 0)
            if t.exitCode != 0 {
                actions.append(.event(type: "Warning", reason: "Failed", message: "Container \(name) exited with code \(t.exitCode)", container: name))
            }
            if restart {
                if scope == .container {
                    actions += scheduleContainerRestart(i, ranFor: ranFor)
                } else {
                    let podRan = podRunStartedAt.map { t.finishedAt.seconds(since: $0) } ?? ranFor
                    actions += beginPodRestart(failed: i, ranFor: podRan)
                }
            } else if apps.allSatisfy({ !containers[$0].isRunning && !isBackingOff($0) }) {
                stage = .finished
            }
        }
        return actions
    }

    func isBackingOff(_ i: Int) -> Bool {
        if case .backoff = containers[i].state { return true }
        return false
    }

    /// Container scope and sidecars: the container starts again after its own backoff (at
    /// once the first time).
    mutating func scheduleContainerRestart(_ i: Int, ranFor: Double) -> [Action] {
        let delay = containers[i].backoff.next(ranFor: ranFor)
        if case let .terminated(t) = containers[i].state { containers[i].lastTermination = t }
        let name = containers[i].spec.name
        if delay > 0 {
            containers[i].state = .backoff(until: now.adding(seconds: delay), reason: "CrashLoopBackOff",
                                           message: backoffMessage(delay, name))
            return [.event(type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(name) in pod \(podRef)", container: name)]
        }
        containers[i].state = .backoff(until: now, reason: "CrashLoopBackOff", message: nil)
        return []
    }

    func backoffMessage(_ delay: Double, _ name: String) -> String {
        "back-off \(goDuration(delay.rounded())) restarting failed container=\(name) pod=\(podRef)"
    }

    /// Pod scope: stop everything (ephemeral containers aside), then (after the backoff) run
    /// the init containers again.
    mutating func beginPodRestart(failed i: Int, ranFor: Double) -> [Action] {
        let delay = podBackoff.next(ranFor: ranFor)
        let failedName = containers[i].spec.name
        let deadline = now.adding(seconds: gracePeriod)
        stage = .stoppingForRestart(deadline: deadline, delay: delay, cause: failedName)
        podRunStartedAt = nil
        var actions: [Action] = [.event(type: "Normal", reason: "Killing", message: "Container \(failedName) ended: restarting pod \(podName)", container: nil)]
        for j in containers.indices where containers[j].spec.role != .ephemeral {
            if case let .backoff(_, reason, message) = containers[j].state {
                containers[j].state = .waiting(reason: reason, message: message)
            }
            actions += beginStop(j, cause: .pod, deadline: deadline)
        }
        return actions
    }

    /// Pod deletion. A second delete can only bring the deadline forward.
    mutating func beginTermination(deadline: Timestamp) -> [Action] {
        switch stage {
        case .stopped:
            return []
        case let .terminating(current):
            guard deadline < current else { return [] }
            stage = .terminating(deadline: deadline)
            var actions: [Action] = []
            for i in containers.indices { actions += beginStop(i, cause: .pod, deadline: deadline) }
            return actions
        default:
            stage = .terminating(deadline: deadline)
            for i in containers.indices {
                if case let .backoff(_, reason, message) = containers[i].state {
                    containers[i].state = .waiting(reason: reason, message: message)
                }
            }
            // A replaced spec is told container by container (beginStop), as kubelet does.
            if stopsForNewSpec { return [] }
            return [.event(type: "Normal", reason: "Killing", message: "Stopping pod \(podName)", container: nil)]
        }
    }

    // MARK: - Progress

    /// Moves the pod forward as far as it can go now: kills past their deadline, starts that
    /// are due, the next step of a stop.
    mutating func advance() -> [Action] {
        var actions: [Action] = []
        for i in containers.indices { actions += expireStop(i) }
        if let at = sandboxRetryAt, now >= at {
            sandboxRetryAt = nil
            if !isTerminating { actions.append(.recreateSandbox) }
        }
        switch stage {
        case .created, .stopped:
            break
        case .terminating:
            actions += advanceTermination()
        case let .stoppingForRestart(_, delay, cause):
            guard !containers.contains(where: { $0.spec.role != .ephemeral && $0.isRunning }) else { break }
            stage = .restartingAt(now.adding(seconds: delay))
            if let i = index(cause), delay > 0 {
                if case let .terminated(t) = containers[i].state { containers[i].lastTermination = t }
                containers[i].state = .waiting(reason: "CrashLoopBackOff", message: backoffMessage(delay, cause))
                actions.append(.event(type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(cause) in pod \(podRef)", container: cause))
            }
            for j in apps where containers[j].spec.name != cause {
                if case let .terminated(t) = containers[j].state {
                    containers[j].lastTermination = t
                    containers[j].state = .waiting(reason: "PodInitializing", message: nil)
                }
            }
            actions += advance()
        case let .restartingAt(at):
            if now >= at {
                stage = .initializing
                initDone = []
                actions += advance()
            }
        case .initializing:
            actions += advanceInit()
        case .running:
            actions += restartDue()
        case .finished:
            actions += stopNextSidecar(deadline: now.adding(seconds: gracePeriod))
        }
        return actions
    }

    mutating func advanceInit() -> [Action] {
        for i in inits {
            let c = containers[i]
            if initDone.contains(c.spec.name) { continue }
            if c.isRunning { return restartDue() }   // wait for it to finish, or to start
            if case let .backoff(until, _, _) = c.state, now < until { return restartDue() }
            return start(i)
        }
        // Every init container is done: start the app containers together.
        stage = .running
        podRunStartedAt = now
        var actions: [Action] = []
        for i in apps { actions += start(i) }
        return actions + restartDue()
    }

    /// Starts containers whose own backoff (container scope, sidecars, retried starts) is over.
    mutating func restartDue() -> [Action] {
        var actions: [Action] = []
        for i in containers.indices {
            if case let .backoff(until, _, _) = containers[i].state, now >= until { actions += start(i) }
        }
        return actions
    }

    /// Native sidecars stop after the app containers, in reverse order: the last one still
    /// running is stopped; the one before it once that one has exited.
    mutating func stopNextSidecar(deadline: Timestamp) -> [Action] {
        for i in sidecars.reversed() {
            if case let .backoff(_, reason, message) = containers[i].state {
                containers[i].state = .waiting(reason: reason, message: message)
            }
            guard containers[i].isRunning else { continue }
            if case .stopping = containers[i].state { return [] }
            return beginStop(i, cause: .pod, deadline: deadline)
        }
        return []
    }

    /// Deletion: app and ephemeral containers first, then sidecars in reverse order; once
    /// the deadline has passed, whatever still runs is killed.
    mutating func advanceTermination() -> [Action] {
        guard case let .terminating(deadline) = stage else { return [] }
        let running = containers.indices.filter { containers[$0].isRunning }
        if running.isEmpty {
            stage = .stopped
            return [.stopped]
        }
        var actions: [Action] = []
        let first = running.filter { containers[$0].spec.role != .sidecar }
        if now >= deadline {
            for i in running { actions += beginStop(i, cause: .pod, deadline: deadline) }
        } else if !first.isEmpty {
            for i in first { actions += beginStop(i, cause: .pod, deadline: deadline) }
        } else {
            actions += stopNextSidecar(deadline: deadline)
        }
        return actions
    }

    /// When the machine must be woken next: a stop's deadline, a backoff's end, the pod's
    /// restart.
    func nextDue() -> Timestamp? {
        var due: Timestamp?
        func consider(_ t: Timestamp) { due = due.map { Swift.min($0, t) } ?? t }
        if let at = sandboxRetryAt, !isTerminating { consider(at) }
        if let deadline = activeDeadline, isActive { consider(deadline) }
        let restarting: Bool
        switch stage {
        case .initializing, .running: restarting = true
        case let .restartingAt(at): consider(at); restarting = false
        default: restarting = false
        }
        for c in containers {
            switch c.state {
            case let .stopping(stop) where stop.phase != .kill: consider(stop.deadline)
            case let .backoff(until, _, _) where restarting: consider(until)
            default: break
            }
        }
        return due
    }
}
