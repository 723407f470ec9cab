import CPodShim
import Glibc
import Logging
import PodModel
import PodOS
import PodRuntime
import PodSystemd
import Synchronization

/// podd's conversation with systemd while it runs (a `Type=notify` unit with `WatchdogSec=`):
/// READY=1 once the API answers, STATUS= with pod counts kept current, WATCHDOG=1 pings.
///
/// A ping goes out only after a round trip through the parts that do podd's work: the reactor
/// thread (every monitor message passes through it), the HTTP API (GET /healthz on its own
/// socket) and the pod registry actor (every API call and pod change). A supervisor stuck in either stops pinging, and systemd restarts it; the
/// pods keep running and the next podd re-adopts them.
final class ServiceSupervision: Sendable {
    let notifier: ServiceNotifier
    let registry: PodRegistry
    let reactor: Reactor
    let logger: Logger
    private let lastStatus = Mutex<String>("")
    /// The API socket's path, for the watchdog's /healthz round trip.
    private let apiPath = Mutex<String?>(nil)

    init(notifier: ServiceNotifier, registry: PodRegistry, reactor: Reactor, logger: Logger) {
        self.notifier = notifier
        self.registry = registry
        self.reactor = reactor
        self.logger = logger
    }

    /// Waits until the API socket answers an HTTP request (podd asks itself GET /healthz
    /// through it), then sends READY=1 with the first status line. Gives up waiting after
    /// 10 s and says READY anyway (with a warning): the manager would otherwise kill podd.
    func announceReady(socketFD: Int32, socketPath: String, since start: Double) async {
        let path = SocketActivation.boundPath(socketFD) ?? socketPath
        apiPath.withLock { $0 = path }
        let deadline = RuntimeClock.monotonic() + 10
        var answered = false
        while RuntimeClock.monotonic() < deadline {
            if await APIProbe.healthz(path: path, timeout: 1) {
                answered = true
                break
            }
            // Cancelled: the check below ends the wait.
            try? await Task.sleep(for: .milliseconds(5))
            if Task.isCancelled { return }
        }
        if !answered { logger.warning("the API on \(path) did not answer within 10 s; telling systemd READY anyway") }
        let status = await statusLine()
        lastStatus.withLock { $0 = status }
        notifier.ready(status: status)
        logger.info("ready in \(Int((RuntimeClock.monotonic() - start) * 1000)) ms: \(status)")
    }

    /// Pings the watchdog (when systemd asked for it) and keeps STATUS= current, until the
    /// task is cancelled.
    func supervise() async {
        await withTaskGroup(of: Void.self) { group in
            if let interval = notifier.watchdogInterval {
                group.addTask { await self.pingWatchdog(every: interval) }
            }
            if notifier.isActive {
                group.addTask { await self.refreshStatus(every: .seconds(1)) }
            }
            await group.waitForAll()
        }
    }

    private func pingWatchdog(every interval: Duration) async {
        let probe = ReactorProbe(reactor: reactor)
        let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
        while !Task.isCancelled {
            // The probes count against the interval: a ping is due every `interval` from the
            // last one, and a slow probe delays it (that is the point).
            let started = ContinuousClock.now
            guard await probe.roundTrip(timeout: seconds * 2) else {
                logger.warning("watchdog: the reactor thread did not answer; no ping")
                continue
            }
            if let path = apiPath.withLock({ $0 }), !(await APIProbe.healthz(path: path, timeout: seconds)) {
                logger.warning("watchdog: the API did not answer GET /healthz; no ping")
                // Not at once again: a ping is due every interval, and a miss waits one too.
                try? await Task.sleep(for: interval)
                continue
            }
            _ = await registry.count
            notifier.watchdog()
            let elapsed = ContinuousClock.now - started
            // Cancelled: the loop's condition ends the watchdog.
            if elapsed < interval { try? await Task.sleep(for: interval - elapsed) }
        }
    }

    /// The counts can only move with a change of some pod, and every change takes a new
    /// resourceVersion: reading that one number each second, instead of listing every pod,
    /// keeps an idle podd idle (the list of 1,000 pods each second was all its idle CPU).
    private func refreshStatus(every interval: Duration) async {
        var seen: String?   // nil: the first tick compares counts (READY's may be older)
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)   // cancelled: the loop ends
            let version = await registry.listResourceVersion
            guard version != seen else { continue }
            seen = version
            await publishStatus()
        }
    }

    /// Sends STATUS= when the pod counts changed since the last one sent.
    func publishStatus(force: Bool = false) async {
        let status = await statusLine()
        let changed = lastStatus.withLock { last in
            defer { last = status }
            return last != status
        }
        if changed || force { notifier.status(status) }
    }

    /// "3 pods: 2 running, 1 pending" (phases in Kubernetes' order, zero counts left out).
    func statusLine() async -> String {
        let pods = await registry.list(namespace: nil)
        var counts: [PodPhase: Int] = [:]
        var terminating = 0
        for p in pods {
            if p.metadata.deletionTimestamp != nil {
                terminating += 1
            } else {
                counts[p.status.phase, default: 0] += 1
            }
        }
        var parts: [String] = []
        for phase in [PodPhase.running, .pending, .succeeded, .failed, .unknown] {
            if let n = counts[phase], n > 0 { parts.append("\(n) \(phase.rawValue.lowercased())") }
        }
        if terminating > 0 { parts.append("\(terminating) terminating") }
        let head = pods.count == 1 ? "1 pod" : "\(pods.count) pods"
        return parts.isEmpty ? head : head + ": " + parts.joined(separator: ", ")
    }
}

/// A round trip through the reactor thread: an eventfd made readable, and the handler the
/// reactor runs for it. False when the reactor did not run it within the timeout.
final class ReactorProbe: Sendable {
    let reactor: Reactor
    let fd: Int32

    init(reactor: Reactor) {
        self.reactor = reactor
        fd = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
    }

    deinit { if fd >= 0 { close(fd) } }

    func roundTrip(timeout: Double) async -> Bool {
        guard fd >= 0 else { return true }
        let outcome = Outcome()
        let answered = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in
            outcome.set(c)
            do {
                try reactor.add(fd, events: EPOLLIN.rawValue | EPOLLONESHOT.rawValue) { _ in outcome.finish(true) }
            } catch {
                outcome.finish(true)   // cannot probe: do not starve the watchdog for that
                return
            }
            var one: UInt64 = 1
            _ = write(fd, &one, 8)
            Task {
                // Cancelled or not, the outcome is decided once: false if nothing came first.
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                outcome.finish(false)
            }
        }
        reactor.remove(fd)
        var drain: UInt64 = 0
        _ = read(fd, &drain, 8)
        return answered
    }

    /// The continuation, resumed once by whichever comes first.
    final class Outcome: Sendable {
        private let state = Mutex<(CheckedContinuation<Bool, Never>?, Bool)>((nil, false))
        func set(_ c: CheckedContinuation<Bool, Never>) { state.withLock { $0.0 = c } }
        func finish(_ value: Bool) {
            let c: CheckedContinuation<Bool, Never>? = state.withLock {
                guard !$0.1 else { return nil }
                $0.1 = true
                return $0.0
            }
            c?.resume(returning: value)
        }
    }
}

/// podd asking itself GET /healthz on its API socket, through its one HTTP client
/// (DaemonHTTPClient): the proof that the HTTP server accepts and answers, before READY=1
/// goes out and before each watchdog ping.
enum APIProbe {
    static func healthz(path: String, timeout: Double) async -> Bool {
        let request = DaemonHTTPClient.Request(path: "/healthz", host: "podd")
        // Any failure is an answer: the API does not serve (the caller says so, or retries).
        guard let response = try? await DaemonHTTPClient.get(request, unixSocket: path, timeout: timeout) else { return false }
        return response.status == 200
    }
}
