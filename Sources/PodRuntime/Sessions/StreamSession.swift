import CPodShim
import Glibc
import PodOS
import Synchronization

/// One exec or attach session with a pod's monitor (docs/monitor-protocol.md, "Sessions"):
/// the session's own socket, on which the monitor answers, and podd's ends of the process's
/// stdio until the relay takes them. Closing the session (`close()`, or the socket going
/// with podd) ends it: the monitor kills what an exec started; an attach leaves the
/// container running (a `stdinOnce` one gets its stdin closed).
public final class StreamSession: Sendable {
    public enum Kind: String, Sendable {
        case exec
        case attach
    }

    /// The process's stdio as podd relays it. Each descriptor is owned by whoever takes it.
    public struct IO: Sendable {
        /// Where the client's stdin goes: a pipe, or the terminal's master.
        public var input: Int32?
        /// The command's stdout (or the terminal's output).
        public var output: Int32?
        /// The command's stderr (never with a terminal).
        public var errors: Int32?
        /// The terminal's master, for window sizes.
        public var terminal: Int32?
    }

    /// How the process ended: its exit code (128+N when killed by signal N).
    public struct Exit: Sendable, Equatable {
        public var exitCode: Int32
        public var signal: Int32
    }

    /// Why a session could not start, as the monitor said it (`exec-failed`).
    public struct StartFailure: Error, Sendable, CustomStringConvertible {
        public var stage: String
        public var code: Int32
        public var message: String
        /// exec could not find or run the command: a shell would exit 127 or 126.
        public var commandNotRunnable: Bool { stage == "exec" && (code == ENOENT || code == EACCES || code == ENOEXEC) }
        public var description: String { message.isEmpty ? "\(stage): \(String(cString: strerror(code)))" : message }
    }

    public let id: String
    public let kind: Kind
    public let container: String
    let socket: SeqPacketSocket
    let reactor: Reactor
    /// podd's ends created before the request (pipes), completed by the start message.
    private let pending: Mutex<IO>

    init(id: String, kind: Kind, container: String, socket: SeqPacketSocket, reactor: Reactor, io: IO) {
        self.id = id
        self.kind = kind
        self.container = container
        self.socket = socket
        self.reactor = reactor
        self.pending = Mutex(io)
    }

    deinit {
        let io = pending.withLock { $0 }
        for fd in [io.input, io.output, io.errors, io.terminal] { if let fd { Glibc.close(fd) } }
    }

    /// Waits for the monitor's answer to the request: the process's stdio (ownership passes
    /// to the caller), whether it has a terminal, or why it could not start.
    public func start() async throws(StartFailure) -> (io: IO, tty: Bool) {
        guard let received = await next() else {
            throw StartFailure(stage: kind.rawValue, code: EPIPE, message: "the pod's monitor ended the session")
        }
        let (message, fds) = received
        switch message.op {
        case "exec-started", "attach-started":
            var io = pending.withLock { current in
                let taken = current
                current = IO()
                return taken
            }
            let tty = message["tty"] == "1" || (kind == .exec && !fds.isEmpty)
            if let passed = fds.first {
                switch kind {
                case .exec:
                    // The terminal's master: output, input and window size, each its own descriptor.
                    io.output = passed
                    io.input = dup(passed)
                    io.terminal = dup(passed)
                case .attach:
                    io.input = passed
                    if tty { io.terminal = dup(passed) }
                }
                fds.dropFirst().forEach { Glibc.close($0) }
            }
            return (io, tty)
        default:
            fds.forEach { Glibc.close($0) }
            throw StartFailure(stage: message["stage"] ?? kind.rawValue, code: Int32(message.int("errno") ?? Int64(EIO)),
                               message: message["message"] ?? "")
        }
    }

    /// An exec's pipes without a terminal, which exist before the monitor answers: the
    /// caller takes them (and their ownership) to set them up while the command starts, and
    /// `start()` then returns no descriptors. nil for a terminal or an attach, whose
    /// descriptors come with the answer.
    public func takePipes() -> IO? {
        guard kind == .exec else { return nil }
        return pending.withLock { current -> IO? in
            guard current.terminal == nil, current.input != nil || current.output != nil || current.errors != nil else { return nil }
            let taken = current
            current = IO()
            return taken
        }
    }

    /// Waits for the end of the process (exec) or of the container (attach); nil if the
    /// session ended first.
    public func exit() async -> Exit? {
        while let received = await next() {
            let (message, fds) = received
            fds.forEach { Glibc.close($0) }
            if message.op == "exec-exited" || message.op == "attach-exited" {
                return Exit(exitCode: Int32(message.int("exitCode") ?? 255), signal: Int32(message.int("signal") ?? 0))
            }
        }
        return nil
    }

    /// v5's "close stdin" on an attach session (a stdinOnce container's stdin closes).
    public func closeStdin() {
        try? socket.send(ControlMessage(op: "close-stdin"))
    }

    /// Ends the session now: the monitor sees the socket close at once (the descriptor
    /// itself goes with this object).
    public func close() {
        shutdown(socket.fd, Int32(SHUT_RDWR))
    }

    private func next() async -> (ControlMessage, [Int32])? {
        while true {
            switch socket.receive() {
            case let .message(m, fds): return (m, fds)
            case .closed: return nil
            case .wouldBlock:
                if Task.isCancelled { return nil }
                await reactor.readable(socket.fd)
            }
        }
    }
}

extension Reactor {
    /// Suspends until `fd` is readable (or hung up), or the task is cancelled. Unlike
    /// `waitReadable`, it leaves no timer behind, so it suits waits of any length.
    public func readable(_ fd: Int32) async {
        let waiter = ReadinessWaiter()
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                guard waiter.arm(c) else { return }
                do {
                    try add(fd, events: EPOLLIN.rawValue | EPOLLRDHUP.rawValue | EPOLLONESHOT.rawValue) { _ in
                        waiter.fire()
                    }
                } catch {
                    waiter.fire()
                }
            }
        } onCancel: {
            waiter.fire()
        }
        remove(fd)
    }
}

/// A one-shot wake-up that may fire before, during or after the wait is armed.
private final class ReadinessWaiter: Sendable {
    private enum State {
        case idle
        case waiting(CheckedContinuation<Void, Never>)
        case fired
    }

    private let state = Mutex<State>(.idle)

    /// Stores the continuation; false (and resumed at once) if it has fired already.
    func arm(_ c: CheckedContinuation<Void, Never>) -> Bool {
        let firedAlready = state.withLock { s -> Bool in
            if case .fired = s { return true }
            s = .waiting(c)
            return false
        }
        if firedAlready { c.resume() }
        return !firedAlready
    }

    func fire() {
        let c = state.withLock { s -> CheckedContinuation<Void, Never>? in
            defer { s = .fired }
            if case let .waiting(c) = s { return c }
            return nil
        }
        c?.resume()
    }
}
