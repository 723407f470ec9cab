import Glibc
import Logging
import PodAPI
import PodRuntime
import PodSystemd
import ServiceLifecycle

// The long-running parts of podd, each a swift-service-lifecycle `Service`, run by one
// `ServiceGroup` (Daemon.run) in this order:
//
//     SupervisionService   READY=1, STATUS=, WATCHDOG=1 ... STOPPING=1 last
//     StaticPodService     the static pod directory's watch
//     APIServerService     the HTTP API
//     SignalService        SIGHUP reloads; SIGTERM or SIGINT ends it, which shuts the group down
//
// A group shuts its services down gracefully in reverse order, one after the other, so a
// SIGTERM gives: stop accepting connections and drain those in flight (bounded), stop
// watching the static pod directory, send STOPPING=1, exit. The pods keep running
// (KillMode=process: their monitors are not podd's children to take along).

/// The HTTP API. On graceful shutdown it stops accepting connections, ends watch streams, and
/// gives the requests in flight `drain` to finish before the rest are cancelled.
struct APIServerService: Service {
    let server: HTTPServer
    let registry: PodRegistry
    let drain: Duration
    let logger: Logger
    /// Its watches end too (ConfigMaps, Secrets, PodDisruptionBudgets).
    var objects: ObjectRegistry? = nil

    func run() async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                try await server.run()
                return true
            }
            group.addTask {
                // Returns when graceful shutdown begins (throws if cancelled first).
                try await gracefulShutdown()
                server.stopAccepting()
                await registry.closeWatches()
                await objects?.closeWatches()
                logger.info("shutting down: no new API connections; draining those in flight (at most \(drain))")
                try await Task.sleep(for: drain)
                return false
            }
            let drained = try await group.next() ?? true
            if !drained { logger.warning("API connections still open after \(drain): closing them") }
            group.cancelAll()
        }
    }
}

/// The static pod directory: watched from before the group starts (so that READY=1 counts
/// its pods) until graceful shutdown.
struct StaticPodService: Service {
    let staticPods: StaticPodSource

    func run() async throws {
        // Cancelled (not a graceful shutdown): stop watching all the same.
        try? await gracefulShutdown()
        await staticPods.stop()
    }
}

/// podd's conversation with systemd: READY=1 once the API answers, then the watchdog and
/// STATUS=; STOPPING=1 when the group shuts down, after the API and the watchers have stopped.
struct SupervisionService: Service {
    let supervision: ServiceSupervision
    let notifier: ServiceNotifier
    let socket: APISocket.Bound
    let start: Double

    func run() async throws {
        await supervision.announceReady(socketFD: socket.fd, socketPath: socket.path, since: start)
        await cancelWhenGracefulShutdown { await supervision.supervise() }
        // Without a watchdog or a service manager, supervise returns at once: wait here.
        try? await gracefulShutdown()
        notifier.stopping(status: "stopping: pods keep running")
    }
}

/// SIGHUP: reload. SIGTERM, SIGINT: return, which the group answers with a graceful shutdown.
struct SignalService: Service {
    let signals: SignalWatcher
    let logger: Logger
    let reload: @Sendable () async -> Void

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                guard let sig = await signals.next() else { return }
                if sig == SIGHUP {
                    await reload()
                    continue
                }
                logger.info("received signal \(sig): shutting down (pods keep running)")
                return
            }
        }
    }
}
