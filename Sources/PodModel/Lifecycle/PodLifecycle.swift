/// The pod lifecycle as a pure state machine: which container to start, stop or kill next,
/// when to wake up, and what each container's state is. It does no I/O and reads no clock:
/// the runtime feeds it events stamped with the time and carries out the actions it returns,
/// so every rule (init order, restart policy and scope, backoff, termination) is tested with
/// a fake clock and no processes.
///
/// The rules follow DESIGN.md ("Pod restart semantics") and kubelet:
/// - init containers run one at a time, in order, each to completion; a native sidecar (an
///   init container with restartPolicy Always) counts as done once it has started, and keeps
///   running beside the app containers;
/// - pod scope (the default): when an app or init container fails and the policy allows a
///   restart, every other container is stopped, and after the backoff the pod runs its init
///   containers again, then its app containers; container scope (`podd.io/restart-scope:
///   container`): only that container restarts, as kubelet does;
/// - sidecars are restarted whatever the pod's policy, and are stopped after the app
///   containers, in reverse order;
/// - deletion: SIGTERM to the app containers, then the sidecars in reverse order, SIGKILL to
///   whatever still runs when the grace period ends; no restarts while terminating.
public struct PodLifecycle: Sendable {
    public enum RestartScope: String, Sendable { case pod, container }

    public enum Role: Sendable, Equatable {
        case initContainer
        case sidecar
        case app
        case ephemeral
    }

    public struct ContainerSpec: Sendable, Equatable {
        public var name: String
        public var role: Role
        /// A startup probe gates `started` (and a sidecar's place in the init order).
        public var hasStartupProbe: Bool
        /// With a readiness probe a container is not ready until the probe says so.
        public var hasReadinessProbe: Bool
        /// A postStart hook must finish before the container counts as running.
        public var hasPostStart: Bool

        public init(name: String, role: Role, hasStartupProbe: Bool = false, hasReadinessProbe: Bool = false,
                    hasPostStart: Bool = false) {
            self.name = name
            self.role = role
            self.hasStartupProbe = hasStartupProbe
            self.hasReadinessProbe = hasReadinessProbe
            self.hasPostStart = hasPostStart
        }
    }

    public enum Policy: String, Sendable { case always = "Always", onFailure = "OnFailure", never = "Never" }

    public struct Termination: Sendable, Equatable {
        public var exitCode: Int32
        public var signal: Int32
        public var reason: String
        public var message: String?
        public var startedAt: Timestamp?
        public var finishedAt: Timestamp
        public var containerID: String?
    }

    public enum State: Sendable, Equatable {
        case waiting(reason: String, message: String?)
        /// Start requested; the runtime has not reported the outcome yet.
        case starting
        case running(since: Timestamp)
        case terminated(Termination)
    }

    public struct Container: Sendable, Equatable {
        public var spec: ContainerSpec
        public var state: State
        public var lastTermination: Termination?
        public var restartCount: Int = 0
        /// How many times it has been started (restartCount = starts - 1 once started).
        public var starts: Int = 0
        public var containerID: String?
        /// Whether a stop signal has been sent to the current run.
        public var stopRequested = false
        /// Whether SIGKILL has been sent to the current run (sent once).
        var stopRequestedKill = false
        /// Without a readiness probe a running container is ready; with one, once it passes.
        public var ready = false
        /// Running and past its startup probe (if any): kubelet's `started`.
        public var started = false
        /// The process runs but its postStart hook has not finished: since when.
        public var pendingSince: Timestamp?
        /// Why the current run is being stopped by podd itself (a failed hook or probe).
        public var stopReason: String?
        /// When a pending restart of this container (container scope, sidecars) is due.
        public var restartAt: Timestamp?
        var backoff: RestartBackoff

        public var isRunning: Bool {
            switch state {
            case .running, .starting: return true
            default: return false
            }
        }
    }

    public enum Action: Sendable, Equatable {
        case start(String)
        /// Run the container's postStart hook, then report `.postStartDone`.
        case runPostStart(String)
        case signal(String, Int32)
        case wake(at: Timestamp)
        case event(type: String, reason: String, message: String, container: String?)
        /// Every container has stopped after a delete: the runtime may tear the pod down.
        case stopped
    }

    public enum Event: Sendable {
        case admit
        case started(String, containerID: String)
        /// The postStart hook finished (`ok`) or failed (`message` says why).
        case postStartDone(String, ok: Bool, message: String)
        /// The startup probe succeeded.
        case startupSucceeded(String)
        /// The readiness probe's verdict changed.
        case readiness(String, ready: Bool)
        /// podd is stopping the container itself (a failed liveness or startup probe): its
        /// coming exit is a failure, restarted per policy, with this reason recorded.
        case killing(String, reason: String)
        /// The container could not be started: `terminated` says whether it counts as a run
        /// that ended (exec failure: StartError, exit code 128) or stays waiting (a missing
        /// image: ErrImageNeverPull) to be retried with backoff.
        case startFailed(String, reason: String, message: String, terminated: Bool)
        case exited(String, exitCode: Int32, signal: Int32, startedAt: Timestamp?, finishedAt: Timestamp)
        case tick
        case delete(gracePeriod: Int64)
    }

    public enum Stage: Sendable, Equatable {
        case created
        case initializing
        case running
        /// Pod scope: stopping every container before the pod restarts.
        case stoppingForRestart
        /// Pod scope: all stopped; init containers run again at `at`.
        case restartingAt(Timestamp)
        /// No container will run again (the pod is Succeeded or Failed).
        case finished
        case terminating(deadline: Timestamp)
        case stopped
    }

    public let podName: String
    public let podRef: String
    public let policy: Policy
    public let scope: RestartScope
    // internal(set), and internal below: restore() (PodLifecycle+Restore.swift) seeds them.
    public internal(set) var stage: Stage = .created
    public internal(set) var containers: [Container]
    public private(set) var now: Timestamp
    /// Pod-scope backoff (container scope keeps one per container).
    var podBackoff: RestartBackoff
    /// When the current pod run (all app containers up) began, for the backoff reset.
    var podRunStartedAt: Timestamp?
    /// Init containers done in the current round (a pod restart starts a new round).
    var initDone: Set<String> = []
    private var killDeadline: Timestamp?
    private var stopTimeout: Double
    /// Pod scope: the backoff before the pod's next round, and the container whose end
    /// caused it (shown in CrashLoopBackOff while the pod waits).
    private var pendingPodRestartDelay: Double = 0
    private var pendingRestartCause: String?
    private let backoffSettings: RestartBackoff.Settings

    public init(podName: String, podRef: String, containers: [ContainerSpec], policy: Policy,
                scope: RestartScope, gracePeriod: Int64, backoff: RestartBackoff.Settings, now: Timestamp) {
        self.podName = podName
        self.podRef = podRef
        self.policy = policy
        self.scope = scope
        self.now = now
        self.backoffSettings = backoff
        self.podBackoff = RestartBackoff(backoff)
        self.stopTimeout = Double(gracePeriod)
        self.containers = containers.map {
            Container(spec: $0, state: .waiting(reason: "PodInitializing", message: nil), backoff: RestartBackoff(backoff))
        }
    }

    // MARK: - Queries

    public func container(_ name: String) -> Container? { containers.first { $0.spec.name == name } }

    public var isTerminating: Bool {
        if case .terminating = stage { return true }
        return stage == .stopped
    }

    public var isFinished: Bool { stage == .finished }

    private func index(_ name: String) -> Int? { containers.firstIndex { $0.spec.name == name } }

    private var apps: [Int] { containers.indices.filter { containers[$0].spec.role == .app } }
    private var inits: [Int] { containers.indices.filter { containers[$0].spec.role == .initContainer || containers[$0].spec.role == .sidecar } }
    private var sidecars: [Int] { containers.indices.filter { containers[$0].spec.role == .sidecar } }

    // MARK: - Events

    /// Applies one event at time `at` and returns what the runtime must do, in order.
    public mutating func handle(_ event: Event, at time: Timestamp) -> [Action] {
        now = max(now, time)
        var actions: [Action] = []
        switch event {
        case .admit:
            guard stage == .created else { return [] }
            stage = .initializing
            initDone = []
        case let .started(name, containerID):
            guard let i = index(name) else { return [] }
            containers[i].containerID = containerID
            containers[i].stopRequested = false
            containers[i].stopReason = nil
            actions.append(.event(type: "Normal", reason: "Started", message: "Started container \(name)", container: name))
            if containers[i].spec.hasPostStart {
                // Running only once its postStart hook has finished.
                containers[i].pendingSince = now
                actions.append(.runPostStart(name))
            } else {
                markRunning(i, since: now)
            }
            // An ephemeral container may start while the pod stops its others for a restart
            // (debugging a crash-looping pod): the restart leaves it alone.
            if isTerminating || ((stage == .stoppingForRestart || stage == .finished) && containers[i].spec.role != .ephemeral) {
                // Started while the pod is being stopped: stop it too.
                containers[i].stopRequested = true
                actions.append(.signal(name, 15))
            }
        case let .postStartDone(name, ok, message):
            guard let i = index(name), case .starting = containers[i].state, let since = containers[i].pendingSince else { return [] }
            containers[i].pendingSince = nil
            markRunning(i, since: since)
            if !ok {
                containers[i].ready = false
                containers[i].stopReason = "PostStartHookError"
                actions.append(.event(type: "Warning", reason: "FailedPostStartHook", message: message, container: name))
                actions.append(.signal(name, 15))
            }
        case let .startupSucceeded(name):
            guard let i = index(name), case .running = containers[i].state else { return [] }
            containers[i].started = true
            if !containers[i].spec.hasReadinessProbe { containers[i].ready = true }
            if containers[i].spec.role == .sidecar { initDone.insert(name) }
        case let .readiness(name, ready):
            guard let i = index(name), case .running = containers[i].state else { return [] }
            containers[i].ready = ready && containers[i].started
        case let .killing(name, reason):
            guard let i = index(name), containers[i].isRunning else { return [] }
            containers[i].stopReason = reason
            containers[i].ready = false
        case let .startFailed(name, reason, message, terminated):
            guard let i = index(name) else { return [] }
            actions.append(.event(type: "Warning", reason: "Failed", message: message, container: name))
            if terminated {
                let t = Termination(exitCode: 128, signal: 0, reason: reason, message: message, startedAt: nil,
                                    finishedAt: now, containerID: nil)
                actions += containerEnded(i, t)
            } else {
                containers[i].state = .waiting(reason: reason, message: message)
                let delay = containers[i].backoff.next(ranFor: 0)
                containers[i].restartAt = now.adding(seconds: Swift.max(delay, backoffSettings.initial))
            }
        case let .exited(name, exitCode, signal, startedAt, finishedAt):
            guard let i = index(name) else { return [] }
            // A run podd ended itself because of a failed hook is reported with that reason,
            // as kubelet does; otherwise the exit code decides.
            let reason = containers[i].stopReason == "PostStartHookError" ? "PostStartHookError"
                                                                          : (exitCode == 0 ? "Completed" : "Error")
            let t = Termination(exitCode: exitCode, signal: signal, reason: reason, message: nil,
                                startedAt: startedAt, finishedAt: finishedAt, containerID: containers[i].containerID)
            actions += containerEnded(i, t)
        case .tick:
            break
        case let .delete(grace):
            if case .terminating = stage { break }
            if stage == .stopped { break }
            stopTimeout = Double(grace)
            stage = .terminating(deadline: now.adding(seconds: Double(grace)))
            killDeadline = now.adding(seconds: Double(grace))
            for i in containers.indices { containers[i].restartAt = nil }
            actions.append(.event(type: "Normal", reason: "Killing", message: "Stopping pod \(podName)", container: nil))
        }
        actions += advance()
        return actions
    }

    /// The process runs and any postStart hook is done: Running. `started` and `ready`
    /// wait for the startup and readiness probes when the container has them.
    private mutating func markRunning(_ i: Int, since: Timestamp) {
        containers[i].state = .running(since: since)
        containers[i].started = !containers[i].spec.hasStartupProbe
        containers[i].ready = containers[i].started && !containers[i].spec.hasReadinessProbe
        if containers[i].spec.role == .sidecar && containers[i].started { initDone.insert(containers[i].spec.name) }
    }

    /// A container's run ended: record it and decide on a restart per policy and scope.
    private mutating func containerEnded(_ i: Int, _ t: Termination) -> [Action] {
        var actions: [Action] = []
        let name = containers[i].spec.name
        let ranFor = t.startedAt.map { t.finishedAt.seconds(since: $0) } ?? 0
        let wasStopRequested = containers[i].stopRequested
        containers[i].state = .terminated(t)
        containers[i].ready = false
        containers[i].started = false
        containers[i].pendingSince = nil
        containers[i].stopReason = nil
        containers[i].stopRequested = false
        if isTerminating || stage == .stoppingForRestart { return actions }
        if stage == .finished { return actions }
        if wasStopRequested { return actions }
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
                actions += stopSidecars()
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
            } else if apps.allSatisfy({ !containers[$0].isRunning && containers[$0].restartAt == nil }) {
                stage = .finished
                actions += stopSidecars()
            }
        }
        return actions
    }

    private mutating func scheduleContainerRestart(_ i: Int, ranFor: Double) -> [Action] {
        let delay = containers[i].backoff.next(ranFor: ranFor)
        containers[i].lastTermination = terminationOf(containers[i].state) ?? containers[i].lastTermination
        let name = containers[i].spec.name
        if delay > 0 {
            containers[i].state = .waiting(reason: "CrashLoopBackOff", message: backoffMessage(delay, name))
            containers[i].restartAt = now.adding(seconds: delay)
            return [.event(type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(name) in pod \(podRef)", container: name)]
        }
        containers[i].restartAt = now
        return []
    }

    private func backoffMessage(_ delay: Double, _ name: String) -> String {
        "back-off \(Self.formatDelay(delay)) restarting failed container=\(name) pod=\(podRef)"
    }

    /// "10s", "1m20s", "5m0s" as Go's time.Duration prints whole seconds.
    static func formatDelay(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m\(s % 60)s" }
        return "\(s / 3600)h\(s % 3600 / 60)m\(s % 60)s"
    }

    /// Pod scope: stop everything, then (after the backoff) run the init containers again.
    private mutating func beginPodRestart(failed i: Int, ranFor: Double) -> [Action] {
        var actions: [Action] = []
        let delay = podBackoff.next(ranFor: ranFor)
        let failedName = containers[i].spec.name
        stage = .stoppingForRestart
        podRunStartedAt = nil
        actions.append(.event(type: "Normal", reason: "Killing", message: "Container \(failedName) ended: restarting pod \(podName)", container: nil))
        for j in containers.indices where containers[j].spec.role != .ephemeral {
            containers[j].restartAt = nil
            if containers[j].isRunning && !containers[j].stopRequested {
                containers[j].stopRequested = true
                if case .running = containers[j].state { actions.append(.signal(containers[j].spec.name, 15)) }
            }
        }
        killDeadline = now.adding(seconds: stopTimeout)
        pendingPodRestartDelay = delay
        pendingRestartCause = failedName
        return actions
    }

    /// Native sidecars stop after the app containers, in reverse order: signal the last one
    /// still running; the next gets its signal when that one has exited.
    private mutating func stopSidecars() -> [Action] {
        for i in sidecars.reversed() where containers[i].isRunning {
            if containers[i].stopRequested { return [] }
            containers[i].stopRequested = true
            containers[i].restartAt = nil
            killDeadline = now.adding(seconds: stopTimeout)
            if case .running = containers[i].state { return [.signal(containers[i].spec.name, 15)] }
            return []
        }
        return []
    }

    private func terminationOf(_ state: State) -> Termination? {
        if case let .terminated(t) = state { return t }
        return nil
    }

    /// Starts a container's next run (its previous termination becomes lastState).
    private mutating func start(_ i: Int) -> [Action] {
        if let t = terminationOf(containers[i].state) { containers[i].lastTermination = t }
        if containers[i].starts > 0 { containers[i].restartCount += 1 }
        containers[i].starts += 1
        containers[i].state = .starting
        containers[i].restartAt = nil
        containers[i].stopRequested = false
        containers[i].stopRequestedKill = false
        return [.start(containers[i].spec.name)]
    }

    // MARK: - Progress

    /// Moves the pod forward as far as it can go now, and asks to be woken for the next due
    /// time (a restart after backoff, the end of a grace period).
    private mutating func advance() -> [Action] {
        var actions: [Action] = []
        switch stage {
        case .created, .stopped:
            return []
        case .terminating:
            actions += advanceTermination()
        case .stoppingForRestart:
            if containers.allSatisfy({ $0.spec.role == .ephemeral || !$0.isRunning }) {
                let at = now.adding(seconds: pendingPodRestartDelay)
                stage = .restartingAt(at)
                killDeadline = nil
                if let cause = pendingRestartCause, let i = index(cause), pendingPodRestartDelay > 0 {
                    containers[i].lastTermination = terminationOf(containers[i].state) ?? containers[i].lastTermination
                    containers[i].state = .waiting(reason: "CrashLoopBackOff", message: backoffMessage(pendingPodRestartDelay, cause))
                    actions.append(.event(type: "Warning", reason: "BackOff", message: "Back-off restarting failed container \(cause) in pod \(podRef)", container: cause))
                }
                for j in containers.indices where containers[j].spec.role == .app && j != pendingRestartCause.flatMap(index) {
                    if let t = terminationOf(containers[j].state) {
                        containers[j].lastTermination = t
                        containers[j].state = .waiting(reason: "PodInitializing", message: nil)
                    }
                }
                return actions + advance()
            } else if let deadline = killDeadline {
                if now >= deadline {
                    for j in containers.indices where containers[j].isRunning {
                        if case .running = containers[j].state { actions.append(.signal(containers[j].spec.name, 9)) }
                    }
                    killDeadline = nil
                } else {
                    actions.append(.wake(at: deadline))
                }
            }
        case let .restartingAt(at):
            if now >= at {
                stage = .initializing
                initDone = []
                actions += advance()
            } else {
                actions.append(.wake(at: at))
            }
        case .initializing:
            actions += advanceInit()
        case .running:
            actions += restartDueContainers()
        case .finished:
            actions += advanceFinished()
        }
        return actions
    }

    private mutating func advanceInit() -> [Action] {
        var actions: [Action] = []
        for i in inits {
            let c = containers[i]
            if initDone.contains(c.spec.name) { continue }
            if c.isRunning { return actions + restartDueContainers() }   // wait for it to finish / start
            if let due = c.restartAt {
                if now >= due { return actions + start(i) }
                return actions + [.wake(at: due)]
            }
            return actions + start(i)
        }
        // Every init container is done: start the app containers together.
        stage = .running
        podRunStartedAt = now
        for i in apps { actions += start(i) }
        return actions + restartDueContainers()
    }

    /// Starts containers whose own (container-scope or sidecar) backoff has expired.
    private mutating func restartDueContainers() -> [Action] {
        var actions: [Action] = []
        var earliest: Timestamp?
        for i in containers.indices {
            guard let due = containers[i].restartAt, !containers[i].isRunning else { continue }
            if now >= due {
                actions += start(i)
            } else {
                earliest = earliest.map { min($0, due) } ?? due
            }
        }
        if let earliest { actions.append(.wake(at: earliest)) }
        return actions
    }

    /// After the app containers are done for good: wait for sidecars to stop in reverse order.
    private mutating func advanceFinished() -> [Action] {
        var actions: [Action] = []
        if sidecars.contains(where: { containers[$0].isRunning }) {
            actions += stopSidecars()
            if let deadline = killDeadline {
                if now >= deadline {
                    for i in sidecars where containers[i].isRunning {
                        if case .running = containers[i].state { actions.append(.signal(containers[i].spec.name, 9)) }
                    }
                    killDeadline = nil
                } else {
                    actions.append(.wake(at: deadline))
                }
            }
        }
        return actions
    }

    private mutating func advanceTermination() -> [Action] {
        var actions: [Action] = []
        guard case let .terminating(deadline) = stage else { return [] }
        let running = containers.indices.filter { containers[$0].isRunning }
        if running.isEmpty {
            stage = .stopped
            return [.stopped]
        }
        if now >= deadline {
            for i in running where !containers[i].stopRequestedKill {
                if case .running = containers[i].state {
                    containers[i].stopRequestedKill = true
                    actions.append(.signal(containers[i].spec.name, 9))
                }
            }
            return actions
        }
        // App and ephemeral containers first, then sidecars in reverse order.
        let first = running.filter { containers[$0].spec.role != .sidecar }
        if !first.isEmpty {
            for i in first where !containers[i].stopRequested {
                containers[i].stopRequested = true
                if case .running = containers[i].state { actions.append(.signal(containers[i].spec.name, 15)) }
            }
        } else if let last = running.last(where: { containers[$0].spec.role == .sidecar }), !containers[last].stopRequested {
            containers[last].stopRequested = true
            if case .running = containers[last].state { actions.append(.signal(containers[last].spec.name, 15)) }
        }
        actions.append(.wake(at: deadline))
        return actions
    }
}

extension PodLifecycle {
    /// Adds an ephemeral (debug) container and starts it at once. It is never restarted and
    /// does not count for the pod's phase. Refused (no action) once the pod is finished or
    /// terminating; the API checks that first and answers with a clear error.
    public mutating func addEphemeral(_ name: String, at time: Timestamp) -> [Action] {
        now = max(now, time)
        guard index(name) == nil, !isTerminating, stage != .finished else { return [] }
        containers.append(Container(spec: ContainerSpec(name: name, role: .ephemeral),
                                    state: .waiting(reason: "ContainerCreating", message: nil),
                                    backoff: RestartBackoff(backoffSettings)))
        return start(containers.count - 1)
    }

    /// Forgets an ephemeral container that has exited (podd's prune extension).
    public mutating func removeEphemeral(_ name: String) -> Bool {
        guard let i = index(name), containers[i].spec.role == .ephemeral, !containers[i].isRunning else { return false }
        containers.remove(at: i)
        return true
    }
}
