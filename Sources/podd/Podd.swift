// podd: the pod supervisor daemon. Flags override the config file; see DESIGN.md.
import ArgumentParser
import Glibc
import Logging
import PodDaemon
import PodModel
import PodRuntime
import PodSystemd

@main
enum Entry {
    /// Synchronous on purpose. The signals podd handles must stay blocked in every thread,
    /// so that they reach podd only through its signalfd; but an async main hands the main
    /// thread to dispatch_main, which unblocks them there, and SIGTERM would then kill podd
    /// with its default action instead of shutting it down. So the main thread blocks them
    /// before any other thread exists, starts the daemon as a task, and only waits.
    static func main() {
        Daemon.blockSignals()
        Task.detached {
            await Podd.main(nil)   // exits by itself on an error
            exit(0)
        }
        while true { pause() }
    }
}

struct Podd: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "podd",
        abstract: "Run Kubernetes-style pods on this machine, served over a Unix socket.",
        version: Daemon.version)

    @Option(help: "The config file (YAML). Default: /etc/podd/podd.yaml when it exists.")
    var config: String?

    @Option(help: "The API socket path.")
    var socket: String?

    @Option(name: .customLong("state-dir"), help: "Desired state, images and logs.")
    var stateDir: String?

    @Option(name: .customLong("run-dir"), help: "Sockets, namespace handles, per-pod runtime files.")
    var runDir: String?

    @Option(name: .customLong("manifests-dir"), help: "Static pod manifests, watched.")
    var manifestsDir: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: String?

    @Flag(name: .customLong("check-config"), help: "Validate the configuration and exit.")
    var checkConfig = false

    func run() async throws {
        let loader = ConfigLoader(configPath: config, socket: socket, stateDir: stateDir, runDir: runDir,
                                  manifestsDir: manifestsDir, logLevel: logLevel)
        let c: PoddConfig
        do { c = try loader.load() } catch {
            FileHandleStderr.write("podd: \(error)\n")
            throw ExitCode(2)
        }
        if checkConfig {
            // Every key, as it will be used (defaults filled in).
            let b = c.restartBackoff
            print("""
                config OK: socket \(c.socket), stateDir \(c.stateDir), runDir \(c.runDir), \
                manifestsDir \(c.manifestsDir), logLevel \(c.logLevel), journal \(c.journal), \
                restartBackoff {initial \(b.initial)s, max \(b.max)s, resetAfter \(b.resetAfter)s}, \
                debugImage \(c.debugImage), socketGroup \(c.socketGroup), \
                api {maxConnections \(c.api.maxConnections), idleTimeout \(c.api.idleTimeout)s, \
                requestHeaderTimeout \(c.api.requestHeaderTimeout)s}, images {maxUploadBytes \(c.maxImageUploadBytes), maxParallelPulls \(c.maxParallelImagePulls)}, \
                logs {containerLogMaxSize \(c.logs.containerLogMaxSize), containerLogMaxFiles \(c.logs.containerLogMaxFiles)}, \
                cgroupParent \(c.cgroupParent), hostPathAllow [\(c.hostPathAllow.joined(separator: ", "))], podPidsLimit \(c.podPidsLimit), \
                nodeLabels {\(c.nodeLabels.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "))}, \
                eviction {checkInterval \(c.eviction.checkInterval)s}, \
                seccompDefault \(c.security.seccompDefault), seccompProfileRoot \(c.security.seccompProfileRoot ?? c.stateDir + "/seccomp"), \
                userNamespaces {firstID \(c.userNamespaces.firstID), maxPods \(c.userNamespaces.maxPods)}, \
                \(c.network.summary), \
                registries \(c.registries)
                """)
            return
        }
        guard getuid() == 0 else {
            FileHandleStderr.write("podd: must run as root (it creates namespaces and mounts)\n")
            throw ExitCode(1)
        }
        // Under systemd with stderr on the journal: structured entries through
        // sd_journal_sendv; otherwise lines on stderr. Either way one shared level, so that
        // a reload (SIGHUP) can change it.
        let level = LogLevelSetting(Logger.Level(rawValue: c.logLevel) ?? .info)
        let toJournal = JournalLogHandler.stderrIsJournal()
        LoggingSystem.bootstrap { label in
            if toJournal { return JournalLogHandler(setting: level) }
            return SharedLevelLogHandler(StreamLogHandler.standardError(label: label), setting: level)
        }
        let logger = Logger(label: "podd")
        do {
            try await Daemon(config: c, logger: logger, reloadConfig: { try loader.load() }, logLevel: level).run()
        } catch {
            logger.critical("podd cannot run: \(error)")
            throw ExitCode(1)
        }
    }
}

/// The config file and the flags that override it, read at start and again on SIGHUP.
struct ConfigLoader: Sendable {
    var configPath: String?
    var socket: String?
    var stateDir: String?
    var runDir: String?
    var manifestsDir: String?
    var logLevel: String?

    func load() throws -> PoddConfig {
        var c = PoddConfig()
        let path = configPath ?? (access("/etc/podd/podd.yaml", R_OK) == 0 ? "/etc/podd/podd.yaml" : nil)
        if let path {
            guard let f = fopen(path, "re") else {
                throw ValidationError("cannot read config \(path): \(String(cString: strerror(errno)))")
            }
            var bytes: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = fread(&buf, 1, buf.count, f)
                if n <= 0 { break }
                bytes += buf[0..<n]
            }
            fclose(f)
            c = try PoddConfig.parse(String(decoding: bytes, as: UTF8.self), source: path)
        }
        func absolute(_ flag: String, _ v: String?) throws -> String? {
            guard let v else { return nil }
            guard v.hasPrefix("/") else { throw ValidationError("--\(flag): must be an absolute path, got \"\(v)\"") }
            return v
        }
        if let v = try absolute("socket", socket) { c.socket = v }
        if let v = try absolute("state-dir", stateDir) { c.stateDir = v }
        if let v = try absolute("run-dir", runDir) { c.runDir = v }
        if let v = try absolute("manifests-dir", manifestsDir) { c.manifestsDir = v }
        if let v = logLevel {
            guard PoddConfig.logLevels.contains(v) else {
                throw ValidationError("--log-level: \"\(v)\" is not one of \(PoddConfig.logLevels.joined(separator: ", "))")
            }
            c.logLevel = v
        }
        return c
    }
}

enum FileHandleStderr {
    static func write(_ s: String) {
        let bytes = Array(s.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }
}
