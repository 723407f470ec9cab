import CPodShim
import Glibc
import Logging
import PodAPI
import PodImages
import PodModel
import PodOS
import PodRuntime
import PodSystemd
import ServiceLifecycle
import Synchronization

/// podd itself: wires the stores, the registry and the API server together, recovers stored
/// pods (re-adopting those whose monitors survived), serves until SIGTERM/SIGINT, and leaves
/// the pods running when it exits (their monitors are not podd's children). Under systemd it
/// is a `Type=notify` service: READY=1, STATUS=, RELOADING=1 on SIGHUP, STOPPING=1, WATCHDOG=1.
public final class Daemon: Sendable {
    public static let version = "v0.1.0-podd"

    /// What podd implements so far; manifest fields of the other features are refused with
    /// their path (PodValidation.unsupported).
    public static let features: PodFeatures = [.nativeSidecars, .probes, .lifecycleHooks, .ephemeralContainers, .stdinTTY]

    let config: PoddConfig
    let logger: Logger
    /// Reads the configuration again (SIGHUP); nil: reload only re-reads static pods.
    let reloadConfig: (@Sendable () throws -> PoddConfig)?
    /// The log level every logger follows (a reload may change it).
    let logLevel: LogLevelSetting?

    public init(config: PoddConfig, logger: Logger, reloadConfig: (@Sendable () throws -> PoddConfig)? = nil,
                logLevel: LogLevelSetting? = nil) {
        self.config = config
        self.logger = logger
        self.reloadConfig = reloadConfig
        self.logLevel = logLevel
    }

    /// Blocks the signals podd handles itself, in every thread to come: call first thing.
    /// kubelet's -999 (its --oom-score-adj): under memory pressure the kernel kills containers
    /// (BestEffort first, at 1000) before podd, whose monitors inherit the score; each
    /// container is given its own (OOMScoreAdjust). Memory a pod holds in a tmpfs belongs to
    /// no process, so at 0 podd was the process with the most to free and went first.
    /// Best effort: without CAP_SYS_RESOURCE the score cannot go down.
    static func protectFromOOMKiller(logger: Logger) {
        do throws(OSError) {
            try FileSystem.write("/proc/self/oom_score_adj", Array(String(OOMScoreAdjust.daemon).utf8))
        } catch {
            logger.warning("podd keeps its OOM score (could not write \(OOMScoreAdjust.daemon) to /proc/self/oom_score_adj: \(error)): under memory pressure the kernel may kill it before a container")
        }
    }

    public static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        // SIGCHLD too: only then is it queued for ChildReaper's signalfd.
        for s in [SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    public func run() async throws {
        let start = RuntimeClock.monotonic()
        let notifier = ServiceNotifier()
        Self.protectFromOOMKiller(logger: logger)
        try FileSystem.makeDirectories(config.stateDir, mode: 0o711)
        try FileSystem.makeDirectories(config.runDir, mode: 0o755)
        let monitorPath = try Self.findMonitor()
        if let journal = JournalForwarding.configure(mode: config.journal) {
            logger.info("container output is forwarded to the journal (\(journal))")
        }
        let reactor = try Reactor(onFailure: { [logger] error in
            // Monitor messages and exits would no longer be heard of: a podd that carried on
            // would look alive and supervise nothing. Exit non-zero at once (the pods keep
            // running); systemd (Restart=on-failure) starts a podd that re-adopts them.
            logger.critical("the reactor thread stopped: \(error); exiting so that podd is restarted (pods keep running and are re-adopted)")
            _exit(70)
        })
        try ChildReaper.shared.watch(reactor: reactor) { [logger] pids in
            logger.debug("reaped orphaned processes \(pids) (left by a monitor that died)")
        }
        let images = try ImageStore(root: config.stateDir + "/images")
        // Pulls go to registries (registries: in the config), unless PODD_IMAGE_LAYOUT_REGISTRY
        // names a directory of OCI layouts to serve as the registry (offline mirrors, tests).
        let fetcher: any ImageFetching = getenv("PODD_IMAGE_LAYOUT_REGISTRY").map { LayoutDirectoryFetcher(root: String(cString: $0)) }
            ?? RegistryFetcher(settings: config.registries)
        let pulls = ImagePulls(store: images, fetcher: fetcher, maxParallel: config.maxParallelImagePulls)
        let store = try PodStore(root: config.stateDir + "/pods")
        let host = Self.hostname()
        let events = EventRecorder(host: host)
        let cgroups = CgroupHierarchy.detect(name: config.cgroupParent)
        if cgroups == nil { logger.warning("no writable cgroup v2 hierarchy found: pods run without a cgroup of their own") }
        let registry = PodRegistry(features: Self.features, execHandlers: true)
        let network = Self.startNetwork(config, logger: logger)
        let podNames = PodNameTable()
        let configCatalog = ConfigDataCatalog()
        let schedulingCatalog = SchedulingCatalog()
        let accountCatalog = ServiceAccountCatalog()
        let makeContext = { @Sendable (config: PoddConfig) in
            var context = RuntimeContext(config: config, images: images, store: store, events: events, reactor: reactor, cgroups: cgroups,
                                         monitorPath: monitorPath, logger: self.logger,
                                         publish: { type, pod, generation, sequence in
                                             Task { await registry.published(type, pod, generation: generation, sequence: sequence) }
                                         })
            context.pulls = pulls
            context.network = network
            context.podNames = podNames
            context.configData = configCatalog
            context.scheduling = schedulingCatalog
            context.accounts = accountCatalog
            return context
        }
        await registry.bind(makeContext(config))
        images.onChange { Task { await registry.imagesChanged() } }
        // ConfigMaps, Secrets, PriorityClasses and ServiceAccounts come back before the pods
        // that use them.
        // PodDisruptionBudgets' status follows the pods they cover (DisruptionController).
        let disruption = DisruptionController(pods: registry, events: events, logger: logger)
        let objects = ObjectRegistry(store: try ObjectStore(root: config.stateDir + "/configdata"), catalog: configCatalog,
                                     scheduling: schedulingCatalog, accounts: accountCatalog,
                                     onChange: { change in
                                         switch change.resource {
                                         case PodDisruptionBudget.resource: Task { await disruption.budgetChanged(namespace: change.namespace) }
                                         case PriorityClass.resource, ServiceAccount.resource: break  // read by the next pod's admission
                                         default: Task { await registry.configDataChanged(change) }
                                         }
                                     })
        let (configObjects, configErrors) = await objects.load()
        for e in configErrors { logger.error("\(e)") }
        if configObjects > 0 { logger.info("\(configObjects) stored object(s) loaded (ConfigMaps, Secrets, PodDisruptionBudgets, PriorityClasses, ServiceAccounts)") }

        await disruption.bind(objects)
        await registry.setPodChangeListener { namespace in disruption.podChanged(namespace: namespace) }

        let (recovered, errors) = await registry.recover()
        for e in errors { logger.error("\(e)") }
        await disruption.start()
        let leftovers = await registry.collectLeftovers()
        for e in leftovers.errors { logger.error("\(e)") }
        if !leftovers.swept.isEmpty {
            logger.info("removed what \(leftovers.swept.count) gone pod(s) left (run or log directories, cgroups, monitors): \(leftovers.swept.joined(separator: ", "))")
        }
        if let network { await Self.collectStaleAttachments(network, registry: registry, logger: logger) }

        let socket = try APISocket.make(path: config.socket, groupName: config.socketGroup)
        var handler = PodAPIHandler(registry: registry, images: images, events: events,
                                    version: VersionInfo(gitVersion: Self.version), logger: logger)
        handler.imageUploadLimit = config.maxImageUploadBytes
        handler.pulls = pulls
        handler.usage = PodUsageSampler(cgroups: cgroups)
        handler.objects = objects
        handler.disruption = disruption
        handler.nodeReport = NodeReport(stateDir: config.stateDir, version: Self.version, startedAt: RuntimeClock.now())
        let server = HTTPServer(listeningSocket: socket.fd, handler: handler, allowedGroup: socket.group,
                                limits: ConnectionLimits(config.api), logger: logger)
        let staticPods = StaticPodSource(directory: config.manifestsDir, registry: registry, events: events,
                                         reactor: reactor, logger: logger)
        await staticPods.start()
        logger.info("podd \(Self.version) serving on \(socket.path)\(socket.activated ? " (socket activation)" : ""), \(recovered) pod(s) recovered in \(Int((RuntimeClock.monotonic() - start) * 1000)) ms")

        let supervision = ServiceSupervision(notifier: notifier, registry: registry, reactor: reactor, logger: logger)
        let signals = try SignalWatcher(reactor: reactor)
        let running = RunningConfig(config)
        // Started in this order, shut down in the reverse one (DaemonServices.swift).
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: SupervisionService(supervision: supervision, notifier: notifier, socket: socket, start: start),
                  serviceName: "supervision"),
            .init(service: StaticPodService(staticPods: staticPods), serviceName: "static-pods"),
            .init(service: APIServerService(server: server, registry: registry, drain: .seconds(5), logger: logger, objects: objects),
                  serviceName: "api-server"),
            .init(service: SignalService(signals: signals, logger: logger, reload: {
                notifier.reloading()
                await self.reload(running, registry: registry, staticPods: staticPods, makeContext: makeContext)
                notifier.ready(status: await supervision.statusLine())
            }), successTerminationBehavior: .gracefullyShutdownGroup, serviceName: "signals"),
        ]
        // podd reads its signals itself (signalfd, blocked in every thread): none for the group.
        var group = ServiceGroupConfiguration(services: services, logger: logger)
        group.maximumGracefulShutdownDuration = .seconds(10)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
        if !socket.activated { unlink(config.socket) }
    }

    /// SIGHUP: reads the configuration again and applies what can change while podd runs:
    /// the log level, journal forwarding and restart backoff (for containers and pods started
    /// from now on) and the static pod directory (re-read, or watched anew when it moved).
    /// Paths podd already serves or stores under take effect at the next start (a warning
    /// says so). A configuration that does not load is reported and the running one kept.
    func reload(_ running: RunningConfig, registry: PodRegistry, staticPods: StaticPodSource,
                makeContext: @Sendable (PoddConfig) -> RuntimeContext) async {
        guard let reloadConfig else {
            logger.info("SIGHUP: re-reading static pods")
            await staticPods.resync()
            return
        }
        let new: PoddConfig
        do {
            new = try reloadConfig()
        } catch {
            logger.error("SIGHUP: configuration not reloaded, keeping the running one: \(error)")
            return
        }
        let old = running.swap(new)
        if let logLevel, let level = Logger.Level(rawValue: new.logLevel) { logLevel.level = level }
        JournalForwarding.configure(mode: new.journal)
        await registry.bind(makeContext(new))
        var later: [String] = []
        if new.socket != old.socket { later.append("socket") }
        if new.stateDir != old.stateDir { later.append("stateDir") }
        if new.runDir != old.runDir { later.append("runDir") }
        if new.socketGroup != old.socketGroup { later.append("socketGroup") }
        if !later.isEmpty { logger.warning("SIGHUP: \(later.joined(separator: ", ")) changed: takes effect when podd restarts") }
        if new.manifestsDir != old.manifestsDir {
            await staticPods.move(to: new.manifestsDir)
        } else {
            await staticPods.resync()
        }
        logger.info("SIGHUP: configuration reloaded (logLevel \(new.logLevel), journal \(new.journal))")
    }

    static func hostname() -> String {
        var buf = [UInt8](repeating: 0, count: 256)
        gethostname(&buf, 255)
        return String(decoding: buf.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// The monitor is installed next to podd (build dir, /usr/local/bin) or in libexec.
    static func findMonitor() throws -> String {
        if let env = getenv("PODD_MONITOR") { return String(cString: env) }
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buf, 4095)
        var candidates: [String] = []
        if n > 0 {
            let exe = String(decoding: buf.prefix(n), as: UTF8.self)
            let dir = FileSystem.parent(exe)
            candidates += [dir + "/podd-monitor", FileSystem.parent(dir) + "/libexec/podd/podd-monitor"]
        }
        candidates += ["/usr/local/libexec/podd/podd-monitor", "/usr/libexec/podd/podd-monitor"]
        for c in candidates where access(c, X_OK) == 0 { return c }
        throw OSError("podd-monitor not found (looked in \(candidates.joined(separator: ", "))); build it with `make`", code: ENOENT)
    }
}

/// SIGTERM, SIGINT and SIGHUP through a signalfd on the reactor.
final class SignalWatcher: Sendable {
    let fd: Int32
    let reactor: Reactor

    init(reactor: Reactor) throws(OSError) {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        fd = signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard fd >= 0 else { throw OSError.last("signalfd") }
        self.reactor = reactor
    }

    /// The next SIGTERM, SIGINT or SIGHUP; nil once the task is cancelled.
    func next() async -> Int32? {
        while !Task.isCancelled {
            var info = signalfd_siginfo()
            let n = read(fd, &info, MemoryLayout<signalfd_siginfo>.size)
            if n == MemoryLayout<signalfd_siginfo>.size {
                let sig = Int32(info.ssi_signo)
                if sig == SIGTERM || sig == SIGINT || sig == SIGHUP { return sig }
                continue
            }
            // Ends early when the task is cancelled (podd stopping for another reason).
            await reactor.waitReadable(fd)
        }
        return nil
    }
}

/// The configuration in force, replaced by a reload.
final class RunningConfig: Sendable {
    private let current: Mutex<PoddConfig>
    init(_ config: PoddConfig) { current = Mutex(config) }
    /// Installs `new`, returns the one it replaces.
    func swap(_ new: PoddConfig) -> PoddConfig { current.withLock { old in defer { old = new }; return old } }
}
