/// Re-adoption: a new podd takes over a pod an earlier podd ran (it was restarted, upgraded or
/// killed) and whose monitor kept the containers running. Instead of starting the pod afresh,
/// the machine is seeded with what the earlier podd recorded (restart counts, last states) and
/// what the monitor says now (which containers still run, since when), and carries on from
/// there: running containers stay running, and a container that exited while podd was away is
/// then reported with `handle(.exited...)` and goes through the restart policy as usual.
extension PodLifecycle {
    /// One container as the earlier podd left it, corrected by the monitor.
    public struct RestoredContainer: Sendable, Equatable {
        public var name: String
        /// `.running` for a run the monitor still has (even if it has exited since: report
        /// that exit after `restore`; its `started` and `ready` are taken from the fields
        /// below), `.terminated` for a run the earlier podd saw end, `.waiting` for one not
        /// started in the current round.
        public var state: State
        public var lastTermination: Termination?
        public var restartCount: Int
        /// Whether it has been started at least once (a restartCount of 0 does not tell).
        public var everStarted: Bool
        public var containerID: String?
        /// As last recorded, for a running container (probes confirm them again). A container
        /// without a startup probe is started, and one without a readiness probe is ready once
        /// started, whatever was recorded (a run the earlier podd never saw start was recorded
        /// as neither).
        public var started: Bool
        public var ready: Bool
        /// The preStop hook of the running run has been run already (a stop of it resumes
        /// with SIGTERM, not with the hook again).
        public var preStopRan: Bool
        /// For a container waiting out its own backoff: when it was due to start again (due
        /// at once when not recorded).
        public var backoffUntil: Timestamp?

        public init(name: String, state: State, lastTermination: Termination? = nil, restartCount: Int = 0,
                    everStarted: Bool, containerID: String? = nil, started: Bool = true, ready: Bool = true,
                    preStopRan: Bool = false, backoffUntil: Timestamp? = nil) {
            self.name = name
            self.state = state
            self.lastTermination = lastTermination
            self.restartCount = restartCount
            self.everStarted = everStarted
            self.containerID = containerID
            self.started = started
            self.ready = ready
            self.preStopRan = preStopRan
            self.backoffUntil = backoffUntil
        }
    }

    /// Seeds a machine that has not been admitted (stage `.created`) and returns what to do
    /// now. Containers not listed stay as they are (waiting, never started); ephemeral
    /// containers the spec list lacks are added when listed.
    ///
    /// The stage follows from the containers, as it was when the earlier podd left:
    /// - `finished`: the pod was Succeeded or Failed; nothing restarts.
    /// - an app container running or ended in this round: `.running`, every init done;
    /// - an init container running or done: `.initializing`, the next one starts now;
    /// - nothing started in this round (a fresh pod, or one waiting out a pod restart's
    ///   backoff, whose remaining time is not recorded): the init sequence starts now.
    /// A container recorded as ended whose exit calls for a restart (the earlier podd was
    /// stopping the pod to restart it, or waiting to restart that container) is handled again
    /// here, so the restart happens; one whose exit calls for none stays ended.
    ///
    /// `strangers`: containers the monitor runs that the pod does not have (podd died while
    /// replacing the pod's spec): they are killed. `vanished`: containers restored as
    /// running that the monitor does not know: their runs ended (137, as killed) and go
    /// through the restart policy. `deletion`: the pod was being deleted (its
    /// deletionTimestamp): the termination resumes with the time that is left, before any
    /// restart is considered (a deadline that has passed kills at once). `podRestartAt`: the
    /// pod (pod scope) was waiting out its backoff to run its init sequence again at that
    /// time; when nothing of this round has started yet, it waits on until then.
    /// `evictedWith`: the pod had been evicted (or passed its active deadline), with this
    /// reason and message: it stays so (PodLifecycle+Eviction.swift).
    public mutating func restore(_ restored: [RestoredContainer], finished: Bool, strangers: [String] = [],
                                 vanished: [String] = [], deletion: Timestamp? = nil, podRestartAt: Timestamp? = nil,
                                 evictedWith: (reason: String, message: String)? = nil, at time: Timestamp) -> [Action] {
        guard stage == .created else { return [] }
        let now = max(self.now, time)   // handle(..., at: now) below moves the clock
        var reopened: [(Int, Termination)] = []
        for r in restored {
            var i = containers.firstIndex { $0.spec.name == r.name }
            if i == nil {
                // An ephemeral container of the pod, started through the API earlier.
                containers.append(Container(spec: ContainerSpec(name: r.name, role: .ephemeral),
                                            state: .waiting(reason: "ContainerCreating", message: nil),
                                            backoff: RestartBackoff(podBackoff.settings)))
                i = containers.count - 1
            }
            guard let i else { continue }
            containers[i].restartCount = r.restartCount
            containers[i].starts = r.everStarted ? r.restartCount + 1 : 0
            containers[i].lastTermination = r.lastTermination
            containers[i].containerID = r.containerID
            // The container's own backoff, as far as its restarts went (container scope,
            // sidecars); a long run resets it at the next exit anyway.
            for _ in 0..<min(r.restartCount, 10) { _ = containers[i].backoff.next(ranFor: 0) }
            let spec = containers[i].spec
            // kubelet's rule: no startup probe, started; no readiness probe, ready once started.
            let started = r.started || spec.startupProbe == nil
            let ready = started && (r.ready || spec.readinessProbe == nil)
            switch r.state {
            case let .running(since, _, _), let .postStart(since):
                containers[i].state = .running(since: since, started: started, ready: ready)
                containers[i].preStopRan = r.preStopRan
            case let .stopping(stop):
                containers[i].state = .running(since: stop.since, started: started, ready: ready)
                containers[i].preStopRan = r.preStopRan
            case .starting:
                // Asked for but never reported, and not running (the monitor would say): the
                // start did not happen, so it neither counts as a start nor as a restart.
                containers[i].state = .backoff(until: now, reason: "ContainerCreating", message: nil)
                containers[i].starts = r.restartCount
                containers[i].restartCount = Swift.max(r.restartCount - 1, 0)
            case let .terminated(t):
                containers[i].state = .terminated(t)
                if !finished && wantsRestart(containers[i].spec.role, exitCode: t.exitCode) {
                    reopened.append((i, t))
                }
            case let .waiting(reason, message), let .backoff(_, reason, message):
                containers[i].state = .waiting(reason: reason, message: message)
                // A container waiting out its own backoff: due when it was (now when that is
                // not recorded).
                if (reason == "CrashLoopBackOff" && scope == .container) || (containers[i].spec.role == .sidecar && r.everStarted) {
                    containers[i].state = .backoff(until: r.backoffUntil ?? now, reason: reason, message: message)
                }
            }
        }
        let maxRestarts = containers.map(\.restartCount).max() ?? 0
        for _ in 0..<min(maxRestarts, 10) { _ = podBackoff.next(ranFor: 0) }

        func inRound(_ c: Container) -> Bool {
            switch c.state {
            case .running, .terminated: return true
            default: return false
            }
        }
        let appIndices = apps
        let initIndices = inits
        if finished {
            stage = .finished
        } else if appIndices.contains(where: { inRound(containers[$0]) }) {
            stage = .running
            initDone = Set(initIndices.map { containers[$0].spec.name })
            podRunStartedAt = appIndices.compactMap { i -> Timestamp? in
                if case let .running(since, _, _) = containers[i].state { return since }
                return nil
            }.min() ?? now
        } else if let at = podRestartAt, at > now, !containers.contains(where: { $0.spec.role != .ephemeral && $0.isRunning }) {
            // Waiting out the pod's restart backoff: the init sequence runs again then.
            stage = .restartingAt(at)
            initDone = []
        } else {
            stage = .initializing
            initDone = []
            for i in initIndices {
                let c = containers[i]
                if case let .terminated(t) = c.state, c.spec.role == .initContainer, t.exitCode == 0 {
                    initDone.insert(c.spec.name)
                } else if c.spec.role == .sidecar, c.started {
                    initDone.insert(c.spec.name)
                }
            }
        }

        // The probes of the runs that go on: startup first, unless it had passed.
        var actions: [Action] = []
        for c in containers where c.spec.hasProbes && !vanished.contains(c.spec.name) {
            if case let .running(_, started, _) = c.state {
                actions.append(.probes(c.spec.name, started ? c.spec.steadyProbes : [.startup]))
            }
        }
        actions += strangers.map { .kill($0) }
        if let evictedWith { actions += resumeEviction(reason: evictedWith.reason, message: evictedWith.message) }
        if let deletion { actions += handle(.delete(deadline: deletion), at: now) }
        for name in vanished {
            guard let i = index(name), containers[i].isRunning else { continue }
            let t = Termination(exitCode: 137, signal: 9, reason: "Error",
                                message: "the container could not be located when the pod was recovered",
                                startedAt: containers[i].runningSince, finishedAt: now, containerID: containers[i].containerID)
            actions += runEnded(i, t, expected: false)
        }
        for (i, t) in reopened {
            // Handled again as the exit it was: the restart policy decides what follows.
            containers[i].state = .running(since: t.startedAt ?? now, started: false, ready: false)
            actions += handle(.exited(containers[i].spec.name, exitCode: t.exitCode, signal: t.signal,
                                      startedAt: t.startedAt, finishedAt: t.finishedAt), at: now)
        }
        return actions + handle(.tick, at: now)
    }

    /// Whether an exit with `exitCode` of a container in `role` leads to a restart (of it or
    /// of the pod) under this pod's policy.
    private func wantsRestart(_ role: Role, exitCode: Int32) -> Bool {
        switch role {
        case .ephemeral: return false
        case .sidecar: return true
        case .initContainer: return exitCode != 0 && policy != .never
        case .app: return policy == .always || (policy == .onFailure && exitCode != 0)
        }
    }
}

extension PodLifecycle {
    /// Carries restart counts and last states over to a pod that starts afresh (its monitor,
    /// and so its containers, did not survive: a reboot, or a monitor that was killed). The
    /// machine stays `.created`; `handle(.admit...)` then starts it, and each container's next
    /// start counts as a restart. A container recorded as running is recorded as ended with
    /// `lost` (it did not survive, and how it ended is unknown).
    public mutating func carryOver(_ restored: [RestoredContainer], lost: Termination) {
        guard stage == .created else { return }
        for r in restored {
            guard let i = containers.firstIndex(where: { $0.spec.name == r.name }) else { continue }
            containers[i].restartCount = r.restartCount
            containers[i].starts = r.everStarted ? r.restartCount + 1 : 0
            switch r.state {
            case let .terminated(t): containers[i].lastTermination = t
            case .running, .starting, .postStart, .stopping:
                var t = lost
                t.containerID = r.containerID
                containers[i].lastTermination = t
            case .waiting, .backoff: containers[i].lastTermination = r.lastTermination
            }
        }
    }
}

extension ConditionClock {
    /// Keeps the conditions' lastTransitionTime from a recorded status, so that a re-adopted
    /// pod does not look as if its conditions had just changed.
    public mutating func seed(from conditions: [PodCondition]) {
        for c in conditions {
            guard let time = c.lastTransitionTime else { continue }
            _ = transition(c.type, c.status, now: time)
        }
    }
}

extension PodLifecycle.Termination {
    /// A recorded run's end, for `restore` and `carryOver` (outside PodModel, which builds
    /// them from a status checkpoint).
    public static func recorded(exitCode: Int32, signal: Int32, reason: String, message: String?, startedAt: Timestamp?,
                                finishedAt: Timestamp, containerID: String?) -> Self {
        Self(exitCode: exitCode, signal: signal, reason: reason, message: message, startedAt: startedAt,
             finishedAt: finishedAt, containerID: containerID)
    }
}
