import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// podd's one HTTP client, for the calls it makes itself: probes' and lifecycle hooks'
/// httpGet (on a socket connected inside the pod's network namespace, over TLS for
/// `scheme: HTTPS`) and its own /healthz round trip (on its API socket). HTTP/1.1 over
/// SwiftNIO, one request per connection
/// (`Connection: close`, as kubelet's prober disables keep-alive), at most `bodyLimit` bytes
/// of body read (kubelet reads 10 KiB), the whole exchange bounded by a timeout.
public enum DaemonHTTPClient {
    /// A GET request: its target, the Host header, and headers in order.
    public struct Request: Sendable {
        public var path: String
        public var host: String
        public var headers: [(name: String, value: String)]

        public init(path: String, host: String, headers: [(name: String, value: String)] = []) {
            self.path = path
            self.host = host
            self.headers = headers
        }
    }

    public struct Response: Sendable {
        public var status: Int
        public var headers: [(name: String, value: String)]
        /// At most the body limit; `truncated` says whether there was more.
        public var body: [UInt8]
        public var truncated: Bool

        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    public enum ClientError: Error, CustomStringConvertible, Sendable {
        case timeout(Double)
        case closedEarly
        case connection(String)

        public var description: String {
            switch self {
            case let .timeout(s): return "context deadline exceeded (Client.Timeout exceeded while awaiting headers) after \(s)s"
            case .closedEarly: return "EOF: the connection closed before the response ended"
            case let .connection(m): return m
            }
        }
    }

    /// kubelet's limit on the body a probe reads.
    public static let probeBodyLimit = 10 * 1024

    /// TLS on a connection.
    public enum TLS: Sendable {
        /// As kubelet's probes and hooks speak it (`InsecureSkipVerify`): any certificate is
        /// taken; `serverName` is sent as SNI (nil for an address).
        case withoutVerification(serverName: String?)
    }

    /// GET on `fd`, a connected stream socket, which this takes over (NIO closes it).
    public static func get(_ request: Request, connectedSocket fd: Int32, timeout: Double, tls: TLS? = nil,
                           bodyLimit: Int = probeBodyLimit) async throws(ClientError) -> Response {
        var secure: (context: NIOSSLContext, serverName: String?)?
        if case let .withoutVerification(serverName) = tls {
            do { secure = (try trustingContext.get(), serverName) } catch { throw .connection("tls: \(error)") }
        }
        return try await exchange(request, timeout: timeout, bodyLimit: bodyLimit, tls: secure) { bootstrap in
            bootstrap.withConnectedSocket(fd)
        }
    }

    /// The TLS context of probes and hooks, made once: no certificate check, HTTP/1.1.
    private static let trustingContext: Result<NIOSSLContext, any Error> = Result {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        configuration.applicationProtocols = ["http/1.1"]
        return try NIOSSLContext(configuration: configuration)
    }

    /// GET on the Unix stream socket at `path`.
    public static func get(_ request: Request, unixSocket path: String, timeout: Double,
                           bodyLimit: Int = probeBodyLimit) async throws(ClientError) -> Response {
        try await exchange(request, timeout: timeout, bodyLimit: bodyLimit) { bootstrap in
            bootstrap.connect(unixDomainSocketPath: path)
        }
    }

    /// One request and its response, over TLS when `tls` is given.
    private static func exchange(_ request: Request, timeout: Double, bodyLimit: Int,
                                 tls: (context: NIOSSLContext, serverName: String?)? = nil,
                                 connect: (ClientBootstrap) -> EventLoopFuture<Channel>) async throws(ClientError) -> Response {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Response.self)
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(.milliseconds(Int64(max(timeout, 0.001) * 1000)))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls.context, serverHostname: tls.serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, bodyLimit: bodyLimit))
                }
            }
        let deadline = loop.scheduleTask(in: .milliseconds(Int64(max(timeout, 0.001) * 1000))) {
            promise.fail(ClientError.timeout(timeout))
        }
        connect(bootstrap).whenComplete { result in
            switch result {
            case let .failure(error):
                promise.fail(ClientError.connection("\(error)"))
            case let .success(channel):
                promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
                var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: request.path)
                head.headers.add(name: "Host", value: request.host)
                for h in request.headers { head.headers.add(name: h.name, value: h.value) }
                head.headers.add(name: "Connection", value: "close")
                channel.write(HTTPClientRequestPart.head(head), promise: nil)
                channel.writeAndFlush(HTTPClientRequestPart.end(nil)).whenFailure { error in
                    promise.fail(ClientError.connection("\(error)"))
                }
            }
        }
        do {
            let response = try await promise.futureResult.get()
            deadline.cancel()
            return response
        } catch let error as ClientError {
            deadline.cancel()
            throw error
        } catch {
            deadline.cancel()
            throw .connection("\(error)")
        }
    }
}

/// Gathers one response: its head and up to `bodyLimit` bytes of body; completes the promise
/// at the end of the response, at the limit, or with an error when the connection ends first.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let promise: EventLoopPromise<DaemonHTTPClient.Response>
    let bodyLimit: Int
    var head: HTTPResponseHead?
    var body: [UInt8] = []
    var truncated = false

    init(promise: EventLoopPromise<DaemonHTTPClient.Response>, bodyLimit: Int) {
        self.promise = promise
        self.bodyLimit = bodyLimit
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case let .head(h):
            head = h
        case var .body(buffer):
            let room = bodyLimit - body.count
            if buffer.readableBytes > room { truncated = true }
            if room > 0, let bytes = buffer.readBytes(length: min(room, buffer.readableBytes)) { body += bytes }
            // The rest is not read: the connection closes once the promise completes.
            if truncated { finish() }
        case .end:
            finish()
        }
    }

    private func finish() {
        guard let head else { return promise.fail(DaemonHTTPClient.ClientError.closedEarly) }
        promise.succeed(DaemonHTTPClient.Response(status: Int(head.status.code),
                                                  headers: head.headers.map { ($0.name, $0.value) },
                                                  body: body, truncated: truncated))
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(DaemonHTTPClient.ClientError.closedEarly)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        promise.fail(DaemonHTTPClient.ClientError.connection("\(error)"))
        context.close(promise: nil)
    }
}
