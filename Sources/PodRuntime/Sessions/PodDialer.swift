import CPodShim
import Glibc
import PodOS
import Synchronization

/// Opens TCP connections to a port of a running pod from inside the pod's own network
/// namespace, to `127.0.0.1:PORT` and then `[::1]:PORT` (what kubelet's runtimes do for
/// port-forward): it needs no pod IP, so loopback-only pods can be reached too.
///
/// A dial runs on podd's one long-lived dialing thread (`NamespaceDialThread`), which enters
/// the pod's namespace (through the handle taken on the monitor's `/proc/PID/ns/net` when the
/// sandbox started) only to create the socket, then returns to podd's namespace before it
/// connects: setns(CLONE_NEWNET) is per thread, and a socket keeps the namespace it was made
/// in. Measured here (2 loaded cores; /tmp C bench, 3,000 dials each): a fresh thread per
/// dial cost 1.3-1.7 ms (thread start and exit dominate), the long-lived thread's two setns
/// and connect 0.14 ms, and asking the pod's monitor to connect and pass the descriptor back
/// over its socket (SCM_RIGHTS) 0.04-0.18 ms. The long-lived thread is as fast as the monitor
/// within the noise and needs no change of the monitor protocol; while it is busy (a dial
/// waiting on a full backlog), a dial gets a thread of its own, so one slow port never holds
/// up the others. The descriptor is close-on-exec and non-blocking.
public struct PodDialer: Sendable {
    let netns: NetworkNamespace
    /// The pod as kubelet names it in its messages (`NAME_NAMESPACE`), and its uid.
    public let podFullName: String
    public let podUID: String

    /// Why a port could not be reached, with kubelet's (containerd's) wording, so that a
    /// client prints the message it knows.
    public struct DialError: Error, Sendable, CustomStringConvertible {
        public var port: Int
        public var podFullName: String
        public var ipv4: Int32
        public var ipv6: Int32

        public var description: String {
            "failed to connect to localhost:\(port) inside namespace \"\(podFullName)\", IPv4: dial tcp4 127.0.0.1:\(port): connect: \(GoErrorText.errno(ipv4)) IPv6 dial tcp6 [::1]:\(port): connect: \(GoErrorText.errno(ipv6)) "
        }
    }

    /// How long a dial may take (a loopback connect answers at once; a full backlog does not).
    static let timeoutMilliseconds: Int32 = 10_000

    /// A connected, non-blocking, close-on-exec TCP socket to `port` in the pod.
    public func dial(port: Int) async throws(DialError) -> Int32 {
        let netns = self.netns
        let result: (fd: Int32, ipv4: Int32, ipv6: Int32)
        let work: @Sendable () -> (fd: Int32, ipv4: Int32, ipv6: Int32) = {
            let v4 = pod_connect_in_netns(netns.fd, "127.0.0.1", Int32(port), Self.timeoutMilliseconds)
            if v4 >= 0 { return (v4, 0, 0) }
            let e4 = errno
            let v6 = pod_connect_in_netns(netns.fd, "::1", Int32(port), Self.timeoutMilliseconds)
            return (v6, e4, v6 >= 0 ? 0 : errno)
        }
        do {
            result = try await NamespaceDialThread.shared.value(of: work)
        } catch {
            throw DialError(port: port, podFullName: podFullName, ipv4: error.code, ipv6: error.code)
        }
        guard result.fd >= 0 else { throw DialError(port: port, podFullName: podFullName, ipv4: result.ipv4, ipv6: result.ipv6) }
        return result.fd
    }
}

extension PodController {
    /// A dialer into the pod's network namespace, for port-forward; refused (with the message
    /// the API answers) when the pod has no running sandbox.
    public func portForwardDialer() throws(RuntimeError) -> PodDialer {
        let name = pod.metadata.name
        let phase = current().status.phase
        if phase == .succeeded || phase == .failed {
            throw .invalidRequest("cannot port-forward to a completed pod; current phase is \(phase.rawValue)")
        }
        guard sandbox != nil, let netns else {
            throw .invalidRequest("unable to forward port because pod \(name) is not running (its sandbox is not up)")
        }
        return PodDialer(netns: netns, podFullName: "\(name)_\(pod.metadata.namespace)", podUID: uid)
    }
}

/// podd's one long-lived thread for dials into pods' network namespaces: a thread start per
/// dial costs ten times the dial. It takes one job at a time; `value(of:)` runs a job on a
/// thread of its own while this one is busy.
final class NamespaceDialThread: Sendable {
    static let shared = NamespaceDialThread()

    /// The job waiting for the thread, whether one runs, and whether the thread was started.
    private let state = Mutex<(job: (@Sendable () -> Void)?, busy: Bool, started: Bool)>((nil, false, false))
    /// The thread sleeps in read(2) on this pipe; a byte wakes it for a job.
    private let wake: (read: Int32, write: Int32)

    private init() {
        var fds: [Int32] = [-1, -1]
        if pod_pipe_cloexec(&fds) != 0 { fds = [-1, -1] }
        wake = (fds[0], fds[1])
    }

    /// `body`'s value, computed on the dialing thread, or on a new thread while it is busy.
    func value<T: Sendable>(of body: @escaping @Sendable () -> T) async throws(OSError) -> T {
        let result: Result<T, OSError> = await withCheckedContinuation { c in
            let job: @Sendable () -> Void = { c.resume(returning: .success(body())) }
            if !submit(job) {
                do throws(OSError) { try DetachedThread.start(job) } catch { c.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }

    /// Hands `job` to the thread; false when it is busy (or cannot be started).
    private func submit(_ job: @escaping @Sendable () -> Void) -> Bool {
        guard wake.write >= 0 else { return false }
        let start = state.withLock { s -> Bool? in
            guard !s.busy else { return nil }
            s.busy = true
            s.job = job
            defer { s.started = true }
            return !s.started
        }
        guard let start else { return false }
        if start {
            do throws(OSError) { try DetachedThread.start { self.loop() } } catch {
                state.withLock { s in s.busy = false; s.job = nil; s.started = false }
                return false
            }
        }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
        return true
    }

    private func loop() {
        var byte: UInt8 = 0
        while true {
            let n = read(wake.read, &byte, 1)
            if n < 0 && errno == EINTR { continue }
            guard n == 1 else { return }
            guard let job = state.withLock({ s in s.job }) else { continue }
            job()
            state.withLock { s in s.job = nil; s.busy = false }
        }
    }
}
