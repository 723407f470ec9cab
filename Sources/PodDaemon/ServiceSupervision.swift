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
/// thread (every monitor message passes through it) and the pod registry actor (every API call
/// and pod change). A supervisor stuck in either stops pinging, and systemd restarts it; the
/// pods keep running and the next podd re-adopts them.
final class ServiceSupervision: Sendable {
    let notifier: ServiceNotifier
    let registry: PodRegistry
    let reactor: Reactor
    let logger: Logger
    private let lastStatus = Mutex<String>("")

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
        let deadline = RuntimeClock.monotonic() + 10
        var answered = false
        while RuntimeClock.monotonic() < deadline {
            if await APIProbe.healthz(path: path, reactor: reactor, timeout: 1) {
                answered = true
                break
            }
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
            _ = await registry.count
            notifier.watchdog()
            let elapsed = ContinuousClock.now - started
            if elapsed < interval { try? await Task.sleep(for: interval - elapsed) }
        }
    }

    private func refreshStatus(every interval: Duration) async {
        while !Task.isCancelled {
            try? await Task.sleep(for: interval)
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

/// podd asking itself GET /healthz on its API socket, without blocking a thread: the proof
/// that the HTTP server accepts and answers before READY=1 goes out.
enum APIProbe {
    static func healthz(path: String, reactor: Reactor, timeout: Double) async -> Bool {
        guard let fd = try? APISocket.connectStream(path) else { return false }
        defer { close(fd) }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        let request = Array("GET /healthz HTTP/1.1\r\nHost: podd\r\nConnection: close\r\n\r\n".utf8)
        let sent = request.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        guard sent == request.count else { return false }
        var reply: [UInt8] = []
        let deadline = RuntimeClock.monotonic() + timeout
        while RuntimeClock.monotonic() < deadline {
            var buf = [UInt8](repeating: 0, count: 512)
            let n = buf.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                reply += buf[0..<n]
                if reply.count >= 12 { break }
                continue
            }
            if n == 0 { break }
            guard errno == EAGAIN || errno == EINTR else { return false }
            await reactor.waitReadable(fd, timeout: max(0.001, deadline - RuntimeClock.monotonic()))
        }
        // "HTTP/1.1 200": any complete status line means the server is serving.
        return reply.count >= 12 && reply.starts(with: Array("HTTP/1.".utf8))
    }
}
