import NIOCore
import PodRuntime
import Synchronization

/// How many connections the API serves at a time, and how long one may stay idle or take to
/// send a request's head, so that neither idle nor half-sent connections can use up podd's
/// descriptors (issue 9). The daemon's `api:` config key sets them.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections served at a time; one more takes the place of the longest-idle one
    /// (`IdleConnections`), or with none idle is answered 429 (Retry-After) and closed.
    public var maxConnections: Int
    /// Seconds a connection may wait for its next request, or between two parts of a
    /// request's body, before it is closed.
    public var idleTimeout: Double
    /// Seconds a request's head (request line and headers) may take to arrive once its
    /// first byte has.
    public var requestHeaderTimeout: Double
    /// Bytes of a request body held in memory (uploads are spooled to disk instead).
    public var maxBody: Int

    public init(maxConnections: Int = 1024, idleTimeout: Double = 120, requestHeaderTimeout: Double = 10, maxBody: Int = 3 << 20) {
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.requestHeaderTimeout = requestHeaderTimeout
        self.maxBody = maxBody
    }

    /// The limits of podd's configuration.
    public init(_ config: PoddConfig.APISettings) {
        self.init(maxConnections: config.maxConnections, idleTimeout: config.idleTimeout,
                  requestHeaderTimeout: config.requestHeaderTimeout)
    }
}

/// Closes a connection that stays idle too long, or takes too long to send a request's
/// head. It sits at the head of the pipeline and sees the raw bytes; the server tells it where the
/// connection is in its request (`requestHeadRead`, `requestRead`, `responseWritten`). A
/// request being answered (a watch, a `logs -f`, an exec session) has no deadline.
final class ConnectionDeadline: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private enum Phase {
        /// Waiting for a request (idle timeout).
        case idle
        /// A request's head has begun (header timeout).
        case readingHead
        /// Its body is coming (idle timeout between parts).
        case readingBody
        /// It is being answered: no deadline.
        case answering
    }

    private let limits: ConnectionLimits
    /// Where this connection is listed while it waits for a request (nil: never listed).
    private let idleList: IdleConnections?
    /// The channel's event loop, kept apart from `context` because the server tells this
    /// handler where its request is from a request's task, on any thread: reading `context`
    /// there raced with `handlerRemoved`, and asking a context whose channel was already freed
    /// for its loop crashed podd (a segfault in `ChannelHandlerContext.eventLoop`).
    private let eventLoop: EventLoop
    // Touched on the channel's event loop only.
    private var phase = Phase.idle
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: ConnectionLimits, eventLoop: EventLoop, idleList: IdleConnections? = nil) {
        self.limits = limits
        self.eventLoop = eventLoop
        self.idleList = idleList
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(limits.idleTimeout)
        idleList?.add(self)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
        idleList?.remove(self)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .idle:
            phase = .readingHead
            idleList?.remove(self)
            arm(limits.requestHeaderTimeout)
        case .readingBody:
            arm(limits.idleTimeout)
        case .readingHead, .answering:
            break
        }
        context.fireChannelRead(data)
    }

    /// The request's head is complete.
    func requestHeadRead() { onLoop { $0.move(to: .readingBody, deadline: $0.limits.idleTimeout) } }

    /// A part of the body arrived.
    func bodyRead() { onLoop { $0.move(to: .readingBody, deadline: $0.limits.idleTimeout) } }

    /// The whole request is in: it is being answered.
    func requestRead() { onLoop { $0.move(to: .answering, deadline: nil) } }

    /// The answer is out: the connection waits for the next request.
    func responseWritten() { onLoop { $0.move(to: .idle, deadline: $0.limits.idleTimeout) } }

    /// The connection became a WebSocket session: no deadline from now on.
    func upgraded() { onLoop { $0.move(to: .answering, deadline: nil) } }

    private func move(to phase: Phase, deadline: Double?) {
        guard context != nil else { return }  // the connection is gone
        if phase == .idle, self.phase != .idle { idleList?.add(self) }
        if phase != .idle, self.phase == .idle { idleList?.remove(self) }
        self.phase = phase
        if let deadline { arm(deadline) } else { timer?.cancel(); timer = nil }
    }

    /// Closes the connection to make room for a new one, if it still waits for a request
    /// (one may have begun since it was picked: it is then served, and the new connection
    /// goes over the limit by one for a moment).
    fileprivate func closeIfIdle() {
        onLoop { connection in
            guard connection.phase == .idle, let context = connection.context else { return }
            context.close(promise: nil)
        }
    }

    private func onLoop(_ body: @escaping @Sendable (ConnectionDeadline) -> Void) {
        if eventLoop.inEventLoop { body(self) } else { eventLoop.execute { body(self) } }
    }

    private func arm(_ seconds: Double) {
        timer?.cancel()
        guard let context else { return }
        let nanoseconds = Int64(max(0.001, seconds) * 1e9)
        timer = eventLoop.scheduleTask(in: .nanoseconds(nanoseconds)) { [weak self] in
            self?.context?.close(promise: nil)
        }
    }
}

/// The connections waiting for a request (between requests, or before the first), oldest
/// first. At the connection limit a new connection takes the place of the one idle the
/// longest, as a browser's pool or nginx under pressure drops keep-alive connections: held
/// idle connections, however many, cannot lock the other clients out. Only when every
/// connection is busy (a request coming in, being answered, a watch, a stream) is a new one
/// answered 429. A client must be ready for an idle connection to close (HTTP/1.1 §9.6), as
/// it is at the idle timeout. A connection counts as idle after `grace` without a request
/// only: one just accepted (or just answered) may have its next request on the way, not yet
/// read by its event loop.
final class IdleConnections: Sendable {
    private struct Entry {
        var connection: ConnectionDeadline
        /// When it became idle (RuntimeClock.monotonic, seconds).
        var since: Double
    }

    private let grace: Double
    private let idle = Mutex<[ObjectIdentifier: Entry]>([:])

    init(grace: Double = 1) {
        self.grace = grace
    }

    func add(_ connection: ConnectionDeadline) {
        let now = RuntimeClock.monotonic()
        idle.withLock { $0[ObjectIdentifier(connection)] = Entry(connection: connection, since: now) }
    }

    func remove(_ connection: ConnectionDeadline) {
        _ = idle.withLock { $0.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Closes the connection idle the longest, if it has been idle for `grace` at least;
    /// false when none has.
    func closeOldest() -> Bool {
        let now = RuntimeClock.monotonic()
        let oldest: ConnectionDeadline? = idle.withLock { idle in
            guard let (key, entry) = idle.min(by: { $0.value.since < $1.value.since }), now - entry.since >= grace else { return nil }
            idle[key] = nil
            return entry.connection
        }
        guard let oldest else { return false }
        oldest.closeIfIdle()
        return true
    }
}

/// The whole of a connection over the limit: the 429 Status, written as soon as the
/// connection is up, then the close. What the client sends is read and dropped until it
/// closes, for half a second at most: closed at once, a client still writing its request got
/// EPIPE (a reset over TCP) instead of the answer, as Go's server avoids with its
/// closeWriteAndWait.
final class ConnectionRefusal: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    private let response: [UInt8]
    // Touched on the channel's event loop only.
    private var sent = false

    init(_ refusal: StatusError) {
        let body = refusal.status.json.serialized()
        var head = "HTTP/1.1 \(refusal.code) Too Many Requests\r\n"
        head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n"
        if let retryAfter = refusal.retryAfter { head += "Retry-After: \(retryAfter)\r\n" }
        head += "Connection: close\r\n\r\n"
        response = Array(head.utf8) + body
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let channel = context.channel
        context.writeAndFlush(NIOAny(ByteBuffer(bytes: response))).whenComplete { _ in
            // The answer is complete (EOF after it); the client's end of the read closes the
            // channel (no remote half-closure), or the linger's end does.
            channel.close(mode: .output, promise: nil)
            channel.eventLoop.scheduleTask(in: Self.linger) { channel.close(promise: nil) }
        }
    }

    static let linger = TimeAmount.milliseconds(500)
}

/// On the listening channel: stops accepting while podd holds `limit` connections, served
/// or being refused. A connection over `maxConnections` is still accepted, to be answered
/// 429, but that answer is written on the connection's own event loop: with both loops busy
/// (a thousand watches starting) the listener accepted faster than the refusals were written,
/// and podd briefly held 1,110 descriptors with a cap of 1,024. Past the limit the listener
/// does not ask for more (NIO's `read` is what accepts); clients wait in the kernel's backlog,
/// and accepting resumes as connections close.
final class AcceptGate: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = Channel
    typealias InboundOut = Channel
    typealias OutboundIn = Never

    private let limit: Int
    // Touched on the listening channel's event loop only.
    private var open = 0
    private var readWanted = false
    private var context: ChannelHandlerContext?

    /// `limits.maxConnections` served, and a few being refused at once.
    init(limits: ConnectionLimits, refusalsAtOnce: Int = 16) {
        limit = limits.maxConnections + refusalsAtOnce
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let connection = unwrapInboundIn(data)
        open += 1
        let loop = context.eventLoop
        connection.closeFuture.whenComplete { _ in
            loop.execute { self.closed() }
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if open >= limit {
            readWanted = true
        } else {
            context.read()
        }
    }

    private func closed() {
        open -= 1
        if readWanted, open < limit, let context {
            readWanted = false
            context.read()
        }
    }
}
