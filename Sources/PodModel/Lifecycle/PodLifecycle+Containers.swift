/// One container's transitions: a run starts, its hooks and probes report, it is stopped
/// (preStop, SIGTERM, SIGKILL at one deadline) and it ends. What an end means for the pod (a
/// restart of the container or of the pod, the pod's end) is in PodLifecycle+Pod.swift.
extension PodLifecycle {
    /// Starts a container's next run (its previous termination becomes lastState).
    mutating func start(_ i: Int) -> [Action] {
        if case let .terminated(t) = containers[i].state { containers[i].lastTermination = t }
        containers[i].shownWhileStarting = switch containers[i].state {
        case let .waiting(reason, message), let .backoff(_, reason, message):
            Self.showsWait(reason: reason, message: message) ? Container.Waiting(reason: reason, message: message) : nil
        default: nil
        }
        if containers[i].starts > 0 { containers[i].restartCount += 1 }
        containers[i].starts += 1
        containers[i].state = .starting
        containers[i].probeStreaks = [:]
        containers[i].preStopRan = false
        return [.start(containers[i].spec.name)]
    }

    /// Whether a start after a wait with this reason goes on showing it: not a first start
    /// (PodInitializing, ContainerCreating), nor the restart at once of a container's first
    /// exit (CrashLoopBackOff without a back-off message), for which kubelet has no wait.
    static func showsWait(reason: String, message: String?) -> Bool {
        switch reason {
        case "PodInitializing", "ContainerCreating": return false
        case "CrashLoopBackOff": return message != nil
        default: return true
        }
    }

    /// A container started while the pod is being stopped is stopped too; an ephemeral one
    /// is left alone by a pod restart (debugging a crash-looping pod), as by the pod's end.
    func stopsAtStart(_ i: Int) -> Bool {
        switch stage {
        case .terminating, .stopped: return true
        case .stoppingForRestart, .finished: return eviction != nil || containers[i].spec.role != .ephemeral
        default: return false
        }
    }

    /// The deadline of a stop the pod makes now: its deletion's, its restart's, or a grace
    /// period from now.
    var podStopDeadline: Timestamp {
        switch stage {
        case let .terminating(deadline), let .stoppingForRestart(deadline, _, _): return deadline
        case .finished where eviction != nil: return eviction?.deadline ?? now
        default: return now.adding(seconds: gracePeriod)
        }
    }

    mutating func containerStarted(_ i: Int, containerID: String) -> [Action] {
        guard case .starting = containers[i].state else { return [] }
        let name = containers[i].spec.name
        containers[i].containerID = containerID
        var actions: [Action] = [.event(type: "Normal", reason: "Started", message: "Started container \(name)", container: name)]
        if stopsAtStart(i) {
            containers[i].state = .running(since: now, started: false, ready: false)
            actions += beginStop(i, cause: .pod, deadline: podStopDeadline)
        } else if containers[i].spec.hasPostStart {
            // Running only once its postStart hook has finished.
            containers[i].state = .postStart(since: now)
            actions.append(.runPostStart(name))
        } else {
            actions += enterRunning(i, since: now)
        }
        return actions
    }

    /// The process runs and any postStart hook is done: Running. `started` and `ready` wait
    /// for the startup and readiness probes when the container has them.
    mutating func enterRunning(_ i: Int, since: Timestamp) -> [Action] {
        let spec = containers[i].spec
        let started = spec.startupProbe == nil
        containers[i].state = .running(since: since, started: started, ready: started && spec.readinessProbe == nil)
        containers[i].probeStreaks = [:]
        if spec.role == .sidecar && started { initDone.insert(spec.name) }
        guard spec.hasProbes else { return [] }
        return [.probes(spec.name, started ? spec.steadyProbes : [.startup])]
    }

    mutating func postStartDone(_ i: Int, ok: Bool, message: String) -> [Action] {
        guard case let .postStart(since) = containers[i].state else { return [] }
        let name = containers[i].spec.name
        if ok { return enterRunning(i, since: since) }
        return [.event(type: "Warning", reason: "FailedPostStartHook", message: "PostStartHook failed: \(message)", container: name)]
            + beginStop(i, cause: .postStartHookFailed, deadline: now.adding(seconds: gracePeriod))
    }

    mutating func preStopDone(_ i: Int, ok: Bool, message: String) -> [Action] {
        guard case var .stopping(stop) = containers[i].state, stop.phase == .preStop else { return [] }
        let name = containers[i].spec.name
        var actions: [Action] = []
        if !ok {
            actions.append(.event(type: "Warning", reason: "FailedPreStopHook", message: "PreStopHook failed: \(message)", container: name))
        }
        stop.phase = .term
        containers[i].state = .stopping(stop)
        return actions + [.terminate(name)]
    }

    /// Counts one probe result, and acts once a threshold is reached: startup passed
    /// (liveness and readiness begin), readiness changed, or liveness or startup failed (the
    /// run is stopped; its exit goes through the restart policy).
    mutating func probeResult(_ i: Int, kind: ProbeKind, ok: Bool, message: String) -> [Action] {
        guard case let .running(since, started, ready) = containers[i].state,
              let thresholds = containers[i].spec.thresholds(kind),
              (kind == .startup) != started else { return [] }
        let name = containers[i].spec.name
        var actions: [Action] = []
        let streak = containers[i].probeStreaks[kind] ?? 0
        let next = ok ? Swift.max(streak, 0) + 1 : Swift.min(streak, 0) - 1
        containers[i].probeStreaks[kind] = next
        if !ok {
            actions.append(.event(type: "Warning", reason: "Unhealthy", message: "\(kind.rawValue) probe failed: \(message)", container: name))
        }
        let passed = next >= thresholds.success
        let failed = -next >= thresholds.failure
        switch kind {
        case .startup:
            if passed {
                let spec = containers[i].spec
                containers[i].state = .running(since: since, started: true, ready: spec.readinessProbe == nil)
                if spec.role == .sidecar { initDone.insert(name) }
                actions.append(.probes(name, spec.steadyProbes))
            } else if failed {
                actions += beginStop(i, cause: .startupFailed, deadline: now.adding(seconds: thresholds.gracePeriod.map(Double.init) ?? gracePeriod))
            }
        case .liveness:
            if failed {
                actions += beginStop(i, cause: .livenessFailed, deadline: now.adding(seconds: thresholds.gracePeriod.map(Double.init) ?? gracePeriod))
            }
        case .readiness:
            if passed && !ready {
                containers[i].state = .running(since: since, started: started, ready: true)
            } else if failed && ready {
                containers[i].state = .running(since: since, started: started, ready: false)
            }
        }
        return actions
    }

    /// Stops a container's run: its preStop hook first when it has one, then SIGTERM, and
    /// SIGKILL at `deadline` (at once when that has passed). A run already being stopped only
    /// has its deadline moved earlier. A run not yet reported started is stopped when it is
    /// (`stopsAtStart`).
    mutating func beginStop(_ i: Int, cause: Stop.Cause, deadline: Timestamp) -> [Action] {
        let spec = containers[i].spec
        var actions: [Action] = []
        let since: Timestamp, started: Bool, ready: Bool
        switch containers[i].state {
        case let .postStart(s):
            (since, started, ready) = (s, false, false)
        case let .running(s, st, r):
            (since, started, ready) = (s, st, r)
            if spec.hasProbes { actions.append(.probes(spec.name, [])) }
        case var .stopping(stop):
            if deadline < stop.deadline {
                stop.deadline = deadline
                containers[i].state = .stopping(stop)
            }
            return expireStop(i)
        default:
            return []
        }
        switch cause {
        // An ephemeral container is not started again with the new spec: its stop is told plainly.
        case .pod where stopsForNewSpec && spec.role != .ephemeral:
            actions.append(.event(type: "Normal", reason: "Killing",
                                  message: "Container \(spec.name) definition changed, will be restarted", container: spec.name))
        case .pod, .postStartHookFailed:
            actions.append(.event(type: "Normal", reason: "Killing", message: "Stopping container \(spec.name)", container: spec.name))
        case .livenessFailed, .startupFailed:
            actions.append(.event(type: "Normal", reason: "Killing",
                                  message: "Container \(spec.name) failed \(cause.rawValue) probe, will be restarted", container: spec.name))
        }
        // A podd-initiated stop of a failed run leaves it unready; the pod's stops keep
        // what it was until it exits.
        var stop = Stop(phase: .term, deadline: deadline, cause: cause, since: since, started: started,
                        ready: cause == .pod ? ready : false)
        if now >= deadline {
            stop.phase = .kill
            containers[i].state = .stopping(stop)
            return actions + [.kill(spec.name)]
        }
        if spec.hasPreStop && !containers[i].preStopRan {
            containers[i].preStopRan = true
            stop.phase = .preStop
            containers[i].state = .stopping(stop)
            return actions + [.runPreStop(spec.name)]
        }
        containers[i].state = .stopping(stop)
        return actions + [.terminate(spec.name)]
    }

    /// SIGKILL for a stop whose deadline has passed (whatever its phase).
    mutating func expireStop(_ i: Int) -> [Action] {
        guard case var .stopping(stop) = containers[i].state, stop.phase != .kill, now >= stop.deadline else { return [] }
        stop.phase = .kill
        containers[i].state = .stopping(stop)
        return [.kill(containers[i].spec.name)]
    }

    mutating func startFailed(_ i: Int, reason: String, message: String, terminated: Bool) -> [Action] {
        guard case .starting = containers[i].state else { return [] }
        let name = containers[i].spec.name
        var actions: [Action] = [.event(type: "Warning", reason: "Failed", message: message, container: name)]
        if terminated {
            let t = Termination(exitCode: 128, signal: 0, reason: reason, message: message, startedAt: nil,
                                finishedAt: now, containerID: nil)
            actions += runEnded(i, t, expected: false)
        } else {
            // A start refused before any container existed (its image, its config, its
            // security profile) is no run: kubelet does not count it in restartCount.
            forgetStart(i)
            let delay = containers[i].backoff.next(ranFor: 0)
            containers[i].state = .backoff(until: now.adding(seconds: Swift.max(delay, backoffSettings.initial)),
                                           reason: reason, message: message)
        }
        return actions
    }

    mutating func exited(_ i: Int, exitCode: Int32, signal: Int32, startedAt: Timestamp?, finishedAt: Timestamp,
                         oomKilled: Bool = false, message: String? = nil) -> [Action] {
        guard containers[i].isRunning else { return [] }   // no run in progress: a stale report
        var cause: Stop.Cause?
        if case let .stopping(stop) = containers[i].state { cause = stop.cause }
        // A run podd ended itself because of a failed hook is reported with that reason, as
        // kubelet does; one the OOM killer ended is OOMKilled (as containerd reports it to
        // kubelet), whatever its code; otherwise the exit code decides.
        let reason = cause == .postStartHookFailed ? "PostStartHookError"
            : (oomKilled ? "OOMKilled" : (exitCode == 0 ? "Completed" : "Error"))
        let t = Termination(exitCode: exitCode, signal: signal, reason: reason, message: message,
                            startedAt: startedAt ?? containers[i].runningSince, finishedAt: finishedAt,
                            containerID: containers[i].containerID)
        var actions: [Action] = []
        if oomKilled {
            let name = containers[i].spec.name
            actions.append(.event(type: "Warning", reason: "OOMKilling",
                                  message: "Memory cgroup out of memory: killed process of container \(name) (exit code \(exitCode))",
                                  container: name))
        }
        return actions + runEnded(i, t, expected: cause == .pod)
    }

    /// The monitor is gone: each run it held has ended (as if killed), and goes through the
    /// restart policy; the pod needs a new sandbox if it runs on.
    mutating func sandboxLost() -> [Action] {
        guard stage != .created else { return [] }
        var actions: [Action] = [.event(type: "Normal", reason: "SandboxChanged",
                                        message: "Pod sandbox changed, it will be killed and re-created.", container: nil)]
        // Every run has ended before any restart is decided: a pod restart stops no container
        // that is already gone.
        var ended: [(Int, Termination)] = []
        for i in containers.indices where containers[i].isRunning {
            var cause: Stop.Cause?
            if case let .stopping(stop) = containers[i].state { cause = stop.cause }
            let t = Termination(exitCode: 137, signal: 9, reason: "Error", message: "the pod's monitor exited",
                                startedAt: containers[i].runningSince, finishedAt: now, containerID: containers[i].containerID)
            actions += runEnded(i, t, expected: true)
            if cause != .pod { ended.append((i, t)) }
        }
        for (i, t) in ended { actions += afterEnd(i, t) }
        switch stage {
        case .terminating, .stopped, .finished: break
        default: actions.append(.recreateSandbox)
        }
        return actions
    }

    /// A run ended: record it, then (unless the pod stopped it) decide what follows.
    mutating func runEnded(_ i: Int, _ t: Termination, expected: Bool) -> [Action] {
        var actions: [Action] = []
        if case .running = containers[i].state, containers[i].spec.hasProbes {
            actions.append(.probes(containers[i].spec.name, []))
        }
        containers[i].state = .terminated(t)
        containers[i].probeStreaks = [:]
        if expected { return actions }
        return actions + afterEnd(i, t)
    }
}
