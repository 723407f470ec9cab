import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import PodRuntime
import Synchronization

/// What the HTTP layer asks of the API: answer a request; and say where a large upload may
/// be spooled.
public protocol APIRequestHandler: Sendable {
    func handle(_ request: APIRequest) async -> APIResponse
    /// For requests whose body may exceed the in-memory limit (image uploads): a directory to
    /// spool it to, and the limit there. nil: the body is held in memory.
    func uploadSpool(method: HTTPMethod, path: String) -> (directory: String, limit: Int)?
    /// Whether to upgrade a request to a WebSocket (exec, attach): the session to run on it,
    /// or nil to handle the request as plain HTTP (whose answer then says what is wrong).
    func webSocket(_ request: APIRequest) async -> WebSocketSession?
    /// Whether to upgrade a request to SPDY/3.1 (kubectl's older port-forward, exec, attach).
    func spdy(_ request: APIRequest) async -> SPDYSession?
}

extension APIRequestHandler {
    public func webSocket(_ request: APIRequest) async -> WebSocketSession? { nil }
    public func spdy(_ request: APIRequest) async -> SPDYSession? { nil }
}

/// A WebSocket session the API has accepted: the subprotocol it chose, and what runs on the
/// connection once it is upgraded (the server closes it when `run` returns).
public struct WebSocketSession: Sendable {
    public typealias Run = @Sendable (NIOAsyncChannelInboundStream<WebSocketFrame>, NIOAsyncChannelOutboundWriter<WebSocketFrame>) async -> Void
    public var subprotocol: String
    public var run: Run

    public init(subprotocol: String, run: @escaping Run) {
        self.subprotocol = subprotocol
        self.run = run
    }
}

/// What a connection turned out to be: plain HTTP, or a WebSocket after an upgrade.
enum Connection: Sendable {
    /// Plain HTTP; with the head of a refused upgrade request, to be answered first.
    case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, refused: HTTPRequestHead?, deadline: ConnectionDeadline,
              peer: ConnectionPeer)
    case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, WebSocketSession)
    case spdy(NIOAsyncChannel<ByteBuffer, ByteBuffer>, SPDYSession)
    /// Over the connection limit: answered 429 and closed by its pipeline.
    case refused
}

/// The caller at the other end of a connection (SO_PEERCRED), read once, when the connection
/// is accepted, on its event loop, where the socket answers at once: a request's task would
/// otherwise hop to the loop and back for it. Unread (nil), the caller is refused.
final class ConnectionPeer: Sendable {
    private let value = Mutex<PeerCredentials?>(nil)

    init(_ channel: Channel) {
        guard let provider = channel as? SocketOptionProvider else { return }
        let option = CallerCheck.peerCredentialsOption
        let raw: EventLoopFuture<RawPeerCredentials> = provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: option.level), name: NIOBSDSocket.Option(rawValue: option.name))
        raw.whenSuccess { raw in
            let credentials = CallerCheck.credentials(raw)
            self.value.withLock { $0 = credentials }
        }
    }

    /// The credentials, if they were read.
    var credentials: PeerCredentials? { value.withLock { $0 } }
}

/// The session accepted during one connection's upgrade handshake, for its pipeline handler.
private final class AcceptedSession: Sendable {
    private let value = Mutex<WebSocketSession?>(nil)
    func set(_ session: WebSocketSession) { value.withLock { $0 = session } }
    var session: WebSocketSession? { value.withLock { $0 } }
}

/// Keeps the head of a connection's first request when it asks for an upgrade. NIO's typed
/// upgrade handler consumes such a request; when the upgrade is refused, the request is
/// served from this copy, so that the client gets the answer that says why (404, 400...).
private final class UpgradeRequestRecorder: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    private let recorded = Mutex<(head: HTTPRequestHead?, done: Bool)>((nil, false))

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case let .head(head) = unwrapInboundIn(data) {
            recorded.withLock { state in
                if !state.done, head.headers.contains(name: "Upgrade") { state.head = head }
                state.done = true
            }
        }
        context.fireChannelRead(data)
        // Only the first request matters; after an upgrade, bytes that are not HTTP parts
        // must not reach this handler.
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// The recorded head, once.
    func take() -> HTTPRequestHead? {
        recorded.withLock { state in
            defer { state.head = nil }
            return state.head
        }
    }
}

/// HTTP/1.1 on the API socket, over SwiftNIO. podd binds (or receives from systemd) the
/// listening socket itself and hands it over, so that its mode and group are podd's to set.
/// Every connection's caller is checked with SO_PEERCRED before any of its request's body is
/// read: root, or a member of the socket's group, else 403. Connections are bounded in
/// number and in how long they may stay idle or take to send a request (`ConnectionLimits`).
public final class HTTPServer: Sendable {
    let socketFD: Int32
    let handler: any APIRequestHandler
    let callers: CallerCheck
    let limits: ConnectionLimits
    let logger: Logger
    private let open = Atomic<Int>(0)
    /// The connections waiting for a request: at the limit, the oldest makes room.
    private let idle = IdleConnections()
    /// The listening channel once bound, and whether accepting should stop (stopAccepting).
    private let listener = Mutex<(channel: Channel?, stopped: Bool)>((nil, false))

    public init(listeningSocket fd: Int32, handler: any APIRequestHandler, allowedGroup: UInt32?,
                limits: ConnectionLimits = ConnectionLimits(), logger: Logger) {
        self.socketFD = fd
        self.handler = handler
        self.callers = CallerCheck(allowedGroup: allowedGroup)
        self.limits = limits
        self.logger = logger
    }

    /// Serves until the task is cancelled, or until `stopAccepting` and the end of every
    /// connection in flight.
    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .serverChannelInitializer { [limits] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(AcceptGate(limits: limits))
                }
            }
            .bind(socketFD) { channel in
                // The connection's kind is known once its first request is read: the server
                // takes the future of it, so that accepting goes on meanwhile.
                channel.eventLoop.makeCompletedFuture { try self.configure(channel) }
            }
        let stopped = listener.withLock { state in
            state.channel = server.channel
            return state.stopped
        }
        if stopped { server.channel.close(promise: nil) }
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    group.addTask {
                        switch try? await connection.get() {
                        case let .http(http, refused, deadline, peer)?:
                            await self.serve(http, refused: refused, deadline: deadline, peer: peer)
                        case let .webSocket(ws, session)?:
                            do {
                                try await ws.executeThenClose { inbound, outbound in await session.run(inbound, outbound) }
                            } catch {
                                self.logger.trace("WebSocket session ended: \(error)")
                            }
                        case let .spdy(connection, session)?:
                            do {
                                try await connection.executeThenClose { inbound, outbound in await session.run(inbound, outbound) }
                            } catch {
                                self.logger.trace("SPDY session ended: \(error)")
                            }
                        case .refused?, nil: break
                        }
                    }
                }
            }
        }
    }

    /// Stops accepting connections (the listening channel closes; the socket file stays, for
    /// the next podd): `run` returns once the connections in flight end. Graceful shutdown.
    public func stopAccepting() {
        let channel: Channel? = listener.withLock { state in
            state.stopped = true
            return state.channel
        }
        channel?.close(promise: nil)
    }

    /// HTTP/1.1 with one possible upgrade, to a WebSocket (Kubernetes' exec and attach): the
    /// handler decides in `webSocket(_:)`, after the caller's credentials are checked. A
    /// refused upgrade goes on as a plain request, and its answer says why. A connection over
    /// the limit is answered 429 at once and closed, without reading from it.
    private func configure(_ channel: Channel) throws -> EventLoopFuture<Connection> {
        let count = open.wrappingAdd(1, ordering: .relaxed).newValue
        channel.closeFuture.whenComplete { _ in self.open.wrappingSubtract(1, ordering: .relaxed) }
        if count > limits.maxConnections, !idle.closeOldest() {
            let refusal = StatusError.tooManyConnections(limit: limits.maxConnections)
            try channel.pipeline.syncOperations.addHandler(ConnectionRefusal(refusal))
            return channel.eventLoop.makeSucceededFuture(.refused)
        }
        // First: a response's last bytes reach the socket before the connection closes.
        try channel.pipeline.syncOperations.addHandler(FlushBeforeClose())
        let deadline = ConnectionDeadline(limits: limits, eventLoop: channel.eventLoop, idleList: idle)
        try channel.pipeline.syncOperations.addHandler(deadline)
        let peer = ConnectionPeer(channel)
        let accepted = AcceptedSession()
        let recorder = UpgradeRequestRecorder()
        let upgrader = NIOTypedWebSocketServerUpgrader<Connection>(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                deadline.requestHeadRead()
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask {
                    guard let request = self.upgradeRequest(head, peer: peer),
                          let session = await self.handler.webSocket(request) else { return nil }
                    accepted.set(session)
                    deadline.upgraded()
                    var headers = HTTPHeaders()
                    if !session.subprotocol.isEmpty { headers.add(name: "Sec-WebSocket-Protocol", value: session.subprotocol) }
                    return headers
                }
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard let session = accepted.session else { throw ChannelError.inappropriateOperationForState }
                    // Clients may fragment a message; the relay sees whole ones.
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1024,
                                                    maxAccumulatedFrameSize: 1 << 20))
                    let ws = try NIOAsyncChannel<WebSocketFrame, WebSocketFrame>(wrappingChannelSynchronously: channel)
                    return Connection.webSocket(ws, session)
                }
            })
        let acceptedSPDY = AcceptedSPDYSession()
        let spdyUpgrader = SPDYServerUpgrader<Connection>(
            shouldUpgrade: { channel, head in
                deadline.requestHeadRead()
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask {
                    guard let request = self.upgradeRequest(head, peer: peer),
                          let session = await self.handler.spdy(request) else { return nil }
                    acceptedSPDY.set(session)
                    deadline.upgraded()
                    return HTTPHeaders([("X-Stream-Protocol-Version", session.streamProtocol)])
                }
                return promise.futureResult
            },
            upgradePipelineHandler: { channel, _ in
                channel.eventLoop.makeCompletedFuture {
                    guard let session = acceptedSPDY.session else { throw ChannelError.inappropriateOperationForState }
                    return Connection.spdy(try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel), session)
                }
            })
        let configuration = NIOUpgradableHTTPServerPipelineConfiguration(
            upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader, spdyUpgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        Connection.http(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel),
                                        refused: recorder.take(), deadline: deadline, peer: peer)
                    }
                }))
        let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
        let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Connection>.self)
        try channel.pipeline.syncOperations.addHandler(recorder, position: .before(upgradeHandler))
        let errorHandler = try channel.pipeline.syncOperations.handler(type: HTTPServerProtocolErrorHandler.self)
        try channel.pipeline.syncOperations.addHandler(HeaderOverflowAnswer(), position: .before(errorHandler))
        try channel.pipeline.syncOperations.addHandler(CloseAfterProtocolError(), position: .after(errorHandler))
        return result
    }

    /// How much of a refused body is read (and dropped) after its early answer before the
    /// connection is closed.
    static let drainLimit = 16 << 20

    /// 413 for a request body over its limit: an image upload's (config images.maxUploadBytes)
    /// or any other request's.
    static func bodyTooLarge(upload: Bool, limit: Int) -> StatusError {
        .tooLarge("the request body is larger than the limit of \(limit) bytes\(upload ? " (images.maxUploadBytes)" : "")")
    }

    /// The request an upgrade (WebSocket or SPDY) asks for, from a caller the socket's
    /// credential check allows; nil refuses the upgrade (the request is then answered as a
    /// plain one, with its error).
    private func upgradeRequest(_ head: HTTPRequestHead, peer: ConnectionPeer) -> APIRequest? {
        guard let caller = peer.credentials, callers.allows(caller),
              case let .success(request) = makeRequest(head, body: .bytes([]), peer: caller) else { return nil }
        return request
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, refused: HTTPRequestHead?,
                       deadline: ConnectionDeadline, peer: ConnectionPeer) async {
        let caller = peer.credentials
        let allowed = caller.map(callers.allows) ?? false
        // A spool is removed when its request fails or the client goes mid-body.
        var spool: UploadSpool?
        defer { spool?.discard() }
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                // Bytes of a refused body read after its early answer (see `drainLimit`).
                var draining: Int?
                // A refused upgrade request comes first (without its body: exec and attach have none).
                var replay: [HTTPServerRequestPart] = refused.map { [.head($0), .end(nil)] } ?? []
                var parts = inbound.makeAsyncIterator()
                while true {
                    let part: HTTPServerRequestPart
                    if !replay.isEmpty {
                        part = replay.removeFirst()
                    } else {
                        guard let next = try await parts.next() else { break }
                        part = next
                    }
                    switch part {
                    case let .head(h):
                        deadline.requestHeadRead()
                        // The caller is checked before any of the body is read (or spooled).
                        guard allowed, caller != nil else {
                            try await write(StatusError.forbidden(CallerCheck.refusal(caller)).response, to: outbound, keepAlive: false)
                            return
                        }
                        head = h
                        body = []
                        let upload = handler.uploadSpool(method: h.method, path: h.uri)
                        // A body announced larger than the limit is refused before any of it
                        // is read (the client may be sending a terabyte).
                        if let announced = h.headers.first(name: "content-length").flatMap({ Int($0) }),
                           announced > upload?.limit ?? limits.maxBody {
                            try await write(Self.bodyTooLarge(upload: upload != nil, limit: upload?.limit ?? limits.maxBody).response,
                                            to: outbound, keepAlive: false)
                            draining = 0
                            continue
                        }
                        if let upload {
                            spool = UploadSpool(directory: upload.directory, limit: upload.limit)
                        }
                    case let .body(buffer):
                        deadline.bodyRead()
                        if let drained = draining {
                            // After an early refusal the rest of the body is read and dropped,
                            // up to a bound, so that a client still sending it can read the
                            // answer (closing at once makes its write fail first); then closed.
                            draining = drained + buffer.readableBytes
                            if drained + buffer.readableBytes > Self.drainLimit { return }
                            continue
                        }
                        // A body that grows past its limit, or that the disk cannot hold, is
                        // answered at once: reading the rest would only cost time and memory.
                        if let s = spool {
                            _ = buffer.withUnsafeReadableBytes { s.append($0) }
                            if let failure = s.failure {
                                spool = nil
                                s.discard()
                                switch failure {
                                case let .tooLarge(limit):
                                    try await write(Self.bodyTooLarge(upload: true, limit: limit).response, to: outbound, keepAlive: false)
                                case let .storage(error):
                                    try await write(StatusError(error).response, to: outbound, keepAlive: false)
                                }
                                draining = 0
                            }
                        } else if body.count + buffer.readableBytes > limits.maxBody {
                            try await write(Self.bodyTooLarge(upload: false, limit: limits.maxBody).response, to: outbound, keepAlive: false)
                            body = []
                            draining = 0
                        } else {
                            body += buffer.readableBytesView
                        }
                    case .end:
                        if draining != nil { return }
                        guard let h = head, let caller else { continue }
                        deadline.requestRead()
                        let requestBody: RequestBody
                        if let s = spool {
                            let (path, size) = s.take()
                            spool = nil
                            requestBody = .file(path: path, size: size)
                        } else {
                            requestBody = .bytes(body)
                        }
                        let response: APIResponse
                        switch makeRequest(h, body: requestBody, peer: caller) {
                        case let .success(r):
                            response = await handler.handle(r)
                            // A spooled upload the route did not take over (a wrong path or
                            // method) must not stay behind.
                            if case let .file(path, _) = r.body { UploadSpool.remove(path) }
                        case let .failure(message):
                            if case let .file(path, _) = requestBody { UploadSpool.remove(path) }
                            response = StatusError.badRequest(message).response
                        }
                        // A refused request may leave the connection in any state: close it.
                        let keepAlive = h.isKeepAlive && response.code != 400
                        try await write(response, to: outbound, keepAlive: keepAlive, closeFuture: connection.channel.closeFuture)
                        if !keepAlive { return }
                        deadline.responseWritten()
                        head = nil
                        body = []
                    }
                }
            }
        } catch {
            logger.trace("API connection ended: \(error)")
        }
    }

    private enum Parsed { case success(APIRequest), failure(String) }

    private func makeRequest(_ h: HTTPRequestHead, body: RequestBody, peer: PeerCredentials) -> Parsed {
        let uri = h.uri
        let pathPart: Substring
        let queryPart: Substring
        if let q = uri.firstIndex(of: "?") {
            pathPart = uri[..<q]
            queryPart = uri[uri.index(after: q)...]
        } else {
            pathPart = uri[...]
            queryPart = ""
        }
        guard let segments = pathSegments(String(pathPart)) else {
            return .failure("invalid path \(String(pathPart).debugDescription)")
        }
        return .success(APIRequest(method: h.method, path: String(pathPart), segments: segments,
                                   query: parseQuery(queryPart), headers: h.headers, body: body, peer: peer))
    }

    private func write(_ response: APIResponse, to out: NIOAsyncChannelOutboundWriter<HTTPServerResponsePart>,
                       keepAlive: Bool, closeFuture: EventLoopFuture<Void>? = nil) async throws {
        switch response {
        case let .full(status, contentType, bytes, extra):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            for (name, value) in extra { headers.add(name: name, value: value) }
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            if !bytes.isEmpty { try await out.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
            try await out.write(.end(nil))
        case let .stream(status, contentType, chunks):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            headers.add(name: "Cache-Control", value: "no-cache")
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            // The next chunk is pulled once the previous one is written: the writer waits
            // while the channel is not writable (the client does not read), so a slow client
            // holds up its stream, not podd's memory. A client that goes away while the
            // stream waits for more (a quiet `logs -f`) ends it.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    while let chunk = await chunks.next() {
                        try Task.checkCancellation()
                        if chunk.isEmpty { continue }
                        try await out.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
                        // A write to a writable channel returns without suspending: without
                        // this, a stream that a fast client keeps up with holds its thread of
                        // the (small) cooperative pool, and a few of them starve every other
                        // request, /healthz included.
                        await Task.yield()
                    }
                    try await out.write(.end(nil))
                }
                if let closeFuture {
                    // A future's wait cannot be cancelled; a stream's can (when the chunks end first).
                    let (closed, closing) = AsyncStream<Void>.makeStream()
                    closeFuture.whenComplete { _ in closing.finish() }
                    group.addTask {
                        for await _ in closed {}
                        throw CancellationError()
                    }
                }
                defer { group.cancelAll() }
                do {
                    try await group.next()
                } catch {
                    chunks.cancel()
                    throw error
                }
            }
        }
    }
}

/// Closes a connection whose bytes are not HTTP, once NIO's protocol error handler (just before
/// it) has answered 400 with `Connection: close`: nothing more can be read from it, and left
/// open it would wait for the idle timeout.
private final class CloseAfterProtocolError: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if error is HTTPParserError { context.close(promise: nil) }
        context.fireErrorCaught(error)
    }
}

/// Answers a request whose head is too large (NIO's decoder stops at 80 KiB of headers) with
/// 431 Request Header Fields Too Large, as RFC 6585 has it, instead of the 400 NIO's protocol
/// error handler (after this one) gives every parse error, then closes the connection.
private final class HeaderOverflowAnswer: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard let parse = error as? HTTPParserError, parse == .headerOverflow else {
            context.fireErrorCaught(error)
            return
        }
        let headers = HTTPHeaders([("Connection", "close"), ("Content-Length", "0")])
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .requestHeaderFieldsTooLarge, headers: headers))),
                      promise: nil)
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in bound.value.close(promise: nil) }
    }
}
