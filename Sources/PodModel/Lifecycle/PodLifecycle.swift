/// The pod lifecycle as a pure state machine, and the one place where lifecycle decisions are
/// made: which container to start, stop or kill next, when a probe result counts, when a hook
/// has had its time, when to wake up, and what each container's state is. It does no I/O and
/// reads no clock: the runtime feeds it events stamped with the time and carries out the
/// actions it returns, so every rule (init order, restart policy and scope, backoff, probes,
/// hooks, termination) is tested with a fake clock and no processes.
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
/// - every stop is preStop (when the container has one), SIGTERM, then SIGKILL at one
///   deadline (the grace period of the pod, or of its deletion);
/// - deletion: the app containers stop first, then the sidecars in reverse order, and
///   whatever still runs at the deadline is killed; no restarts while terminating.
///
/// Each container's state is one `State` value; docs/lifecycle.md has its transitions as a
/// table, which PodLifecycleTableTests drive against this code.
public struct PodLifecycle: Sendable {
    public enum RestartScope: String, Sendable { case pod, container }

    public enum Role: Sendable, Equatable {
        case initContainer
        case sidecar
        case app
        case ephemeral
    }

    public enum ProbeKind: String, Sendable, CaseIterable {
        case startup = "Startup", liveness = "Liveness", readiness = "Readiness"
    }

    /// How many results in a row make a probe pass or fail (Kubernetes' successThreshold and
    /// failureThreshold).
    public struct ProbeThresholds: Sendable, Equatable {
        public var success: Int
        public var failure: Int
        /// The grace period of the kill a failure causes (liveness, startup); nil: the pod's.
        public var gracePeriod: Int64?

        public init(success: Int = 1, failure: Int = 3, gracePeriod: Int64? = nil) {
            self.success = Swift.max(success, 1)
            self.failure = Swift.max(failure, 1)
            self.gracePeriod = gracePeriod
        }
    }

    public struct ContainerSpec: Sendable, Equatable {
        public var name: String
        public var role: Role
        /// A startup probe gates `started` (and a sidecar's place in the init order), and the
        /// liveness and readiness probes.
        public var startupProbe: ProbeThresholds?
        public var livenessProbe: ProbeThresholds?
        /// With a readiness probe a container is not ready until the probe says so.
        public var readinessProbe: ProbeThresholds?
        /// A postStart hook must finish before the container counts as running.
        public var hasPostStart: Bool
        /// A preStop hook runs before SIGTERM.
        public var hasPreStop: Bool

        public init(name: String, role: Role, startupProbe: ProbeThresholds? = nil, livenessProbe: ProbeThresholds? = nil,
                    readinessProbe: ProbeThresholds? = nil, hasPostStart: Bool = false, hasPreStop: Bool = false) {
            self.name = name
            self.role = role
            self.startupProbe = startupProbe
            self.livenessProbe = livenessProbe
            self.readinessProbe = readinessProbe
            self.hasPostStart = hasPostStart
            self.hasPreStop = hasPreStop
        }

        func thresholds(_ kind: ProbeKind) -> ProbeThresholds? {
            switch kind {
            case .startup: return startupProbe
            case .liveness: return livenessProbe
            case .readiness: return readinessProbe
            }
        }

        var hasProbes: Bool { startupProbe != nil || livenessProbe != nil || readinessProbe != nil }

        /// The probes of a run past its startup probe.
        var steadyProbes: [ProbeKind] {
            [ProbeKind.liveness, .readiness].filter { thresholds($0) != nil }
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

    /// A stop of a container's run in progress.
    public struct Stop: Sendable, Equatable {
        public enum Phase: String, Sendable {
            /// The preStop hook runs; SIGTERM follows when it is done.
            case preStop
            /// SIGTERM was sent.
            case term
            /// SIGKILL was sent (the deadline passed).
            case kill
        }

        /// Who stops it, which decides what its exit means.
        public enum Cause: String, Sendable {
            /// The pod stops it (deletion, a pod restart, the end of the pod): its exit is
            /// expected and restarts nothing.
            case pod
            /// podd stops a failed run (its exit goes through the restart policy).
            case postStartHookFailed = "PostStartHookError"
            case livenessFailed = "liveness"
            case startupFailed = "startup"
        }

        public var phase: Phase
        /// SIGKILL when the run is still there at this time.
        public var deadline: Timestamp
        public var cause: Cause
        /// When the run started (it shows as running until it exits).
        public var since: Timestamp
        public var started: Bool
        public var ready: Bool
    }

    /// A container's state: one value, no flags beside it. The transitions (docs/lifecycle.md
    /// has them as a table):
    ///
    ///     waiting    --start-->                   starting      (action start)
    ///     backoff    --tick at until-->           starting      (start)
    ///     starting   --started-->                 postStart     (runPostStart) | running (probes)
    ///     starting   --startFailed image-->       backoff       (retried)
    ///     starting   --startFailed exec-->        terminated    (exit 128, then the restart policy)
    ///     postStart  --postStartDone ok-->        running       (probes)
    ///     postStart  --postStartDone failed-->    stopping      (preStop or SIGTERM)
    ///     running    --probe results-->           running       (started, ready counted)
    ///     running    --liveness/startup failed--> stopping      (Killing, will be restarted)
    ///     running    --stop (pod)-->              stopping      (runPreStop | terminate)
    ///     stopping   --preStopDone-->             stopping(term)  (terminate)
    ///     stopping   --deadline-->                stopping(kill)  (kill)
    ///     any run    --exited / sandboxLost-->    terminated    (then the restart policy:
    ///                                                            starting | backoff | stays)
    public enum State: Sendable, Equatable {
        /// Not started in this round (PodInitializing), or waiting for the pod's restart
        /// (CrashLoopBackOff of the container that caused it).
        case waiting(reason: String, message: String?)
        /// Started again at `until` (the container's own backoff, or a retry of a start that
        /// could not be made); shown as waiting with `reason`.
        case backoff(until: Timestamp, reason: String, message: String?)
        /// Start requested; the runtime has not reported the outcome yet.
        case starting
        /// The process runs; its postStart hook has not finished.
        case postStart(since: Timestamp)
        /// The process runs. `started`: past its startup probe; `ready`: its readiness probe
        /// passes (both true at once for a container without those probes).
        case running(since: Timestamp, started: Bool, ready: Bool)
        case stopping(Stop)
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
        var backoff: RestartBackoff
        /// Consecutive results of each probe in the current run: > 0 successes, < 0 failures.
        var probeStreaks: [ProbeKind: Int] = [:]
        /// Whether the preStop hook of the current run has been run: it runs once per run,
        /// also when a re-adopted pod's stop carries on (a restored run says so).
        public internal(set) var preStopRan = false
        /// Failed pulls of its image in a row (the first shows ErrImagePull, later ones
        /// ImagePullBackOff); a pulled image resets it.
        var imagePullFailures = 0
        /// The reason (and message) a start made after a backoff or a wait goes on showing
        /// until its run has begun, as kubelet's reason cache keeps CrashLoopBackOff,
        /// ErrImagePull or ImagePullBackOff in the status while the next attempt is made
        /// (ContainerCreating is only a first start's); nil shows ContainerCreating.
        public internal(set) var shownWhileStarting: Waiting?

        public struct Waiting: Sendable, Equatable {
            public var reason: String
            public var message: String?
        }

        /// Whether a process of the container exists (or is being made): from the start
        /// request to the reported exit.
        public var isRunning: Bool {
            switch state {
            case .starting, .postStart, .running, .stopping: return true
            case .waiting, .backoff, .terminated: return false
            }
        }

        /// Running and past its startup probe (if any): kubelet's `started`.
        public var started: Bool {
            switch state {
            case let .running(_, started, _): return started
            case let .stopping(s): return s.started
            default: return false
            }
        }

        public var ready: Bool {
            switch state {
            case let .running(_, _, ready): return ready
            case let .stopping(s): return s.ready
            default: return false
            }
        }

        /// Why it waits, as shown in its status (waiting, or backing off).
        public var waitingReason: String? {
            switch state {
            case let .waiting(reason, _), let .backoff(_, reason, _): return reason
            default: return nil
            }
        }

        /// When the process of the current run started (once reported).
        public var runningSince: Timestamp? {
            switch state {
            case let .postStart(since), let .running(since, _, _): return since
            case let .stopping(s): return s.since
            default: return nil
            }
        }

        /// Whether a command may be run in the container now: a running process, including one
        /// being stopped (a preStop hook runs then); with `duringPostStart`, also while its
        /// postStart hook runs (the hook's own exec runs then).
        public func acceptsExec(duringPostStart: Bool) -> Bool {
            switch state {
            case .running, .stopping: return true
            case .postStart: return duringPostStart
            default: return false
            }
        }
    }

    public enum Action: Sendable, Equatable {
        /// Start the container's next run; `.started` or `.startFailed` follows.
        case start(String)
        /// Run the container's postStart hook, then report `.postStartDone`.
        case runPostStart(String)
        /// Run the container's preStop hook, then report `.preStopDone`.
        case runPreStop(String)
        /// Send SIGTERM to the container.
        case terminate(String)
        /// Send SIGKILL to the container.
        case kill(String)
        /// Run exactly these probes for the container's current run (none: stop its probes),
        /// each reporting `.probeResult` at its period; the machine counts the results.
        case probes(String, [ProbeKind])
        /// The pod's monitor is gone and the pod runs on, or a sandbox could not be made and
        /// its retry is due: make a new sandbox (before the starts that follow), then report
        /// `.admit` or `.sandboxFailed`.
        case recreateSandbox
        /// Call back with `.tick` at this time (one timer: the latest wake replaces it).
        case wake(at: Timestamp)
        case event(type: String, reason: String, message: String, container: String?)
        /// Every container has stopped after a delete: the runtime may tear the pod down.
        case stopped
    }

    public enum Event: Sendable {
        /// The pod's sandbox is up: the first time, the init sequence starts; after a new
        /// sandbox, the starts that are due follow.
        case admit
        /// The pod's sandbox could not be made: tried again in `sandboxRetryDelay`.
        case sandboxFailed(message: String)
        case started(String, containerID: String)
        /// The postStart hook finished (`ok`) or failed (`message` says why).
        case postStartDone(String, ok: Bool, message: String)
        /// The preStop hook finished or failed.
        case preStopDone(String, ok: Bool, message: String)
        /// One result of one of the container's probes.
        case probeResult(String, kind: ProbeKind, ok: Bool, message: String)
        /// The container could not be started: `terminated` says whether it counts as a run
        /// that ended (exec failure: StartError, exit code 128) or stays waiting (a missing
        /// image: ErrImageNeverPull) to be retried with backoff.
        case startFailed(String, reason: String, message: String, terminated: Bool)
        /// The image a starting container waited for has been pulled: the start goes on.
        case imagePulled(String)
        /// The pull of a starting container's `image` failed: ErrImagePull, then
        /// ImagePullBackOff, retried on the restart backoff (PodLifecycle+Images.swift).
        case imagePullFailed(String, image: String, message: String)
        /// A run ended; `oomKilled`: the kernel's OOM killer ended it (its memory cgroup
        /// counted the kill), which decides the reason OOMKilled.
        /// `message`: what the container left at its terminationMessagePath (or the end of
        /// its log, FallbackToLogsOnError), its terminated state's message.
        case exited(String, exitCode: Int32, signal: Int32, startedAt: Timestamp?, finishedAt: Timestamp, oomKilled: Bool = false,
                    message: String? = nil)
        /// The pod's monitor is gone, and every container with it.
        case sandboxLost
        case tick
        /// A ConfigMap or Secret the pod refers to appeared or changed: containers waiting
        /// with CreateContainerConfigError try again now (PodLifecycle+ConfigData.swift).
        case configDataChanged
        /// Delete the pod: everything stopped by `deadline` (its deletionTimestamp). A later
        /// delete can move the deadline earlier, never later.
        case delete(deadline: Timestamp)
        /// Stop the pod because its spec was replaced (PUT, apply, a patch of the spec): as
        /// `delete`, told as kubelet tells the kill of a container whose definition changed
        /// (the new spec's controller starts them again).
        case replace(deadline: Timestamp)
        /// A local storage limit was exceeded: the pod is evicted, as kubelet evicts it
        /// (`message` is kubelet's; PodLifecycle+Eviction.swift).
        case evict(message: String)
    }

    public enum Stage: Sendable, Equatable {
        case created
        case initializing
        case running
        /// Pod scope: stopping every container (by `deadline`) before the pod restarts after
        /// `delay`; `cause` is the container whose end caused it.
        case stoppingForRestart(deadline: Timestamp, delay: Double, cause: String)
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
    /// The pod's terminationGracePeriodSeconds: the time a stop podd starts itself may take.
    public let gracePeriod: Double
    // internal(set), and internal below: restore() (PodLifecycle+Restore.swift) seeds them.
    public internal(set) var stage: Stage = .created
    public internal(set) var containers: [Container]
    public internal(set) var now: Timestamp
    /// Pod-scope backoff (container scope keeps one per container).
    var podBackoff: RestartBackoff
    /// When the current pod run (all app containers up) began, for the backoff reset.
    var podRunStartedAt: Timestamp?
    /// Init containers done in the current round (a pod restart starts a new round).
    var initDone: Set<String> = []
    /// When to try again to make the pod's sandbox, after a failure.
    var sandboxRetryAt: Timestamp?
    /// How long after a failed sandbox the next try comes (the cause may be passing: a full
    /// disk).
    public static let sandboxRetryDelay = 10.0
    let backoffSettings: RestartBackoff.Settings
    /// Set once the pod has been evicted (PodLifecycle+Eviction.swift): it is Failed for good.
    public internal(set) var eviction: Eviction?
    /// When the pod passes its activeDeadlineSeconds (its start time plus those): from then
    /// on an active pod is ended with reason DeadlineExceeded. Set by the pod's owner once
    /// the start time is known; nil: no deadline.
    public var activeDeadline: Timestamp?
    /// The pod stops because its spec was replaced (`replace`): its kills are told so.
    var stopsForNewSpec = false

    public init(podName: String, podRef: String, containers: [ContainerSpec], policy: Policy,
                scope: RestartScope, gracePeriod: Int64, backoff: RestartBackoff.Settings, now: Timestamp) {
        self.podName = podName
        self.podRef = podRef
        self.policy = policy
        self.scope = scope
        self.now = now
        self.backoffSettings = backoff
        self.podBackoff = RestartBackoff(backoff)
        self.gracePeriod = Double(Swift.max(gracePeriod, 0))
        self.containers = containers.map {
            Container(spec: $0, state: .waiting(reason: "PodInitializing", message: nil), backoff: RestartBackoff(backoff))
        }
    }

    // MARK: - Queries

    public func container(_ name: String) -> Container? { containers.first { $0.spec.name == name } }

    /// Deleted: terminating, or stopped.
    public var isTerminating: Bool {
        switch stage {
        case .terminating, .stopped: return true
        default: return false
        }
    }

    public var isFinished: Bool { stage == .finished }

    /// Pod scope: stopping its containers to restart.
    public var isStoppingForRestart: Bool {
        if case .stoppingForRestart = stage { return true }
        return false
    }

    /// The deadline of the pod's deletion, once deleted.
    public var deletionDeadline: Timestamp? {
        if case let .terminating(deadline) = stage { return deadline }
        return nil
    }

    func index(_ name: String) -> Int? { containers.firstIndex { $0.spec.name == name } }

    var apps: [Int] { containers.indices.filter { containers[$0].spec.role == .app } }
    var inits: [Int] { containers.indices.filter { containers[$0].spec.role == .initContainer || containers[$0].spec.role == .sidecar } }
    var sidecars: [Int] { containers.indices.filter { containers[$0].spec.role == .sidecar } }

    // MARK: - Events

    /// Applies one event at time `at` and returns what the runtime must do, in order; the
    /// last action is the wake-up for the next due time, if there is one.
    public mutating func handle(_ event: Event, at time: Timestamp) -> [Action] {
        now = max(now, time)
        var actions: [Action] = []
        switch event {
        case .admit:
            sandboxRetryAt = nil
            if stage == .created {
                stage = .initializing
                initDone = []
            }
        case let .sandboxFailed(message):
            sandboxRetryAt = now.adding(seconds: Self.sandboxRetryDelay)
            actions.append(.event(type: "Warning", reason: "FailedCreatePodSandBox",
                                  message: "Failed to create pod sandbox: \(message)", container: nil))
        case let .started(name, containerID):
            guard let i = index(name) else { return [] }
            actions += containerStarted(i, containerID: containerID)
        case let .postStartDone(name, ok, message):
            guard let i = index(name) else { return [] }
            actions += postStartDone(i, ok: ok, message: message)
        case let .preStopDone(name, ok, message):
            guard let i = index(name) else { return [] }
            actions += preStopDone(i, ok: ok, message: message)
        case let .probeResult(name, kind, ok, message):
            guard let i = index(name) else { return [] }
            actions += probeResult(i, kind: kind, ok: ok, message: message)
        case let .startFailed(name, reason, message, terminated):
            guard let i = index(name) else { return [] }
            actions += startFailed(i, reason: reason, message: message, terminated: terminated)
        case let .imagePulled(name):
            guard let i = index(name) else { return [] }
            actions += imagePulled(i)
        case let .imagePullFailed(name, image, message):
            guard let i = index(name) else { return [] }
            actions += imagePullFailed(i, image: image, message: message)
        case let .exited(name, exitCode, signal, startedAt, finishedAt, oomKilled, message):
            guard let i = index(name) else { return [] }
            actions += exited(i, exitCode: exitCode, signal: signal, startedAt: startedAt, finishedAt: finishedAt, oomKilled: oomKilled,
                              message: message)
        case .sandboxLost:
            actions += sandboxLost()
        case .tick:
            break
        case .configDataChanged:
            retryConfigWaits()
        case let .delete(deadline):
            actions += beginTermination(deadline: deadline)
        case let .replace(deadline):
            stopsForNewSpec = true
            actions += beginTermination(deadline: deadline)
        case let .evict(message):
            actions += evict(message: message)
        }
        if let deadline = activeDeadline, now >= deadline, isActive { actions += exceedActiveDeadline() }
        actions += advance()
        if let due = nextDue() { actions.append(.wake(at: due)) }
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
