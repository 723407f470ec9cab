import CPodShim
import Glibc
import Logging
import PodAPI
import PodModel
import PodOS
import PodRuntime

/// podd itself: wires the stores, the registry and the API server together, recovers stored
/// pods, serves until SIGTERM/SIGINT, and leaves the pods running when it exits (their
/// monitors are not podd's children).
public final class Daemon: Sendable {
    public static let version = "v0.1.0-podd"

    /// What podd implements so far; manifest fields of the other features are refused with
    /// their path (PodValidation.unsupported).
    public static let features: PodFeatures = [.nativeSidecars, .probes, .lifecycleHooks]

    let config: PoddConfig
    let logger: Logger

    public init(config: PoddConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// Blocks the signals podd handles itself, in every thread to come: call first thing.
    public static func blockSignals() {
        var set = sigset_t()
        sigemptyset(&set)
        for s in [SIGTERM, SIGINT, SIGHUP] { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    public func run() async throws {
        let start = RuntimeClock.monotonic()
        try FileSystem.makeDirectories(config.stateDir, mode: 0o711)
        try FileSystem.makeDirectories(config.runDir, mode: 0o755)
        let monitorPath = try Self.findMonitor()
        let reactor = try Reactor()
        let images = try ImageStore(root: config.stateDir + "/images")
        let store = try PodStore(root: config.stateDir + "/pods")
        let host = Self.hostname()
        let events = EventRecorder(host: host)
        let cgroups = CgroupHierarchy.detect()
        if cgroups == nil { logger.warning("no writable cgroup v2 hierarchy found: pods run without a cgroup of their own") }
        let registry = PodRegistry(features: Self.features)
        await registry.bind(RuntimeContext(
            config: config, images: images, store: store, events: events, reactor: reactor, cgroups: cgroups,
            monitorPath: monitorPath, logger: logger,
            publish: { type, pod, generation in Task { await registry.published(type, pod, generation: generation) } }))

        let (recovered, errors) = await registry.recover()
        for e in errors { logger.error("\(e)") }

        let socket = try APISocket.make(path: config.socket, groupName: config.socketGroup)
        let handler = PodAPIHandler(registry: registry, images: images, events: events,
                                    version: VersionInfo(gitVersion: Self.version), reactor: reactor, logger: logger)
        let server = HTTPServer(listeningSocket: socket.fd, handler: handler, allowedGroup: socket.group, logger: logger)
        logger.info("podd \(Self.version) serving on \(config.socket)\(socket.activated ? " (socket activation)" : ""), \(recovered) pod(s) recovered, ready in \(Int((RuntimeClock.monotonic() - start) * 1000)) ms")

        let signals = try SignalWatcher(reactor: reactor)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            group.addTask {
                let sig = await signals.next()
                self.logger.info("received signal \(sig): shutting down (pods keep running)")
            }
            _ = try await group.next()
            group.cancelAll()
        }
        await registry.closeWatches()
        if !socket.activated { unlink(config.socket) }
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

    /// The next SIGTERM or SIGINT (SIGHUP, the reload signal, is read and ignored for now).
    func next() async -> Int32 {
        while true {
            await reactor.waitReadable(fd, timeout: 3600)
            var info = signalfd_siginfo()
            let n = read(fd, &info, MemoryLayout<signalfd_siginfo>.size)
            if n == MemoryLayout<signalfd_siginfo>.size {
                let sig = Int32(info.ssi_signo)
                if sig == SIGTERM || sig == SIGINT { return sig }
            }
        }
    }
}
