import NIOCore
import NIOHTTP1
import Synchronization

/// A SPDY/3.1 session the API has accepted (`Upgrade: SPDY/3.1`, kubectl before 1.31 for
/// port-forward and before 1.29 for exec and attach): the stream protocol it chose (the
/// `X-Stream-Protocol-Version` of the 101 answer), and what runs on the connection's bytes
/// once it is upgraded (the server closes it when `run` returns).
public struct SPDYSession: Sendable {
    public typealias Run = @Sendable (NIOAsyncChannelInboundStream<ByteBuffer>, NIOAsyncChannelOutboundWriter<ByteBuffer>) async -> Void
    public var streamProtocol: String
    var run: Run

    init(streamProtocol: String, run: @escaping Run) {
        self.streamProtocol = streamProtocol
        self.run = run
    }

    /// The protocol of the client's `X-Stream-Protocol-Version` headers (in order) that is
    /// one of `supported`.
    static func negotiate(_ offered: [String], supported: [String]) -> String? {
        for header in offered {
            for name in header.split(separator: ",") {
                let trimmed = name.filter { $0 != " " && $0 != "\t" }
                if supported.contains(trimmed) { return trimmed }
            }
        }
        return nil
    }
}

/// The session accepted during one connection's SPDY upgrade, for its pipeline handler.
final class AcceptedSPDYSession: Sendable {
    private let value = Mutex<SPDYSession?>(nil)
    func set(_ session: SPDYSession) { value.withLock { $0 = session } }
    var session: SPDYSession? { value.withLock { $0 } }
}

/// NIO's upgrader for `Upgrade: SPDY/3.1`: `shouldUpgrade` answers the extra headers of the
/// 101 (nil refuses, and the request is then served as plain HTTP, whose answer says why).
struct SPDYServerUpgrader<UpgradeResult: Sendable>: NIOTypedHTTPServerProtocolUpgrader {
    struct Refused: Error {}

    let supportedProtocol = "SPDY/3.1"
    let requiredUpgradeHeaders: [String] = []
    let shouldUpgrade: @Sendable (Channel, HTTPRequestHead) -> EventLoopFuture<HTTPHeaders?>
    let upgradePipelineHandler: @Sendable (Channel, HTTPRequestHead) -> EventLoopFuture<UpgradeResult>

    func buildUpgradeResponse(channel: Channel, upgradeRequest: HTTPRequestHead,
                              initialResponseHeaders: HTTPHeaders) -> EventLoopFuture<HTTPHeaders> {
        shouldUpgrade(channel, upgradeRequest).flatMapThrowing { extra in
            guard let extra else { throw Refused() }
            var headers = initialResponseHeaders
            headers.add(contentsOf: extra)
            return headers
        }
    }

    func upgrade(channel: Channel, upgradeRequest: HTTPRequestHead) -> EventLoopFuture<UpgradeResult> {
        upgradePipelineHandler(channel, upgradeRequest)
    }
}
