import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import Synchronization

/// HTTP/1.1 for the registry client, over SwiftNIO, plain or TLS (the system's CA bundle, or
/// no verification for a host listed under `registries.insecure`). One connection per
/// exchange (`Connection: close`): a pull makes a handful of requests and its blobs stream in
/// parallel on connections of their own anyway.
///
/// Bodies stream with back-pressure: NIO reads from the socket only while the consumer keeps
/// up, so a layer is never held in memory, only a few socket reads of it. A connection that
/// sends nothing for `idleReadTimeout` fails.
struct RegistryHTTPClient: Sendable {
    var connectTimeout: TimeAmount = .seconds(15)
    var idleReadTimeout: TimeAmount = .seconds(30)
    let group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    /// Made at the first HTTPS exchange, not with the client: the contexts parse the system's
    /// whole CA bundle (about 140 certificates, twice), which podd's start would otherwise pay
    /// before READY although most podds never pull over TLS.
    private let tls = TLSContexts()

    static let userAgent = "podd"

    init() {}

    /// A response's status line and headers.
    struct Response: Sendable {
        var status: Int
        var reason: String
        var headers: HTTPHeaders

        func header(_ name: String) -> String? { headers.first(name: name) }
        var statusText: String { "\(status) \(reason)" }
    }

    /// Sends a GET for `location` and hands the response head and its body to `handle`, which
    /// reads as much of the body as it wants; the connection closes when `handle` returns.
    /// Transport failures throw `TransportError`; whatever `handle` throws passes through.
    func get<Result>(_ location: HTTPLocation, headers: [(String, String)], verifyTLS: Bool,
                     handle: (Response, inout ResponseBody) async throws -> Result) async throws -> Result {
        let channel = try await connect(location, verifyTLS: verifyTLS)
        return try await channel.executeThenClose { inbound, outbound in
            var head = HTTPRequestHead(version: .http1_1, method: .GET, uri: location.target)
            head.headers.add(name: "Host", value: location.authority)
            head.headers.add(name: "User-Agent", value: Self.userAgent)
            for (name, value) in headers { head.headers.add(name: name, value: value) }
            head.headers.add(name: "Connection", value: "close")
            do {
                try await outbound.write(.head(head))
                try await outbound.write(.end(nil))
            } catch {
                throw TransportError(describing: error, location: location)
            }
            var body = ResponseBody(iterator: inbound.makeAsyncIterator(), location: location)
            let response = try await body.readHead()
            return try await handle(response, &body)
        }
    }

    private func connect(_ location: HTTPLocation, verifyTLS: Bool) async throws -> NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart> {
        let tls: NIOSSLContext?
        switch location.isSecure ? self.tls.get() : nil {
        case nil: tls = nil
        case let .success(contexts): tls = verifyTLS ? contexts.verifying : contexts.trusting
        case let .failure(failure):
            throw TransportError(.tls, "tls: cannot set up TLS (the system's CA certificates in /etc/ssl/certs): \(failure.reason)")
        }
        // SNI takes names only, never an IP address.
        let serverName = Self.isIPAddress(location.host) ? nil : location.host
        let idleRead = idleReadTimeout
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            // Reads of up to 256 KiB: fewer hops from the event loop to the consumer on a fast
            // link; with the back-pressure watermark below, at most 4 MiB wait per connection.
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 256 << 10))
        do {
            return try await bootstrap.connect(host: location.host, port: location.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let pipeline = channel.pipeline.syncOperations
                    if let tls { try pipeline.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName)) }
                    try pipeline.addHTTPClientHandlers()
                    try pipeline.addHandler(IdleStateHandler(readTimeout: idleRead))
                    try pipeline.addHandler(IdleReadFailure(timeout: idleRead))
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(backPressureStrategy: .init(lowWatermark: 4, highWatermark: 16)))
                }
            }
        } catch {
            throw TransportError(describing: error, location: location)
        }
    }

    static func isIPAddress(_ host: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, host, &v4) == 1 || inet_pton(AF_INET6, host, &v6) == 1
    }
}

/// The body of a response as it arrives: chunks of at most a socket read each.
struct ResponseBody {
    private var iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator
    private let location: HTTPLocation
    private var ended = false

    init(iterator: NIOAsyncChannelInboundStream<HTTPClientResponsePart>.AsyncIterator, location: HTTPLocation) {
        self.iterator = iterator
        self.location = location
    }

    private mutating func nextPart() async throws -> HTTPClientResponsePart? {
        do {
            return try await iterator.next()
        } catch {
            throw TransportError(describing: error, location: location)
        }
    }

    mutating func readHead() async throws -> RegistryHTTPClient.Response {
        while let part = try await nextPart() {
            guard case let .head(head) = part else { continue }
            // 1xx answers are interim; the real one follows.
            if head.status.code >= 100 && head.status.code < 200 { continue }
            return RegistryHTTPClient.Response(status: Int(head.status.code), reason: head.status.reasonPhrase,
                                               headers: head.headers)
        }
        throw TransportError(Task.isCancelled ? .cancelled : .broken,
                             "GET \"\(location)\": EOF: the server closed the connection without answering")
    }

    /// The next chunk of the body; nil at its end. A connection that ends before the body
    /// does throws: a cut-short body is never taken for a whole one.
    mutating func next() async throws -> ByteBuffer? {
        guard !ended else { return nil }
        while let part = try await nextPart() {
            switch part {
            case let .body(buffer): return buffer
            case .end: ended = true; return nil
            case .head: continue
            }
        }
        throw TransportError(Task.isCancelled ? .cancelled : .broken,
                             "GET \"\(location)\": unexpected EOF: the connection closed before the body ended")
    }

    /// The whole body, at most `limit` bytes (more is an error naming `what`).
    mutating func collect(limit: Int, what: String) async throws -> [UInt8] {
        var out: [UInt8] = []
        while var chunk = try await next() {
            guard out.count + chunk.readableBytes <= limit else {
                throw TransportError(.malformed, "\(what) from \"\(location)\" is larger than \(limit) bytes")
            }
            out += chunk.readBytes(length: chunk.readableBytes) ?? []
        }
        return out
    }
}

/// Why an exchange failed below HTTP, worded as Go's net/http words it (what kubelet and
/// containerd users see): `dial tcp 127.0.0.1:5000: connect: connection refused`.
struct TransportError: Error, Sendable, CustomStringConvertible {
    enum Kind: Sendable { case connect, tls, timeout, broken, malformed, cancelled }
    var kind: Kind
    var message: String

    init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    var description: String { message }

    /// Whether a new attempt of an idempotent request may succeed.
    var isRetryable: Bool { kind == .connect || kind == .timeout || kind == .broken }

    init(describing error: any Error, location: HTTPLocation) {
        if let same = error as? TransportError {
            self = same
            return
        }
        let dial = "dial tcp \(location.authority)"
        if Task.isCancelled {
            self.init(.cancelled, "GET \"\(location)\": context canceled")
            return
        }
        switch error {
        case let error as NIOConnectionError:
            if error.dnsAError != nil || error.dnsAAAAError != nil, error.connectionErrors.isEmpty {
                self.init(.connect, "dial tcp: lookup \(location.host): no such host")
            } else if let first = error.connectionErrors.first {
                self.init(.connect, "\(dial): connect: \(Self.describe(first.error))")
            } else {
                self.init(.connect, "\(dial): connect: \(error)")
            }
        case ChannelError.connectTimeout:
            self.init(.timeout, "\(dial): i/o timeout")
        case let error as IdleReadFailure.Timeout:
            self.init(.timeout, "GET \"\(location)\": read tcp \(location.authority): i/o timeout (nothing received for \(error.seconds)s)")
        case let error as NIOSSLError:
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                self.init(.tls, "GET \"\(location)\": tls: failed to verify certificate: x509: certificate signed by unknown authority (the system's CAs in /etc/ssl/certs do not trust \(location.authority); install its CA there, or list it under registries.insecure)")
            } else {
                self.init(.tls, "GET \"\(location)\": tls: \(error)")
            }
        case let error as BoringSSLError:
            self.init(.tls, "GET \"\(location)\": tls: \(error)")
        case let error as IOError:
            self.init(.broken, "GET \"\(location)\": read tcp \(location.authority): \(Self.describe(error))")
        case ChannelError.eof, ChannelError.ioOnClosedChannel, ChannelError.alreadyClosed, ChannelError.outputClosed:
            self.init(.broken, "GET \"\(location)\": unexpected EOF")
        case HTTPParserError.invalidEOFState:
            self.init(.broken, "GET \"\(location)\": unexpected EOF: the connection closed before the body ended")
        case let error as HTTPParserError:
            self.init(.malformed, "GET \"\(location)\": malformed HTTP response: \(error)")
        default:
            self.init(.broken, "GET \"\(location)\": \(error)")
        }
    }

    static func describe(_ error: any Error) -> String {
        if let io = error as? IOError { return String(cString: strerror(io.errnoCode)).lowercased() }
        if case ChannelError.connectTimeout = error { return "i/o timeout" }
        return "\(error)"
    }
}

/// Turns IdleStateHandler's read event into an error, which fails the exchange.
final class IdleReadFailure: ChannelInboundHandler, Sendable {
    typealias InboundIn = HTTPClientResponsePart
    typealias InboundOut = HTTPClientResponsePart

    struct Timeout: Error { var seconds: Int64 }
    let seconds: Int64

    init(timeout: TimeAmount) { seconds = timeout.nanoseconds / 1_000_000_000 }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            context.fireErrorCaught(Timeout(seconds: seconds))
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}

/// The client's two TLS contexts (verifying, and trusting any certificate for the registries
/// listed insecure), made once, on first use, by whichever exchange needs them first.
private final class TLSContexts: Sendable {
    struct Contexts: Sendable {
        let verifying: NIOSSLContext
        let trusting: NIOSSLContext
    }

    /// Why the contexts could not be made (a missing or broken CA bundle).
    struct SetupFailure: Error {
        let reason: String
    }

    private let made = Mutex<Result<Contexts, SetupFailure>?>(nil)

    func get() -> Result<Contexts, SetupFailure> {
        made.withLock { made in
            if let made { return made }
            var verifying = TLSConfiguration.makeClientConfiguration()
            verifying.applicationProtocols = ["http/1.1"]
            var trusting = verifying
            trusting.certificateVerification = .none
            let result: Result<Contexts, SetupFailure>
            do {
                result = .success(Contexts(verifying: try NIOSSLContext(configuration: verifying),
                                           trusting: try NIOSSLContext(configuration: trusting)))
            } catch {
                result = .failure(SetupFailure(reason: "\(error)"))
            }
            made = result
            return result
        }
    }
}
