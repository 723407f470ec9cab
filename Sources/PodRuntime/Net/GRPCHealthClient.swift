import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// The one gRPC call podd makes: `grpc.health.v1.Health/Check`, for gRPC probes, as kubelet's
/// prober makes it (pkg/probe/grpc): HTTP/2 in clear text with prior knowledge (kubelet's
/// probe uses insecure credentials), one request message naming the service, and either the
/// serving status the server answers or the gRPC status the call ends with.
///
/// The wire format is small enough to write here (the health protocol's two messages have one
/// field each); HTTP/2 and HPACK are SwiftNIO's.
public enum GRPCHealthClient {
    /// How one call ended.
    public enum Outcome: Equatable, Sendable {
        /// The server answered: `HealthCheckResponse.status` (`servingStatusName`).
        case answered(status: Int)
        /// The call failed with a gRPC status: the server's, or the one gRPC gives a broken
        /// exchange (an HTTP status that is not 200, a reset stream, a malformed message).
        case failed(code: GRPCStatusCode, message: String)
        /// No HTTP/2 connection: the peer closed before its SETTINGS arrived, or sent
        /// something that is not HTTP/2. gRPC counts that as a failed connection and dials
        /// again (as kubelet's blocking dial does, until its deadline).
        case notConnected(String)
        /// The deadline passed with the call unfinished.
        case timedOut
    }

    /// A call on `fd`, a stream socket connected to the server, which this takes over.
    /// `authority` is the `:authority` (host:port), `timeout` bounds the whole exchange.
    public static func check(service: String, authority: String, userAgent: String,
                             connectedSocket fd: Int32, timeout: Double) async -> Outcome {
        let loop = MultiThreadedEventLoopGroup.singleton.next()
        let promise = loop.makePromise(of: Outcome.self)
        let headers = requestHeaders(authority: authority, userAgent: userAgent, timeout: timeout)
        let message = requestMessage(service: service)
        let bootstrap = ClientBootstrap(group: loop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(NIOHTTP2Handler(mode: .client))
                    try channel.pipeline.syncOperations.addHandler(HealthCall(headers: headers, message: message, promise: promise))
                }
            }
        let deadline = loop.scheduleTask(in: .milliseconds(Int64(max(timeout, 0.001) * 1000))) {
            promise.succeed(.timedOut)
        }
        bootstrap.withConnectedSocket(fd).whenComplete { result in
            switch result {
            case let .failure(error): promise.succeed(.notConnected("\(error)"))
            case let .success(channel): promise.futureResult.whenComplete { _ in channel.close(promise: nil) }
            }
        }
        let outcome = (try? await promise.futureResult.get()) ?? .timedOut
        deadline.cancel()
        return outcome
    }

    /// The request's headers, as grpc-go sends them: pseudo-headers first, then
    /// `content-type`, `user-agent`, `te: trailers` and the deadline as `grpc-timeout`
    /// (at most 8 digits, in milliseconds).
    static func requestHeaders(authority: String, userAgent: String, timeout: Double) -> HPACKHeaders {
        let milliseconds = min(max(Int((timeout * 1000).rounded(.up)), 1), 99_999_999)
        return HPACKHeaders([
            (":method", "POST"), (":scheme", "http"), (":path", "/grpc.health.v1.Health/Check"),
            (":authority", authority), ("content-type", "application/grpc"), ("user-agent", userAgent),
            ("te", "trailers"), ("grpc-timeout", "\(milliseconds)m"),
        ])
    }

    /// A `HealthCheckRequest { string service = 1; }` in gRPC's length-prefixed framing: a
    /// byte saying "not compressed", the length (4 bytes, big-endian), the protobuf message
    /// (the field left out when empty, as proto3 writes it).
    static func requestMessage(service: String) -> [UInt8] {
        var body: [UInt8] = []
        let name = Array(service.utf8)
        if !name.isEmpty {
            body.append(0x0A)  // field 1, wire type 2 (length-delimited)
            var length = UInt64(name.count)
            while length >= 0x80 {
                body.append(UInt8(length & 0x7F) | 0x80)
                length >>= 7
            }
            body.append(UInt8(length))
            body += name
        }
        let n = UInt32(body.count)
        return [0, UInt8(n >> 24), UInt8(n >> 16 & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n & 0xFF)] + body
    }

    /// The serving status in a response's framed message (`HealthCheckResponse { ServingStatus
    /// status = 1; }`; 0 when the field is absent, as proto3 reads it). nil when the bytes are
    /// not one whole, uncompressed message (podd asks for no compression) or not protobuf.
    static func servingStatus(framedMessage bytes: [UInt8]) -> Int? {
        guard bytes.count >= 5, bytes[0] == 0 else { return nil }
        let length = Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4])
        guard bytes.count - 5 == length else { return nil }
        var i = 5
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while i < bytes.count, shift < 64 {
                let byte = bytes[i]
                i += 1
                value |= UInt64(byte & 0x7F) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        var status = 0
        while i < bytes.count {
            guard let key = varint() else { return nil }
            switch (key >> 3, key & 7) {
            case (1, 0):
                guard let value = varint() else { return nil }
                // An enum is an int32 on the wire: a negative one comes as ten bytes.
                status = Int(Int32(truncatingIfNeeded: value))
            case (_, 0): guard varint() != nil else { return nil }
            case (_, 1): i += 8
            case (_, 2):
                guard let n = varint(), n <= UInt64(bytes.count - i) else { return nil }
                i += Int(n)
            case (_, 5): i += 4
            default: return nil
            }
            guard i <= bytes.count else { return nil }
        }
        return status
    }

    /// `HealthCheckResponse.ServingStatus.SERVING`: the one answer a probe takes as healthy.
    public static let serving = 1

    /// The name protobuf prints for a `ServingStatus` (the number itself when the enum has
    /// none).
    public static func servingStatusName(_ value: Int) -> String {
        switch value {
        case 0: return "UNKNOWN"
        case 1: return "SERVING"
        case 2: return "NOT_SERVING"
        case 3: return "SERVICE_UNKNOWN"
        default: return String(value)
        }
    }

    /// The gRPC status of a response whose HTTP status is not 200, as grpc-go maps it
    /// (gRPC's "HTTP to gRPC status code mapping").
    static func statusForHTTP(_ code: Int) -> GRPCStatusCode {
        switch code {
        case 400: return .internal
        case 401: return .unauthenticated
        case 403: return .permissionDenied
        case 404: return .unimplemented
        case 429, 502, 503, 504: return .unavailable
        default: return .unknown
        }
    }

    /// gRPC percent-encodes `grpc-message` (RFC 3986 style, in UTF-8).
    static func percentDecoded(_ text: String) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(text.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "%"), utf8.count >= 2,
               let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
                bytes.append(value)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// gRPC's status codes, with the names grpc-go prints (`codes.Code.String`).
public enum GRPCStatusCode: Int, Sendable, CustomStringConvertible {
    case ok = 0, cancelled, unknown, invalidArgument, deadlineExceeded, notFound, alreadyExists,
         permissionDenied, resourceExhausted, failedPrecondition, aborted, outOfRange,
         unimplemented, `internal`, unavailable, dataLoss, unauthenticated

    public var description: String {
        switch self {
        case .ok: return "OK"
        case .cancelled: return "Canceled"
        case .unknown: return "Unknown"
        case .invalidArgument: return "InvalidArgument"
        case .deadlineExceeded: return "DeadlineExceeded"
        case .notFound: return "NotFound"
        case .alreadyExists: return "AlreadyExists"
        case .permissionDenied: return "PermissionDenied"
        case .resourceExhausted: return "ResourceExhausted"
        case .failedPrecondition: return "FailedPrecondition"
        case .aborted: return "Aborted"
        case .outOfRange: return "OutOfRange"
        case .unimplemented: return "Unimplemented"
        case .internal: return "Internal"
        case .unavailable: return "Unavailable"
        case .dataLoss: return "DataLoss"
        case .unauthenticated: return "Unauthenticated"
        }
    }
}

/// One health check on stream 1 of a fresh connection: sends the request when the channel
/// becomes active, then gathers the response's headers, its message and its trailers (or a
/// trailers-only response) into an `Outcome`.
private final class HealthCall: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame
    typealias OutboundOut = HTTP2Frame

    /// What a response may hold: the health protocol's answer is a few bytes.
    static let messageLimit = 64 * 1024

    let headers: HPACKHeaders
    let message: [UInt8]
    let promise: EventLoopPromise<GRPCHealthClient.Outcome>
    let stream = HTTP2StreamID(1)
    /// The server's SETTINGS came: the connection is established, as gRPC counts it.
    var connected = false
    var httpStatus: Int?
    var data: [UInt8] = []

    init(headers: HPACKHeaders, message: [UInt8], promise: EventLoopPromise<GRPCHealthClient.Outcome>) {
        self.headers = headers
        self.message = message
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        var buffer = context.channel.allocator.buffer(capacity: message.count)
        buffer.writeBytes(message)
        context.write(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .headers(.init(headers: headers)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(HTTP2Frame(streamID: stream, payload: .data(.init(data: .byteBuffer(buffer), endStream: true)))),
                              promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.payload {
        case .settings:
            connected = true
        case let .goAway(lastStreamID, code, _) where lastStreamID < stream:
            // The server will not answer the stream (it was not processed): gRPC retries such
            // a call elsewhere; here it ends as the connection ends. (A GOAWAY that covers the
            // stream lets its answer still come.)
            end(.failed(code: .unavailable, message: "the connection is draining due to the server sending GOAWAY with code \(code)"))
        case let .headers(h) where frame.streamID == stream:
            if httpStatus == nil, let status = h.headers.first(name: ":status").flatMap(Int.init) {
                httpStatus = status
                guard status == 200 else {
                    return end(.failed(code: GRPCHealthClient.statusForHTTP(status),
                                       message: "unexpected HTTP status code received from server: \(status)"))
                }
            }
            if h.endStream { trailers(h.headers) }
        case let .data(d) where frame.streamID == stream:
            if case let .byteBuffer(buffer) = d.data {
                guard self.data.count + buffer.readableBytes <= Self.messageLimit else {
                    return end(.failed(code: .resourceExhausted, message: "grpc: received message larger than max (\(self.data.count + buffer.readableBytes) vs. \(Self.messageLimit))"))
                }
                self.data += buffer.readableBytesView
            }
            if d.endStream {
                end(.failed(code: .internal, message: "server closed the stream without sending trailers"))
            }
        case let .rstStream(code) where frame.streamID == stream:
            end(.failed(code: code == .refusedStream ? .unavailable : code == .cancel ? .cancelled : .internal,
                        message: "stream terminated by RST_STREAM with error code: \(code)"))
        default:
            break
        }
    }

    /// The call's end: its `grpc-status`, and the message when it is OK.
    private func trailers(_ trailers: HPACKHeaders) {
        guard let code = trailers.first(name: "grpc-status").flatMap(Int.init) else {
            return end(.failed(code: .internal, message: "server closed the stream without sending trailers"))
        }
        let message = GRPCHealthClient.percentDecoded(trailers.first(name: "grpc-message") ?? "")
        guard code == 0 else {
            return end(.failed(code: GRPCStatusCode(rawValue: code) ?? .unknown, message: message))
        }
        if data.isEmpty {
            return end(.failed(code: .internal, message: "cardinality violation: received no response message from non-streaming RPC"))
        }
        guard let status = GRPCHealthClient.servingStatus(framedMessage: data) else {
            return end(.failed(code: .internal, message: "grpc: failed to unmarshal the received message"))
        }
        end(.answered(status: status))
    }

    private func end(_ outcome: GRPCHealthClient.Outcome) {
        promise.succeed(outcome)
    }

    func channelInactive(context: ChannelHandlerContext) {
        end(connected ? .failed(code: .unavailable, message: "error reading from server: EOF")
                      : .notConnected("the connection closed before the server's HTTP/2 settings"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        end(connected ? .failed(code: .unavailable, message: "connection error: \(error)")
                      : .notConnected("\(error)"))
        context.close(promise: nil)
    }
}
