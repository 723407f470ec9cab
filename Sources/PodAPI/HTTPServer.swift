import CPodShim
import Glibc
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import Synchronization

/// What the HTTP layer asks of the API: answer a request; say where a large upload may be
/// spooled; and render an error.
public protocol APIRequestHandler: Sendable {
    func handle(_ request: APIRequest) async -> APIResponse
    /// For requests whose body may exceed the in-memory limit (image uploads): a directory to
    /// spool it to, and the limit there. nil: the body is held in memory.
    func uploadSpool(method: HTTPMethod, path: String) -> (directory: String, limit: Int)?
    func failure(code: Int, reason: String, message: String) -> APIResponse
    /// Whether to upgrade a request to a WebSocket (exec, attach): the session to run on it,
    /// or nil to handle the request as plain HTTP (whose answer then says what is wrong).
    func webSocket(_ request: APIRequest) async -> WebSocketSession?
}

extension APIRequestHandler {
    public func webSocket(_ request: APIRequest) async -> WebSocketSession? { nil }
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
    case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, refused: HTTPRequestHead?)
    case webSocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, WebSocketSession)
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
/// Every connection's caller is checked with SO_PEERCRED: root, or a member of the socket's
/// group, else 403.
public final class HTTPServer: Sendable {
    let socketFD: Int32
    let handler: any APIRequestHandler
    let allowedGroup: gid_t?
    let maxBody: Int
    let logger: Logger
    /// The listening channel once bound, and whether accepting should stop (stopAccepting).
    private let listener = Mutex<(channel: Channel?, stopped: Bool)>((nil, false))

    public init(listeningSocket fd: Int32, handler: any APIRequestHandler, allowedGroup: gid_t?,
                maxBody: Int = 3 << 20, logger: Logger) {
        self.socketFD = fd
        self.handler = handler
        self.allowedGroup = allowedGroup
        self.maxBody = maxBody
        self.logger = logger
    }

    /// Serves until the task is cancelled, or until `stopAccepting` and the end of every
    /// connection in flight.
    public func run() async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 256)
            .bind(socketFD) { channel in
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
                        case let .http(http, refused)?: await self.serve(http, refused: refused)
                        case let .webSocket(ws, session)?:
                            do {
                                try await ws.executeThenClose { inbound, outbound in await session.run(inbound, outbound) }
                            } catch {
                                self.logger.trace("WebSocket session ended: \(error)")
                            }
                        case nil: break
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
    /// refused upgrade goes on as a plain request, and its answer says why.
    private func configure(_ channel: Channel) throws -> EventLoopFuture<Connection> {
        let accepted = AcceptedSession()
        let recorder = UpgradeRequestRecorder()
        let upgrader = NIOTypedWebSocketServerUpgrader<Connection>(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                let promise = channel.eventLoop.makePromise(of: HTTPHeaders?.self)
                promise.completeWithTask {
                    guard let caller = await self.peer(of: channel), self.isAllowed(caller),
                          case let .success(request) = self.makeRequest(head, body: .bytes([]), peer: caller),
                          let session = await self.handler.webSocket(request) else { return nil }
                    accepted.set(session)
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
        let configuration = NIOUpgradableHTTPServerPipelineConfiguration(
            upgradeConfiguration: NIOTypedHTTPServerUpgradeConfiguration(
                upgraders: [upgrader],
                notUpgradingCompletionHandler: { channel in
                    channel.eventLoop.makeCompletedFuture {
                        Connection.http(try NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>(wrappingChannelSynchronously: channel),
                                        refused: recorder.take())
                    }
                }))
        let result = try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(configuration: configuration)
        let upgradeHandler = try channel.pipeline.syncOperations.handler(type: NIOTypedHTTPServerUpgradeHandler<Connection>.self)
        try channel.pipeline.syncOperations.addHandler(recorder, position: .before(upgradeHandler))
        return result
    }

    private func peer(of channel: Channel) async -> PeerCredentials? {
        guard let provider = channel as? SocketOptionProvider else { return nil }
        let cred: pod_ucred? = try? await provider.unsafeGetSocketOption(
            level: NIOBSDSocket.OptionLevel(rawValue: SOL_SOCKET),
            name: NIOBSDSocket.Option(rawValue: SO_PEERCRED)).get()
        guard let cred else { return nil }
        return PeerCredentials(pid: cred.pid, uid: cred.uid, gid: cred.gid)
    }

    private func isAllowed(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 { return true }
        guard let group = allowedGroup else { return false }
        if peer.gid == group { return true }
        return ProcessGroups.contains(pid: peer.pid, gid: group)
    }

    private func serve(_ connection: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>, refused: HTTPRequestHead? = nil) async {
        let caller = await peer(of: connection.channel)
        do {
            try await connection.executeThenClose { inbound, outbound in
                var head: HTTPRequestHead?
                var body: [UInt8] = []
                var spool: SpoolFile?
                var tooLarge = false
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
                        head = h
                        body = []
                        tooLarge = false
                        spool = nil
                        if let target = handler.uploadSpool(method: h.method, path: h.uri) {
                            spool = SpoolFile(directory: target.directory, limit: target.limit)
                        }
                    case var .body(buffer):
                        if let s = spool {
                            if !s.append(buffer.readBytes(length: buffer.readableBytes) ?? []) { tooLarge = true }
                        } else if body.count + buffer.readableBytes > maxBody {
                            tooLarge = true
                        } else if !tooLarge {
                            body += buffer.readBytes(length: buffer.readableBytes) ?? []
                        }
                    case .end:
                        guard let h = head else { continue }
                        let response: APIResponse
                        guard let caller, isAllowed(caller) else {
                            spool?.discard()
                            response = handler.failure(code: 403, reason: "Forbidden",
                                message: "forbidden: the caller (uid \(caller?.uid ?? 0)) is neither root nor in the podd socket's group")
                            try await write(response, to: outbound, keepAlive: false)
                            return
                        }
                        if tooLarge {
                            spool?.discard()
                            response = handler.failure(code: 413, reason: "RequestEntityTooLarge",
                                message: "the request body is larger than the limit of \(spool?.limit ?? maxBody) bytes")
                            try await write(response, to: outbound, keepAlive: false)
                            return
                        }
                        let request = makeRequest(h, body: spool.map { $0.finish() } ?? .bytes(body), peer: caller)
                        switch request {
                        case let .success(r):
                            response = await handler.handle(r)
                            // A spooled upload the route did not take over (a wrong path or
                            // method) must not stay behind.
                            if case let .file(path, _) = r.body { unlink(path) }
                        case let .failure(message):
                            response = handler.failure(code: 400, reason: "BadRequest", message: message)
                        }
                        try await write(response, to: outbound, keepAlive: h.isKeepAlive)
                        if !h.isKeepAlive { return }
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
                       keepAlive: Bool) async throws {
        switch response {
        case let .full(status, contentType, bytes):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Content-Length", value: String(bytes.count))
            if !keepAlive { headers.add(name: "Connection", value: "close") }
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            if !bytes.isEmpty { try await out.write(.body(.byteBuffer(ByteBuffer(bytes: bytes)))) }
            try await out.write(.end(nil))
        case let .stream(status, contentType, chunks):
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: contentType)
            headers.add(name: "Transfer-Encoding", value: "chunked")
            headers.add(name: "Cache-Control", value: "no-cache")
            try await out.write(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers)))
            for await chunk in chunks where !chunk.isEmpty {
                try await out.write(.body(.byteBuffer(ByteBuffer(bytes: chunk))))
            }
            try await out.write(.end(nil))
        }
    }
}

/// A large request body written to a file as it arrives (image uploads).
final class SpoolFile: @unchecked Sendable {
    let path: String
    let limit: Int
    private var fd: Int32
    private var size = 0

    init(directory: String, limit: Int) {
        self.limit = limit
        var template = Array((directory + "/upload-XXXXXX").utf8CString)
        let opened = template.withUnsafeMutableBufferPointer { buf -> Int32 in
            guard let base = buf.baseAddress else { return -1 }
            return mkstemp(base)
        }
        if opened >= 0 { _ = fcntl(opened, F_SETFD, FD_CLOEXEC) }
        fd = opened
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Appends; false once over the limit or on a write error (the file is then dropped).
    func append(_ bytes: [UInt8]) -> Bool {
        guard fd >= 0 else { return false }
        size += bytes.count
        if size > limit { discard(); return false }
        var off = 0
        while off < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + off, $0.count - off) }
            if n < 0 {
                if errno == EINTR { continue }
                discard()
                return false
            }
            off += n
        }
        return true
    }

    func finish() -> RequestBody {
        if fd >= 0 { close(fd); fd = -1 }
        return .file(path: path, size: size)
    }

    func discard() {
        if fd >= 0 { close(fd); fd = -1 }
        unlink(path)
    }
}
