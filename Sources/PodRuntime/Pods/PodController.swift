import Glibc
import Logging
import PodImages
import PodModel
import PodNetwork
import PodOS

/// Everything a pod controller needs from the daemon around it.
public struct RuntimeContext: Sendable {
    public var config: PoddConfig
    public var images: ImageStore
    /// The pulls in progress, shared by every pod (one download per image).
    public var pulls: ImagePulls
    public var store: PodStore
    public var events: EventRecorder
    public var reactor: Reactor
    public var cgroups: CgroupHierarchy?
    public var monitorPath: String
    public var logger: Logger
    /// The ConfigMaps and Secrets containers' env and volumes refer to.
    public var configData = ConfigDataCatalog()
    /// PriorityClasses and PodDisruptionBudgets, for the Priority admission of pods
    /// (PodPriority) and preemption.
    public var scheduling = SchedulingCatalog()
    /// ServiceAccounts, for the ServiceAccount admission of pods.
    public var accounts = ServiceAccountCatalog()
    /// Called with the pod after each change of it (for watchers and the registry), with the
    /// generation of the controller that reports it and a sequence number that grows with
    /// each call of that controller: calls may arrive out of order (each is its own task), and
    /// a snapshot older than one already taken must be dropped.
    public var publish: @Sendable (_ type: String, _ pod: Pod, _ generation: Int, _ sequence: Int) -> Void
    /// The pods' CNI network; nil with `network: none` (loopback-only pods).
    public var network: PodAttachments?
    /// Pod names to addresses, kept in every networked pod's /etc/hosts.
    public var podNames: PodNameTable?
    /// podd's node: the machine's host name (the events' host) and its labels.
    public var node: Node
    /// Starts making a pod's sandbox (the monitor, by default; tests put a fake one in its
    /// place); the launch's `ready` waits for it.
    public var makeSandbox: @Sendable (PodSandbox.Options, Reactor) throws -> SandboxLaunch = { options, reactor in
        let launch = try PodSandbox.launch(options, reactor: reactor)
        return SandboxLaunch { try launch.ready() }
    }

    public init(config: PoddConfig, images: ImageStore, store: PodStore, events: EventRecorder, reactor: Reactor,
                cgroups: CgroupHierarchy?, monitorPath: String, logger: Logger,
                publish: @escaping @Sendable (String, Pod, Int, Int) -> Void) {
        self.config = config
        self.images = images
        pulls = ImagePulls(store: images, fetcher: nil)
        self.store = store
        self.events = events
        self.reactor = reactor
        self.cgroups = cgroups
        self.monitorPath = monitorPath
        self.logger = logger
        self.publish = publish
        node = Node(name: events.host, labels: Node.labels(hostname: events.host, machine: Self.machine(), extra: config.nodeLabels),
                    allocatable: NodeReport.allocatable(stateDir: config.stateDir))
    }

    /// uname's machine (x86_64, aarch64, ...).
    static func machine() -> String {
        var names = utsname()
        guard uname(&names) == 0 else { return "" }
        return withUnsafeBytes(of: &names.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

/// Runs one pod: creates its sandbox, feeds the lifecycle state machine with what the monitor,
/// the hooks and the probes report, and carries out the machine's actions (start, hooks,
/// signals, probes, wake, tear down). It decides nothing about the lifecycle itself.
/// An actor: monitor messages (read by one task, in the order the monitor sent them), timers
/// and API calls for the pod are handled one at a time.
public actor PodController {
    public nonisolated let uid: String
    /// Distinguishes this controller from an earlier one of the same pod (a replaced spec).
    public nonisolated let generation: Int
    public internal(set) var pod: Pod
    var lifecycle: PodLifecycle
    var sandbox: (any SandboxChannel)?
    /// Reads the current sandbox's messages, one after another.
    private var monitorLoop: Task<Void, Never>?
    let context: RuntimeContext
    let layout: PodLayout
    private var wakeTask: Task<Void, Never>?
    private var wakeAt: Timestamp?
    /// The sequence number of the last status published.
    private(set) var publishedSequence = 0
    /// Whether `publish` publishes now, or once a batch of the monitor's messages has been
    /// handled (`monitorSaid(_: [ControlMessage])`).
    enum Publishing: Equatable { case immediate, deferred(wanted: Bool) }
    private var publishing = Publishing.immediate
    var conditions = ConditionClock()
    /// Per container: the current run number (for log files) and container ID.
    var runs: [String: RunInfo] = [:]
    /// Which exits the OOM killer caused (Metrics/OOMKillTracker.swift).
    var oomKills = OOMKillTracker()
    /// Whether this pod's start (admit to every app container running) has been measured.
    var podStartMeasured = false
    var startTime: Timestamp?
    /// When this controller started the pod (`admit`): where its start-up latency counts from.
    private var admittedAt: Timestamp?
    private var terminalPhase: PodPhase?
    private(set) var gone = false
    /// Set once everything of the pod is gone from the machine (after `gone`).
    private var tornDownDone = false
    /// Deleted and torn down, but held by its finalizers: only its stored object is left,
    /// until an update removes the last of them (`updateMetadata`).
    private(set) var finalizing = false
    /// The teardown of a deleted pod kept its stored object, for the finalizers it had then.
    private var objectKept = false
    /// The pod's network namespace, for probes and hooks that connect to the pod.
    var netns: NetworkNamespace?
    /// Probe loops of each container's current run.
    var probeTasks: [String: [Task<Void, Never>]] = [:]
    private var keepState = false
    /// The recovery notes as last saved (PodController+Recovery.swift); nil before the first
    /// save.
    var savedRecoveryNotes: RecoveryNotes?
    /// The status as last written to status.json (`publish`).
    private var savedStatus: JSONValue?
    private var goneWaiters: [CheckedContinuation<Void, Never>] = []
    /// Image pulls of the containers (PodController+Images.swift).
    var containerImages = ContainerImages()
    /// The pod's addresses (its CNI result's), and the host's (PodController+Network.swift).
    var podIPs: [String] = []
    let hostIP: String? = HostAddress.current()
    /// Each container's environment as its current run got it (PodController+ConfigData.swift).
    var configuredEnvironments: [String: [String]] = [:]
    /// Each container's securityContext keys as its current run got them: an exec runs as its
    /// container, and taking them from here spares every exec resolving the user in the
    /// image's /etc/passwd and /etc/group again.
    var configuredSecurity: [String: [(String, String)]] = [:]
    /// The pod's local storage limits, and their periodic check (PodController+Eviction.swift).
    let storageLimits: EphemeralStorageLimits
    var storageWatch: Task<Void, Never>?

    struct RunInfo {
        var run: Int
        var containerID: String?
        var logPath: String?
        var imageID: String
        /// The container's image, normalised (status `image`).
        var image: String?
        /// When the spawn request went to the monitor (monotonic), for start-up timings.
        var sentAt: Double?
    }

    /// The controller of the spec this one replaces (PUT, apply, patch of the spec): it is
    /// still stopping when this one is made, and the pod's run dir, cgroup and stored state
    /// are shared with it until it is gone.
    private var predecessor: PodController?
    /// The pod's status as the predecessor last showed it: what this one shows until it is
    /// admitted, since until then the pod's containers are the old spec's, being stopped.
    private var inheritedStatus: PodStatus?
    /// Whether the pod runs on podd's node (NodeScheduling, decided by the registry, which
    /// knows the other pods): one that does not is never given a sandbox, and shows the
    /// scheduler's or kubelet's verdict. An unschedulable one may be bound later (`bind`).
    private var scheduling: NodeScheduling.Outcome
    /// The node this pod preempted others on while it waits (`nominate`).
    private var nominatedNode: String?

    /// `scheduling`: the registry's verdict; nil decides it from the pod and node alone.
    public init(pod: Pod, context: RuntimeContext, generation: Int, replacing predecessor: PodController? = nil,
                scheduling: NodeScheduling.Outcome? = nil) {
        let uid = pod.metadata.uid ?? ""
        self.uid = uid
        self.generation = generation
        self.predecessor = predecessor
        if predecessor != nil { inheritedStatus = pod.status }
        self.pod = pod
        self.context = context
        // A hostNetwork pod has the host's UTS namespace, so the host's name, as with kubelet.
        // An FQDN too long for the kernel fails the sandbox (makeSandbox), as with kubelet.
        let names = PodHostname(pod)
        let hostname = pod.spec.hostNetwork ? HostAddress.hostname() : (try? names.kernelName.get()) ?? names.hostname
        layout = PodLayout(uid: uid, namespace: pod.metadata.namespace, name: pod.metadata.name, hostname: hostname,
                           runDir: context.config.runDir, stateDir: context.config.stateDir)
        lifecycle = Self.makeLifecycle(pod, backoff: context.config.restartBackoff, now: RuntimeClock.now())
        self.scheduling = scheduling ?? NodeScheduling.outcome(pod, on: context.node, among: [])
        storageLimits = EphemeralStorageLimits(spec: pod.spec)
    }

    static func makeLifecycle(_ pod: Pod, backoff: RestartBackoff.Settings, now: Timestamp) -> PodLifecycle {
        var specs: [PodLifecycle.ContainerSpec] = []
        func thresholds(_ p: Probe?) -> PodLifecycle.ProbeThresholds? {
            p.map { .init(success: Int($0.successThreshold), failure: Int($0.failureThreshold), gracePeriod: $0.terminationGracePeriodSeconds) }
        }
        func spec(_ c: Container, _ role: PodLifecycle.Role) -> PodLifecycle.ContainerSpec {
            .init(name: c.name, role: role, startupProbe: thresholds(c.startupProbe), livenessProbe: thresholds(c.livenessProbe),
                  readinessProbe: thresholds(c.readinessProbe), hasPostStart: c.lifecycle?.postStart != nil,
                  hasPreStop: c.lifecycle?.preStop != nil)
        }
        for c in pod.spec.initContainers { specs.append(spec(c, c.restartPolicy == .always ? .sidecar : .initContainer)) }
        for c in pod.spec.containers { specs.append(spec(c, .app)) }
        let scope: PodLifecycle.RestartScope = pod.metadata.annotations["podd.io/restart-scope"] == "container" ? .container : .pod
        let policy = PodLifecycle.Policy(rawValue: pod.spec.restartPolicy.rawValue) ?? .always
        return PodLifecycle(podName: pod.metadata.name,
                            podRef: "\(pod.metadata.name)_\(pod.metadata.namespace)(\(pod.metadata.uid ?? ""))",
                            containers: specs, policy: policy, scope: scope,
                            gracePeriod: pod.spec.terminationGracePeriodSeconds, backoff: backoff, now: now)
    }

    // MARK: - Start

    /// Creates the sandbox (files, volumes, monitor) and starts the pod's first containers.
    /// `replaced`: the last status of the spec this one replaces, once its containers have
    /// stopped; the pod's history goes on from it (PodController+Replacement.swift).
    public func admit(replaced: PodStatus? = nil) {
        // Deleted while it waited for its turn (a replaced spec's, for the old one to stop):
        // nothing of it is to run. Bound and started already (`bind` came first): once only.
        guard !gone, admittedAt == nil else { return }
        predecessor = nil
        inheritedStatus = nil
        guard scheduling == .scheduled else { return refuseToRun() }
        if let replaced { continueHistory(from: replaced, now: RuntimeClock.now()) }
        let made = prepared ?? makeSandbox()
        prepared = nil
        let now = RuntimeClock.now()
        // The active deadline counts from the pod's first start, and status.startTime stays
        // it: a pod started afresh after a podd restart, or with a replaced spec, keeps the
        // time it had (kubelet keeps status.startTime).
        if startTime == nil { startTime = now }
        admittedAt = now
        armActiveDeadline(from: startTime ?? now)
        apply(lifecycle.handle(made, at: now))
    }

    /// activeDeadlineSeconds after `start`, the machine ends the pod (DeadlineExceeded).
    private func armActiveDeadline(from start: Timestamp) {
        lifecycle.activeDeadline = pod.spec.activeDeadlineSeconds.map { start.adding(seconds: Double($0)) }
    }

    /// Spawns built by `start` in the current batch of actions, not sent yet (`sendSpawns`).
    private var unsentSpawns: [(name: String, message: ControlMessage)] = []
    /// The containers `start` took in the current batch of actions: what follows each is set
    /// up ahead of its turn once the batch is sent (PodController+Staging.swift).
    var startedInBatch: [String] = []
    /// Containers the monitor holds set up, not started (PodController+Staging.swift).
    var heldSpawns: [String: HeldSpawn] = [:]

    /// What `prepare` made of the sandbox, for the `admit` that follows it.
    private var prepared: PodLifecycle.Event?

    /// Creates the pod's files and sandbox (monitor, namespaces, cgroup) without starting any
    /// container: a create does this while the pod's desired state is being stored, and then
    /// either `admit`s the pod (stored) or `abandon`s it (not stored).
    public func prepare() {
        guard scheduling == .scheduled else { return }
        if prepared == nil && sandbox == nil { prepared = makeSandbox() }
    }

    /// A pod that does not run on this node: told once, as the scheduler (FailedScheduling)
    /// or kubelet (its admission's reason) tells it, and published with that status (a gated
    /// pod, which the scheduler has not tried, silently).
    private func refuseToRun() {
        switch scheduling {
        case .scheduled: return
        case .gated: break  // as with the scheduler, which has not tried it: no event
        case let .unschedulable(message):
            record(type: "Warning", reason: "FailedScheduling", message: message, container: nil)
        case let .rejected(reason, message):
            record(type: "Warning", reason: reason, message: message, container: nil)
        }
        publish()
    }

    /// The scheduler placed the pod, left unschedulable until now, on the node `nodeName`
    /// names (the registry found it fits, the pods it depends on having changed, and stored
    /// the binding): it starts as a pod admitted now would.
    public func bind(to nodeName: String) {
        guard !gone, admittedAt == nil, case .unschedulable = scheduling else { return }
        pod.spec.nodeName = nodeName
        scheduling = .scheduled
        admit()
    }

    /// The node this waiting pod preempted pods on, and waits for (status.nominatedNodeName).
    public func nominate(_ nodeName: String) {
        guard !gone, case .unschedulable = scheduling, nominatedNode != nodeName else { return }
        nominatedNode = nodeName
        publish()
    }

    /// The scheduler tried the waiting pod again and it still does not fit: when the reason
    /// has changed, the pod's condition and a new FailedScheduling event say the new one.
    public func stillUnschedulable(_ message: String) {
        guard !gone, case let .unschedulable(old) = scheduling, old != message else { return }
        scheduling = .unschedulable(message: message)
        refuseToRun()
    }

    /// The pod could not be stored: what `prepare` made (monitor, cgroup, files) goes, and
    /// this returns once it has.
    public func abandon() async {
        prepared = nil
        teardown()
        await waitUntilGone()
    }

    /// Creates the pod's files and sandbox; says how that went, for the machine (which
    /// starts the pod, or asks again later).
    private func makeSandbox() -> PodLifecycle.Event {
        let t0 = RuntimeClock.monotonic()
        heldSpawns = [:]   // held by a monitor that is gone
        do {
            try prepareFiles()
            let t1 = RuntimeClock.monotonic()
            // kubelet's size for a memory-backed emptyDir (SizeMemoryBackedVolumes): the pod's
            // memory limit, else the machine's memory, and sizeLimit when smaller; not the
            // kernel's default of half the memory, which a pod limited to 64Mi would see.
            let podMemory = CgroupLimits.pod(pod.spec, pidsLimit: -1).memoryBytes ?? ContainerSecurity.memoryCapacity
            let tmpfs = pod.spec.volumes.compactMap { v -> (String, Int64)? in
                guard case let .emptyDir(e) = v.source, e.medium == .memory else { return nil }
                let limit = e.sizeLimit?.value ?? 0
                return (layout.volumeSource(v), limit > 0 ? min(limit, podMemory) : podMemory)
            }
            var options = PodSandbox.Options(monitorPath: context.monitorPath, uid: uid, runDirectory: layout.runDirectory,
                                             hostname: layout.hostname, sharePID: pod.spec.shareProcessNamespace,
                                             cgroups: context.cgroups, tmpfs: tmpfs)
            options.hostIPC = pod.spec.hostIPC
            options.seccompCache = context.config.runDir + "/seccomp"
            options.sysctls = (pod.spec.securityContext?.sysctls ?? []).map { "\(SecurityContextValidation.normalizedSysctl($0.name))=\($0.value)" }
            options.fsGroup = pod.spec.securityContext?.fsGroup
            if pod.spec.hostUsers == false {
                options.userNamespaces = context.config.userNamespaces
                options.sysctls = UserNamespaceRanges.networkSysctls(besides: pod.spec.securityContext?.sysctls ?? []) + options.sysctls
            }
            options.hostNetwork = pod.spec.hostNetwork
            options.limits = CgroupLimits.pod(pod.spec, pidsLimit: context.config.podPidsLimit)
            let launch = try context.makeSandbox(options, context.reactor)
            // While the monitor makes the pod's namespaces (a few milliseconds), the first
            // containers' spawns are built; without it they would be built after.
            buildEarlySpawns()
            let sandbox: any SandboxChannel
            do { sandbox = try launch.ready() } catch {
                earlySpawns = [:]
                throw error
            }
            try attach(sandbox)
            do throws(CNIError) { try setUpNetwork(monitorPID: sandbox.monitorPID) } catch {
                // Nothing of the network is left (attach undoes itself); the sandbox goes too,
                // and the machine tries again later.
                monitorLoop?.cancel()
                self.sandbox = nil
                netns = nil
                sandbox.shutdown()
                throw error
            }
            if let e = sandbox.cgroupError {
                context.logger.error("pod \(pod.metadata.namespace)/\(pod.metadata.name): no cgroup of its own: \(e)")
                record(type: "Warning", reason: "FailedCgroup",
                       message: "Failed to create the pod's cgroup (\(e)): the pod runs without one (no resource accounting; its processes are found through its monitor only)", container: nil)
            }
            for problem in (sandbox as? PodSandbox)?.limitProblems ?? [] {
                context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): limit not set: \(problem)")
            }
            context.logger.debug("pod \(pod.metadata.name): files \(Int((t1 - t0) * 1e6)) us, sandbox \(Int((RuntimeClock.monotonic() - t1) * 1e6)) us")
            return .admit
        } catch {
            context.logger.error("pod \(pod.metadata.namespace)/\(pod.metadata.name): sandbox failed: \(error)")
            return .sandboxFailed(message: "\(error)")
        }
    }

    /// Takes `sandbox` as the pod's, and reads its messages in one task, one after another:
    /// each is handled before the next is read, so "exited" never overtakes "started". When
    /// the monitor cannot be listened to, the sandbox is shut down and the error thrown (an
    /// unheard pod is worse than none).
    func attach(_ sandbox: any SandboxChannel) throws(OSError) {
        let messages: AsyncStream<[ControlMessage]>
        do throws(OSError) { messages = try sandbox.messages() } catch {
            sandbox.shutdown()
            throw OSError("listen to the pod's monitor: \(error.stage)", code: error.code)
        }
        self.sandbox = sandbox
        netns = NetworkNamespace(monitorPID: sandbox.monitorPID)
        monitorLoop?.cancel()
        monitorLoop = Task { [weak self] in
            for await batch in messages {
                guard let self else { return }
                await self.monitorSaid(batch)
            }
            guard !Task.isCancelled else { return }
            await self?.monitorLost(sandbox)
        }
    }

    private func prepareFiles() throws {
        if !pod.spec.hostNetwork, case let .failure(tooLong) = PodHostname(pod).kernelName { throw tooLong }
        // The run dir's only: the monitor starts once these are there, and the containers'
        // dirs on the state dir's disk (writable layers, logs) are made as their spawns are
        // built, while the monitor makes the pod's namespaces (ContainerLaunch.message).
        for d in [layout.runDirectory + "/etc", layout.shmDirectory] {
            try FileSystem.makeDirectories(d, mode: 0o755)
        }
        chmod(layout.shmDirectory, 0o1777)
        try writeNetworkFiles()
        for v in pod.spec.volumes {
            switch v.source {
            case .emptyDir:
                let dir = layout.volumeSource(v)
                try FileSystem.makeDirectories(dir, mode: 0o777)
                chmod(dir, 0o777)   // emptyDir is world-writable, as on Kubernetes
                if let gid = pod.spec.securityContext?.fsGroup {
                    try VolumeOwnership.apply(dir, gid: gid, policy: pod.spec.securityContext?.fsGroupChangePolicy)
                }
            case let .hostPath(h):
                // Again here, and before anything is made: a symlink in the path may have
                // changed since admission (a pod can write one into a directory another pod
                // mounts), and a stored pod was admitted under an older config.
                if let why = HostPathPolicy(config: context.config).refusal(h.path) {
                    throw HostPathCheck.Failure(description: "hostPath volume \(v.name) refused: \(why)")
                }
                try HostPathCheck.prepare(h, resolved: HostPathPolicy.resolve(h.path))
            case .configMap, .secret, .projected, .downwardAPI:
                break   // written when a container that mounts it starts (PodController+ConfigData.swift)
            }
        }
    }

    // MARK: - Monitor messages

    /// The monitor's connection ended without podd closing it: the monitor died, and the
    /// containers with it. The machine decides what follows.
    private func monitorLost(_ lost: any SandboxChannel) {
        guard let current = sandbox, current === lost, !gone else { return }
        context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): monitor exited")
        lost.reapExited()
        sandbox = nil
        heldSpawns = [:]
        netns = nil
        releaseSandboxNetwork()
        apply(lifecycle.handle(.sandboxLost, at: RuntimeClock.now()))
    }

    /// Messages the monitor sent together: each is handled in order, and what they changed is
    /// published once, after the last (a container's start and exit said at once, the starts
    /// of one batch of spawns). Watchers see the pod as it is after them.
    func monitorSaid(_ batch: [ControlMessage]) {
        guard batch.count > 1 else {
            if let message = batch.first { monitorSaid(message) }
            return
        }
        publishing = .deferred(wanted: false)
        for message in batch where !gone { monitorSaid(message) }
        let wanted = publishing == .deferred(wanted: true)
        publishing = .immediate
        if wanted && !gone { publish() }
    }

    func monitorSaid(_ message: ControlMessage) {
        let now = RuntimeClock.now()
        guard let name = message["name"] else {
            monitorSaidOther(message)
            return
        }
        switch message.op {
        case "started":
            let id = runs[name]?.containerID ?? ""
            if let sent = runs[name]?.sentAt {
                context.logger.debug("pod \(pod.metadata.name): container \(name) started \(Int((RuntimeClock.monotonic() - sent) * 1e6)) us after spawn was sent")
            }
            apply(lifecycle.handle(.started(name, containerID: id), at: message.timestamp("startedAt") ?? now))
        case "failed":
            // A held container that could not be set up ahead of its turn: `start` spawns it
            // anew when its turn comes, and the machine hears that start's outcome.
            if heldSpawns.removeValue(forKey: name) != nil {
                context.logger.debug("pod \(pod.metadata.name): container \(name) not set up ahead: \(message["message"] ?? "")")
                return
            }
            let stage = message["stage"] ?? "start"
            let errnoText = message.int("errno").map { String(cString: strerror(Int32($0))) } ?? ""
            let detail = message["message"].flatMap { $0.isEmpty ? nil : $0 } ?? errnoText
            apply(lifecycle.handle(.startFailed(name, reason: "StartError",
                                                message: "failed to start container \"\(name)\": \(stage): \(detail)",
                                                terminated: true), at: now))
        case "exited":
            if let end = message.timestamp("finishedAt") {
                context.logger.trace("pod \(pod.metadata.name): container \(name) exit reported \(Int(now.seconds(since: end) * 1e6)) us after it ended")
            }
            let (exitCode, signal) = (Int32(message.int("exitCode") ?? 255), Int32(message.int("signal") ?? 0))
            let oomKilled = oomKills.killed(container: name, uid: uid, cgroups: context.cgroups, exitCode: exitCode, signal: signal)
            // Forgotten before the machine decides: a restart it orders at once sends a spawn
            // of the same name, and a forget sent after that would be about the new run.
            try? sandbox?.send(ControlMessage.forget(name))
            apply(lifecycle.handle(.exited(name, exitCode: exitCode, signal: signal,
                                           startedAt: message.timestamp("startedAt"),
                                           finishedAt: message.timestamp("finishedAt") ?? now,
                                           oomKilled: oomKilled, message: terminationMessage(name, exitCode: exitCode)), at: now))
            exitHandled(name, exitCode: exitCode, signal: signal)
        default:
            monitorSaidOther(message)
        }
    }

    // MARK: - Actions

    /// Carries out the machine's actions in order. What an action's execution reports back
    /// (a start that could not be made, a hook with nothing to run) goes to the machine at
    /// once, and its actions join the queue.
    func apply(_ actions: [PodLifecycle.Action]) {
        var queue = actions[...]
        while true {
            guard let action = queue.popFirst() else {
                // The spawns of this batch go out together; a send that failed is reported
                // to the machine, whose actions join the queue.
                let failures = sendSpawns()
                if failures.isEmpty || gone { break }
                for failure in failures { queue += lifecycle.handle(failure, at: RuntimeClock.now()) }
                continue
            }
            if gone { break }
            if case .start = action {} else if !unsentSpawns.isEmpty {
                // Whatever else the machine asked for reaches the monitor after the spawns
                // before it, in order.
                for failure in sendSpawns() { queue += lifecycle.handle(failure, at: RuntimeClock.now()) }
            }
            var reply: PodLifecycle.Event?
            switch action {
            case let .start(name): reply = start(name)
            case let .runPostStart(name): reply = runHook(.postStart, container: name)
            case let .runPreStop(name):
                // Noted before it runs: a podd restarted meanwhile does not run it again.
                saveRecoveryNotes()
                reply = runHook(.preStop, container: name)
            case let .terminate(name): sendSignal(name, SIGTERM)
            case let .kill(name): sendSignal(name, SIGKILL)
            case let .probes(name, kinds): runProbes(name, kinds)
            case .recreateSandbox: reply = makeSandbox()
            case let .wake(at): schedule(at)
            case let .event(type, reason, message, container):
                record(type: type, reason: reason, message: message, container: container)
            case .stopped:
                teardown()
                return
            }
            if let reply { queue += lifecycle.handle(reply, at: RuntimeClock.now()) }
        }
        unsentSpawns = []
        earlySpawns = [:]
        stageFollowers()
        watchStorage()
        publish()
    }

    /// Sends the spawns `start` built, in order, and says "Created" for each; returns what
    /// the machine must hear about those that could not be sent.
    private func sendSpawns() -> [PodLifecycle.Event] {
        let spawns = unsentSpawns
        unsentSpawns = []
        var failures: [PodLifecycle.Event] = []
        for (name, message) in spawns {
            do throws(OSError) {
                guard let sandbox else { throw OSError("send to the pod's monitor (gone)", code: ESRCH) }
                try sandbox.send(message)
                record(type: "Normal", reason: "Created", message: "Created container \(name)", container: name)
            } catch {
                failures.append(.startFailed(name, reason: "CreateContainerError", message: "container \(name): \(error)",
                                             terminated: true))
            }
        }
        return failures
    }

    /// Sends the container's spawn to the monitor; returns what the machine must hear when
    /// it cannot be sent.
    private func start(_ name: String) -> PodLifecycle.Event? {
        guard let def = definition(name) else {
            return .startFailed(name, reason: "CreateContainerError", message: "container \(name) is not in the pod's spec",
                                terminated: false)
        }
        guard sandbox != nil else {
            return .startFailed(name, reason: "CreateContainerError", message: "the pod sandbox is not running", terminated: false)
        }
        switch imageReadiness(name, def) {
        case .ready: break
        case .pulling: return nil
        case let .refused(event): return event
        }
        let run = (runs[name]?.run ?? -1) + 1
        let build: SpawnBuild
        if let held = releaseHeld(name, def, run: run) {
            build = held
        } else if let early = earlySpawns.removeValue(forKey: name), early.run == run {
            build = early
        } else {
            build = buildSpawn(name, def, run: run)
        }
        startedInBatch.append(name)
        runs[name] = RunInfo(run: run, containerID: build.containerID, logPath: nil, imageID: build.imageID, image: build.image)
        switch build.outcome {
        case let .refused(event):
            return event
        case let .built(message, logPath):
            runs[name]?.logPath = logPath
            // Keep this run's log and the one before it (for `logs --previous`), as kubelet does.
            if run >= 2 { unlink(layout.logPath(container: name, run: run - 2)) }
            runs[name]?.sentAt = RuntimeClock.monotonic()
            context.logger.trace("pod \(pod.metadata.name): spawn \(name) sent")
            // Sent with the other starts of this batch (sendSpawns): the monitor sets up
            // the containers of one batch side by side.
            unsentSpawns.append((name, message))
            return nil
        }
    }

    /// A container's spawn for one run, built (`built`: the message and the run's log) or
    /// refused (what the machine must hear), with the run's identity either way.
    struct SpawnBuild {
        enum Outcome {
            case built(ControlMessage, logPath: String)
            case refused(PodLifecycle.Event)
        }
        var run: Int
        var containerID: String
        var imageID: String
        var image: String?
        var outcome: Outcome
    }

    /// Spawns built while the pod's monitor was starting (`buildEarlySpawns`), by container:
    /// `start` takes one when it is for the run being started. Those the batch of actions
    /// after the sandbox does not take are dropped (`apply`).
    private var earlySpawns: [String: SpawnBuild] = [:]

    /// Builds the spawns of the containers a fresh sandbox starts first (the first init
    /// container, else every app container): their ConfigMaps and Secrets read, their
    /// directories made, their messages written, while the monitor sets up the pod's
    /// namespaces rather than after. The machine still decides what starts (`start`).
    private func buildEarlySpawns() {
        let first = pod.spec.initContainers.first.map { [$0.name] } ?? pod.spec.containers.map(\.name)
        for name in first {
            guard let def = definition(name), let image = ImageName.parsed(def.image),
                  context.images.resolve(image) != nil else { continue }
            let build = buildSpawn(name, def, run: (runs[name]?.run ?? -1) + 1)
            // A refusal is not kept: `start` says it at its own time (after the image checks).
            if case .built = build.outcome { earlySpawns[name] = build }
        }
    }

    /// The spawn of run `run` of container `name`: its environment (ConfigMaps and Secrets
    /// read, their volumes written), writable layer and log directory made, limits prepared.
    func buildSpawn(_ name: String, _ def: ContainerDefinition, run: Int) -> SpawnBuild {
        let containerID = "podd://" + ImageStore.randomHex(32)
        let resolved = ImageName.parsed(def.image).flatMap { context.images.resolveForStatus($0) }
        return SpawnBuild(run: run, containerID: containerID, imageID: resolved?.imageID ?? "", image: resolved?.name.description,
                          outcome: spawnOutcome(name, def, run: run, containerID: containerID))
    }

    /// `buildSpawn`'s message, or what the machine must hear instead.
    private func spawnOutcome(_ name: String, _ def: ContainerDefinition, run: Int, containerID: String) -> SpawnBuild.Outcome {
        let pidns: String
        if let eph = pod.spec.ephemeralContainers.first(where: { $0.name == name }), let target = eph.targetContainerName {
            pidns = "container:" + target
        } else {
            pidns = pod.spec.hostPID ? "host" : pod.spec.shareProcessNamespace ? "pod" : "own"
        }
        let environment: [String]
        do { environment = try prepareConfiguration(def) } catch {
            return .refused(.startFailed(name, reason: PodLifecycle.configErrorReason, message: error.message, terminated: false))
        }
        do {
            var (message, logPath, security) = try ContainerLaunch(pod: pod, layout: layout, images: context.images, logs: context.config.logs,
                                                         security: context.config.security, stateDir: context.config.stateDir,
                                                         hostPaths: HostPathPolicy(config: context.config))
                .message(for: def, run: run, pidNamespace: pidns, containerID: containerID, environment: environment)
            let limits = CgroupLimits.container(containerResources(name), podLevel: pod.spec.resources)
            for problem in context.cgroups?.prepareContainer(uid: uid, name: name, limits: limits) ?? [] {
                context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): container \(name): limit not set: \(problem)")
            }
            for (file, value) in context.cgroups?.containerSettingsV2(limits) ?? [] {
                message.append("cgroup.set", file + "=" + value)
            }
            configuredSecurity[name] = security
            return .built(message, logPath: logPath)
        } catch {
            let event: PodLifecycle.Event
            switch error {
            case let .imageMissing(image):
                event = Self.neverPulled(name, image: image)
            case .noCommand:
                event = .startFailed(name, reason: "CreateContainerError", message: "container \(name): no command specified",
                                     terminated: true)
            case let .io(err):
                event = .startFailed(name, reason: "CreateContainerError", message: "container \(name): \(err)", terminated: true)
            case let .securityConfig(why):
                event = .startFailed(name, reason: "CreateContainerConfigError", message: why, terminated: false)
            case let .securityProfile(why):
                event = .startFailed(name, reason: "CreateContainerError", message: why, terminated: false)
            }
            return .refused(event)
        }
    }

    /// An app or init container's resources (ephemeral containers have none).
    private func containerResources(_ name: String) -> ResourceRequirements {
        (pod.spec.containers + pod.spec.initContainers).first { $0.name == name }?.resources ?? ResourceRequirements()
    }

    func definition(_ name: String) -> ContainerDefinition? {
        if let c = pod.spec.containers.first(where: { $0.name == name }) { return ContainerDefinition(c) }
        if let c = pod.spec.initContainers.first(where: { $0.name == name }) { return ContainerDefinition(c) }
        if let c = pod.spec.ephemeralContainers.first(where: { $0.name == name }) { return ContainerDefinition(c.common) }
        return nil
    }

    private func schedule(_ at: Timestamp) {
        if let current = wakeAt, current <= at, wakeTask != nil, current > RuntimeClock.now() { return }
        wakeTask?.cancel()
        wakeAt = at
        let delay = max(0, at.seconds(since: RuntimeClock.now()))
        wakeTask = Task { [weak self] in
            try? await Task.sleep(for: .milliseconds(Int64((delay * 1000).rounded(.up))))
            guard !Task.isCancelled else { return }
            await self?.tick()
        }
    }

    private func tick() {
        wakeTask = nil
        wakeAt = nil
        apply(lifecycle.handle(.tick, at: RuntimeClock.now()))
    }

    func record(type: String, reason: String, message: String, container: String?) {
        let pod = self.pod
        let events = context.events
        let uid = self.uid
        let now = RuntimeClock.now()
        let fieldPath = container.map { name in
            if pod.spec.initContainers.contains(where: { $0.name == name }) { return "spec.initContainers{\(name)}" }
            if pod.spec.ephemeralContainers.contains(where: { $0.name == name }) { return "spec.ephemeralContainers{\(name)}" }
            return "spec.containers{\(name)}"
        }
        // Each after the one before: tasks of their own may run in any order, and kubectl
        // lists events of the same second in the order they were recorded.
        let previous = lastEvent
        lastEvent = Task {
            await previous?.value
            await events.record(namespace: pod.metadata.namespace, pod: pod.metadata.name, uid: uid, fieldPath: fieldPath,
                                type: type, reason: reason, message: message, at: now)
        }
    }

    /// The recording of the pod's latest event (`record`).
    private var lastEvent: Task<Void, Never>?

    // MARK: - Status

    func publish() {
        if case .deferred = publishing {
            publishing = .deferred(wanted: true)
            return
        }
        let snapshot = current()
        if !podStartMeasured, let admittedAt, !snapshot.status.containerStatuses.isEmpty,
           snapshot.status.containerStatuses.allSatisfy({ $0.state.running != nil }) {
            podStartMeasured = true
            LatencyHistogram.podStart.observe(RuntimeClock.now().seconds(since: admittedAt))
        }
        // Announced before it is written: the files are what a restarted podd starts from,
        // and a client waiting for this change (podctl debug, a watch) should not wait for
        // the disk as well: where a rewrite frees the old file's blocks, that can be a
        // synchronous discard of several milliseconds. A crash between the two loses no more
        // than a crash just before this call would: the monitor still has the containers.
        // Except when the recovery notes change (a backoff or a pod restart now pending, a
        // preStop run): the monitor does not know those, so they are written first. Shown
        // first, a podd killed in between came back without them and restarted at once a
        // container the API had shown waiting out its backoff.
        let notes = RecoveryNotes(lifecycle)
        let notesFirst = notes != savedRecoveryNotes ?? RecoveryNotes()
        if notesFirst {
            saveStatus(snapshot)
            saveRecoveryNotes(notes)
        }
        announce("MODIFIED", snapshot)
        if !notesFirst {
            saveStatus(snapshot)
            saveRecoveryNotes(notes)
        }
        // A pod that has ended (Succeeded, Failed) runs nothing again: its network goes now,
        // as kubelet stops a terminal pod's sandbox, so that its address and hostPorts serve
        // other pods. The status keeps the address it had, as on Kubernetes.
        if terminalPhase != nil { releaseSandboxNetwork() }
    }

    /// Writes the pod's status checkpoint when it changed: a wake-up or probe result that
    /// changes nothing would otherwise replace the file (a new inode, the old one freed) for
    /// the same bytes.
    private func saveStatus(_ snapshot: Pod) {
        let status = snapshot.status.json
        guard status != savedStatus else { return }
        context.store.saveStatus(uid: uid, status)
        savedStatus = status
    }

    /// Hands a snapshot of the pod to the registry, numbered.
    func announce(_ type: String, _ snapshot: Pod) {
        publishedSequence += 1
        context.publish(type, snapshot, generation, publishedSequence)
    }

    /// The pod with its current status.
    public func current() -> Pod {
        var p = pod
        if admittedAt == nil, let inheritedStatus {
            p.status = inheritedStatus
            return p
        }
        if let refused = NodeScheduling.status(scheduling, spec: pod.spec, since: pod.metadata.creationTimestamp ?? RuntimeClock.now()) {
            p.status = refused
            p.status.nominatedNodeName = nominatedNode
            p.status.conditions += externalConditions
            return p
        }
        let status = PodStatusBuilder.build(spec: pod.spec, lifecycle: lifecycle, startTime: startTime,
                                            imageIDs: runs.mapValues(\.imageID), images: runs.compactMapValues(\.image), conditions: &conditions,
                                            terminalPhase: &terminalPhase, now: RuntimeClock.now(), external: externalConditions)
        p.status = status
        (p.status.podIP, p.status.hostIP) = networkAddresses()
        // Deleted and stopped, held by its finalizers: terminal, as kubelet makes such a pod,
        // Succeeded when every app container exited 0, else Failed.
        if finalizing && p.status.phase != .succeeded && p.status.phase != .failed {
            p.status.phase = p.status.containerStatuses.allSatisfy { $0.state.terminated?.exitCode == 0 } ? .succeeded : .failed
        }
        return p
    }

    /// The log file of a container's current run (or the one before, `previous`).
    public func logFile(container: String, previous: Bool) -> (path: String, running: Bool)? {
        guard let info = runs[container] else { return nil }
        let run = previous ? info.run - 1 : info.run
        guard run >= 0 else { return nil }
        let running = !previous && (lifecycle.container(container)?.isRunning ?? false)
        return (layout.logPath(container: container, run: run), running)
    }

    public func isRunning(container: String) -> Bool { lifecycle.container(container)?.isRunning ?? false }

    /// Whether `logPath` is the log of the container's run in progress (`logs -f` stops
    /// following when the run ends or a new run starts).
    public func isCurrentRun(container: String, logPath: String) -> Bool {
        guard !gone, let info = runs[container], layout.logPath(container: container, run: info.run) == logPath else { return false }
        return isRunning(container: container)
    }

    /// The conditions controllers set through the pod's status (readiness gates among them),
    /// shown after kubelet's own.
    private var externalConditions: [PodCondition] = []

    /// Takes the conditions a status update set (the registry has stored them): the pod is
    /// published with them, its Ready condition weighing its readiness gates again.
    public func setExternalConditions(_ conditions: [PodCondition]) -> (pod: Pod, sequence: Int) {
        externalConditions = conditions
        publish()
        return (current(), publishedSequence)
    }

    /// The conditions an earlier podd stored for the pod (recovery).
    public func restoreExternalConditions(_ conditions: [PodCondition]) { externalConditions = conditions }

    /// Labels and annotations changed (the spec did not): nothing to restart. Published like
    /// every change, and returned with the sequence number it was published with, so that
    /// the registry orders it with this controller's other snapshots (one published before
    /// it, with the old metadata, must not overwrite it).
    @discardableResult
    public func updateMetadata(_ metadata: ObjectMeta) -> (pod: Pod, sequence: Int) {
        pod.metadata = metadata
        if finalizing {
            // Nothing runs any more: the object alone changes, and goes with its last finalizer.
            announce("MODIFIED", current())
            let result = (current(), publishedSequence)
            if !pod.metadata.holdsDeletion { removeFinalizedPod() }
            return result
        }
        giveUpChained()
        metadataChanged()
        publish()
        return (current(), publishedSequence)
    }

    /// Takes over a pod stored by an earlier podd (PodController+Recovery.swift). When its
    /// monitor survived, the pod is re-adopted as it runs: nothing is restarted, counts and
    /// logs continue. Otherwise what is left of it goes and it starts afresh, its restart
    /// counts carried over (a finished pod stays finished).
    public func recover() {
        let now = RuntimeClock.now()
        let checkpoint = loadCheckpoint()
        startTime = checkpoint?.startTime ?? now
        armActiveDeadline(from: startTime ?? now)
        if let phase = checkpoint?.phase, phase.isTerminal { terminalPhase = phase }
        if let checkpoint { conditions.seed(from: checkpoint.conditions) }
        // A deletion answered before podd stopped goes on, with the time it has left.
        let deletion = pod.metadata.deletionTimestamp
        if let adoption = reconnectMonitor() {
            do throws(OSError) {
                try attach(adoption.sandbox)
                resumeNetwork(monitorPID: adoption.sandbox.monitorPID)
                resume(adoption, checkpoint: checkpoint, deletion: deletion, now: now)
                return
            } catch {
                context.logger.error("pod \(pod.metadata.namespace)/\(pod.metadata.name): not re-adopted, started afresh: \(error)")
                record(type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to re-adopt the pod's sandbox: \(error)", container: nil)
            }
        }
        discardLeftovers(checkpoint: checkpoint, now: now)
        if let deletion {
            // Nothing of the pod runs any more: it goes now.
            apply(lifecycle.handle(.delete(deadline: deletion), at: now))
            return
        }
        publish()
        // A pod that gets no new sandbox (finished before, or now for want of its lost
        // containers) would keep its lost sandbox's network: it goes after recovery, as a
        // fresh start's ADD releases it first.
        guard terminalPhase == nil else {
            Task(priority: .utility) { if !self.gone { self.releaseSandboxNetwork() } }
            return
        }
        // A fresh start costs a sandbox (a few ms) per pod: it follows recovery, so that podd
        // is ready once every pod is back in its hands, not once every pod has started.
        Task(priority: .utility) {
            if self.lifecycle.stage == .created && !self.gone { self.admit() } else if !self.gone { self.releaseSandboxNetwork() }
        }
    }

    // MARK: - Stop

    /// Deletes the pod: graceful termination (idempotent), answered with the pod as it now is.
    /// A later call with a shorter grace period shortens a deletion in progress, as the API
    /// server does: deletionGracePeriodSeconds becomes the shorter one, deletionTimestamp
    /// moves earlier by the difference; a longer one changes nothing.
    /// The deletion is stored (fsynced) before anything changes, so that a podd restarted
    /// meanwhile carries it on instead of running the pod again; when it cannot be stored
    /// (a full disk) nothing changes and the deletion is refused.
    public func delete(gracePeriod: Int64?) throws(RuntimeError) -> Pod {
        guard !gone else { return current() }
        guard let (marked, deadline) = markDeletion(gracePeriod: gracePeriod, now: RuntimeClock.now()) else { return current() }
        if !keepState {
            do throws(OSError) { try storeDeletion(marked) } catch {
                context.logger.error("pod \(pod.metadata.namespace)/\(pod.metadata.name): cannot store its deletion: \(error)")
                throw .insufficientStorage(what: "cannot store the deletion of pod \"\(pod.metadata.name)\"", reason: "\(error)")
            }
        }
        pod = marked
        apply(lifecycle.handle(.delete(deadline: deadline), at: RuntimeClock.now()))
        return current()
    }

    /// Stores the pod marked for deletion. A full state dir is often why a pod is deleted,
    /// and its own logs what filled it (a container writing without pause): they are then
    /// emptied, the pod being on its way out, and the store tried again; without that, the
    /// pod could not be deleted, and went on filling the disk.
    private func storeDeletion(_ marked: Pod) throws(OSError) {
        do throws(OSError) { try context.store.save(marked) } catch {
            guard error.code == ENOSPC, Self.emptyFiles(under: layout.logDirectory) > 0 else { throw error }
            context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): the state dir is full: its logs were emptied to store its deletion")
            try context.store.save(marked)
        }
    }

    /// Truncates every file under `directory` (the monitor appends to its logs, so it goes on
    /// writing at their new end); returns the bytes freed.
    static func emptyFiles(under directory: String) -> Int64 {
        var freed: Int64 = 0
        for name in FileSystem.listDirectory(directory) {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0 else { continue }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                freed += emptyFiles(under: path)
            } else if (st.st_mode & S_IFMT) == S_IFREG, st.st_size > 0, truncate(path, 0) == 0 {
                freed += Int64(st.st_size)
            }
        }
        return freed
    }

    /// Stops the pod because its spec is being replaced: its stored state, volumes and events
    /// stay for the controller of the new spec, so nothing is written here.
    public func stopForReplacement(gracePeriod: Int64) {
        guard !gone, pod.metadata.deletionTimestamp == nil,
              let (marked, deadline) = markDeletion(gracePeriod: gracePeriod, now: RuntimeClock.now()) else { return }
        keepState = true
        pod = marked
        apply(lifecycle.handle(.replace(deadline: deadline), at: RuntimeClock.now()))
    }

    /// The pod with its deletion marked and the machine's deadline, or nil when a deletion in
    /// progress is not shortened by `gracePeriod`.
    private func markDeletion(gracePeriod: Int64?, now: Timestamp) -> (Pod, Timestamp)? {
        var marked = pod
        let deadline: Timestamp
        if let since = pod.metadata.deletionTimestamp {
            guard let grace = gracePeriod, let granted = pod.metadata.deletionGracePeriodSeconds, grace < granted else {
                return nil
            }
            let shortened = since.adding(seconds: Double(grace - granted))
            marked.metadata.deletionTimestamp = shortened
            marked.metadata.deletionGracePeriodSeconds = grace
            // Never later than the new grace period from now (deletionTimestamp is rounded up).
            deadline = min(shortened, now.adding(seconds: Double(grace)))
        } else {
            let grace = gracePeriod ?? pod.spec.terminationGracePeriodSeconds
            deadline = now.adding(seconds: Double(grace))
            // Whole seconds, as it is stored and shown, rounded up: a restarted podd, which
            // takes it as the deadline, never cuts the grace period short.
            marked.metadata.deletionTimestamp = Timestamp(seconds: deadline.seconds + (deadline.nanoseconds > 0 ? 1 : 0))
            marked.metadata.deletionGracePeriodSeconds = grace
            // The garbage collector's finalizers are done at once: podd's pods have no dependents.
            marked.metadata.finishCollectorFinalizers()
        }
        return (marked, deadline)
    }

    /// Returns once the pod is torn down.
    public func waitUntilGone() async {
        if tornDownDone { return }
        await withCheckedContinuation { goneWaiters.append($0) }
    }

    private func teardown() {
        guard !gone else { return }
        gone = true
        wakeTask?.cancel()
        storageWatch?.cancel()
        monitorLoop?.cancel()
        for name in probeTasks.keys { stopProbes(name) }
        cancelImageWaits()
        let sandbox = self.sandbox
        self.sandbox = nil
        heldSpawns = [:]   // the monitor's shutdown gives them up
        // A replaced spec (keepState) keeps the pod's stored state, volumes and logs (the new
        // spec's runs go on from them: `logs --previous`); its containers are new ones, so
        // their writable layers go.
        let dirs = keepState ? [layout.stateDirectory + "/containers"] : [layout.logDirectory]
        let runDirectory = layout.runDirectory
        let (store, logger, uid, keepState) = (context.store, context.logger, self.uid, self.keepState)
        // A deleted pod its finalizers hold keeps its stored object (tornDown).
        objectKept = !keepState && pod.metadata.deletionTimestamp != nil && pod.metadata.holdsDeletion
        let keepObject = keepState || objectKept
        let groups = context.cgroups
        let (network, names, podKey) = (context.network, context.podNames, "\(pod.metadata.namespace)/\(pod.metadata.name)")
        // Shutting the monitor down waits for it (and for the cgroup to empty), and removing
        // the pod's files may take a while: neither holds a thread of the cooperative pool.
        let predecessor = self.predecessor
        self.predecessor = nil
        Task {
            // A pod deleted before its new spec ran: the old spec's monitor still runs in the
            // pod's cgroup and run dir, which go only once it has stopped.
            if let predecessor {
                await predecessor.waitUntilGone()
                // Never admitted, so what this one shows is the old spec's status: as it
                // ended (a spec replaced again before it ran goes on from that).
                if self.admittedAt == nil { self.inheritedStatus = await predecessor.current().status }
            }
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                DetachedThread.run {
                    // DEL while the pod's namespace is there (its pin keeps it past the monitor).
                    Self.tearDownNetwork(uid: uid, network: network, names: names, logger: logger, pod: podKey)
                    sandbox?.shutdown(removingGroups: false)
                    // The run dir is emptied now and removed after the cgroups: while it is
                    // there, a podd killed in between finds the pod's groups beside it at its
                    // next start (PodLeftovers) and removes them; without it, a group alone
                    // says nothing of whose it is, and would stay.
                    do { try FileSystem.removeContents(runDirectory) } catch { logger.error("emptying \(runDirectory): \(error)") }
                    for dir in dirs {
                        do { try FileSystem.removeTree(dir) } catch { logger.error("removing \(dir): \(error)") }
                    }
                    if !keepObject {
                        do { try store.remove(uid: uid) } catch { logger.error("removing pod state \(uid): \(error)") }
                    }
                    // The cgroups after the files (and also when the monitor died while the
                    // pod was stopping, leaving them to no one else): a v1 memory group is
                    // emptied before it is removed, which would first write back the dirty
                    // pages of the pod's writable layers and volumes (0.4 s for 300 MB here);
                    // with the files removed those pages are dropped instead.
                    if let groups {
                        do throws(OSError) {
                            if let kept = try groups.killAndRemovePod(uid: uid) { logger.debug("pod \(podKey): \(kept)") }
                        } catch {
                            logger.error("removing the cgroup of pod \(uid): \(error)")
                        }
                    }
                    if rmdir(runDirectory) != 0 && errno != ENOENT {
                        logger.error("removing \(runDirectory): \(OSError.last("rmdir"))")
                    }
                    done.resume()
                }
            }
            self.tornDown()
        }
    }

    /// The pod is gone from the machine: say so, and wake whoever waits for it.
    private func tornDown() {
        tornDownDone = true
        let events = context.events
        let uid = self.uid
        // A replaced spec keeps the pod (and its uid): its events stay. Those of a deleted pod
        // go after an hour, as the API server's event TTL has it.
        if !keepState { Task { try? await Task.sleep(for: .seconds(3600)); await events.forget(uid: uid) } }
        if objectKept {
            // Its finalizers hold it: it stays as an object until the last one goes (at once
            // when they were removed while it was torn down, its object kept).
            finalizing = true
            if pod.metadata.holdsDeletion { announce("MODIFIED", current()) } else { removeFinalizedPod() }
        } else {
            announce("DELETED", current())
        }
        goneWaiters.forEach { $0.resume() }
        goneWaiters = []
    }

    /// The last finalizer of a deleted, torn-down pod is gone: its stored object goes, and
    /// the pod with it.
    private func removeFinalizedPod() {
        guard finalizing else { return }
        finalizing = false
        do { try context.store.remove(uid: uid) } catch { context.logger.error("removing pod state \(uid): \(error)") }
        announce("DELETED", current())
    }
}

extension ControlMessage {
    /// `op=forget name=NAME`: the monitor drops container NAME's exited record, or gives up
    /// (kills, unreported) one held or started by a chain and not yet claimed.
    static func forget(_ name: String) -> ControlMessage {
        var m = ControlMessage(op: "forget")
        m.append("name", name)
        return m
    }

    /// A time the monitor sent as nanoseconds since the epoch.
    func timestamp(_ key: String) -> Timestamp? {
        guard let ns = int(key), ns > 0 else { return nil }
        return Timestamp(seconds: ns / 1_000_000_000, nanoseconds: Int32(ns % 1_000_000_000))
    }
}
