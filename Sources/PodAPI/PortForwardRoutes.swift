import Logging
import NIOCore
import NIOWebSocket
import PodModel
import PodRuntime

/// `GET|POST /api/v1/namespaces/{ns}/pods/{name}/portforward` in each form a client speaks:
/// `Upgrade: SPDY/3.1` with `X-Stream-Protocol-Version: portforward.k8s.io` (kubectl before
/// 1.31), the same SPDY tunnelled in a WebSocket with subprotocol
/// `SPDY/3.1+portforward.k8s.io` (kubectl 1.31+), and the `v4.channel.k8s.io` WebSocket with
/// `?ports=` (the Python client, podctl). The pod is checked before the upgrade, so that a
/// missing or stopped pod is an HTTP error with a Status body.
struct PortForwardRoutes: Sendable {
    let registry: PodRegistry
    let logger: Logger

    static let streamProtocol = "portforward.k8s.io"
    static let tunnelProtocol = "SPDY/3.1+portforward.k8s.io"
    static let channelProtocol = "v4.channel.k8s.io"

    /// The pod a port-forward request's path names, if it names one.
    static func target(_ r: APIRequest) -> PodRegistry.Key? {
        let s = r.segments
        guard s.count == 7, s[0] == "api", s[1] == "v1", s[2] == "namespaces", s[4] == "pods", s[6] == "portforward" else { return nil }
        return PodRegistry.Key(s[3], s[5])
    }

    /// The pod's dialer, or the error the API answers with.
    func dialer(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> PodDialer {
        guard r.method == .GET || r.method == .POST else { throw .methodNotAllowed(r.method, r.path) }
        guard let controller = await registry.controller(key) else { throw .notFound(key.name) }
        return try await runtime { () async throws(RuntimeError) in try await controller.portForwardDialer() }
    }

    /// The ports of `?ports=80,8080` (repeated or comma-separated), or why not.
    static func ports(_ r: APIRequest) throws(StatusError) -> [Int] {
        let texts = (r.query["ports"] ?? []).flatMap { $0.split(separator: ",").map(String.init) }
        guard !texts.isEmpty else { throw .badRequest("query parameter \"ports\" is required") }
        var ports: [Int] = []
        for text in texts {
            guard let port = PortForwardTarget.port(text.filter { $0 != " " }) else {
                throw .badRequest("unable to parse \"\(text)\" as a port: it must be a number from 1 to 65535")
            }
            ports.append(port)
        }
        return ports
    }

    /// The SPDY session for `Upgrade: SPDY/3.1`, or nil (the plain route then answers).
    func acceptSPDY(_ r: APIRequest) async -> SPDYSession? {
        guard let key = Self.target(r),
              SPDYSession.negotiate(r.headers["X-Stream-Protocol-Version"], supported: [Self.streamProtocol]) != nil,
              let dialer = try? await dialer(r, key: key) else { return nil }
        let forward = PortForwardOverSPDY(dialer: dialer, logger: logger)
        return SPDYSession(streamProtocol: Self.streamProtocol) { inbound, outbound in
            guard let connection = try? SPDYConnection(transport: RawSPDYTransport(outbound: outbound)) else { return }
            async let served: Void = forward.serve(connection)
            await RawSPDYTransport.pump(inbound, into: connection)
            await served
        }
    }

    /// The WebSocket session for a port-forward upgrade, or nil.
    func acceptWebSocket(_ r: APIRequest) async -> WebSocketSession? {
        guard let key = Self.target(r) else { return nil }
        let offered = r.headers["Sec-WebSocket-Protocol"]
        if SPDYSession.negotiate(offered, supported: [Self.tunnelProtocol]) != nil {
            guard let dialer = try? await dialer(r, key: key) else { return nil }
            let forward = PortForwardOverSPDY(dialer: dialer, logger: logger)
            return WebSocketSession(subprotocol: Self.tunnelProtocol) { inbound, outbound in
                guard let connection = try? SPDYConnection(transport: WebSocketSPDYTransport(outbound: outbound)) else { return }
                async let served: Void = forward.serve(connection)
                await WebSocketSPDYTransport.pump(inbound, outbound: outbound, into: connection)
                await served
            }
        }
        guard SPDYSession.negotiate(offered, supported: [Self.channelProtocol]) != nil,
              let ports = try? Self.ports(r), let dialer = try? await dialer(r, key: key) else { return nil }
        let forward = PortForwardOverChannels(dialer: dialer, ports: ports, logger: logger)
        return WebSocketSession(subprotocol: Self.channelProtocol) { inbound, outbound in
            await forward.run(inbound, outbound)
        }
    }

    /// The answer to a port-forward request that was not upgraded: podctl's descriptor handoff
    /// when the request asks for it, else why the request was refused.
    func respond(_ r: APIRequest, key: PodRegistry.Key) async throws(StatusError) -> APIResponse {
        let dialer = try await dialer(r, key: key)
        if let socketName = r.headers[Self.handoffHeader].first {
            return try await handOff(r, dialer: dialer, socketName: socketName)
        }
        let offered = r.headers["Sec-WebSocket-Protocol"]
        if SPDYSession.negotiate(offered, supported: [Self.channelProtocol]) != nil { _ = try Self.ports(r) }
        throw .badRequest("Upgrade request required: port-forward speaks SPDY/3.1 (Upgrade: SPDY/3.1 with X-Stream-Protocol-Version: \(Self.streamProtocol)), SPDY/3.1 in a WebSocket (Sec-WebSocket-Protocol: \(Self.tunnelProtocol)), or a \(Self.channelProtocol) WebSocket with ?ports=")
    }

    /// The header of podctl's handoff request: the abstract Unix socket (its name without the
    /// leading NUL) on which the caller waits for the pod's connected socket.
    static let handoffHeader = "X-Podd-Portforward-Handoff"

    /// `?ports=PORT` with the handoff header (docs/portforward-handoff.md): the connection to
    /// PORT in the pod goes to the caller's socket (SCM_RIGHTS), then 200 with a Status. A
    /// port nobody listens on is 503 with kubelet's message; a socket that is not the
    /// caller's is 403, and a name podd cannot reach 400 (the caller then uses the WebSocket).
    private func handOff(_ r: APIRequest, dialer: PodDialer, socketName: String) async throws(StatusError) -> APIResponse {
        let ports = try Self.ports(r)
        guard ports.count == 1, let port = ports.first else {
            throw .badRequest("a port-forward handoff carries one connection: ?ports= must name exactly one port (it names \(ports.count))")
        }
        do throws(PodDialer.HandoffError) {
            try await dialer.handOff(port: port, socketName: socketName, caller: r.peer.pid, uid: r.peer.uid)
        } catch {
            logger.debug("port-forward handoff to port \(port) of \(dialer.podFullName): \(error)")
            switch error {
            case let .dial(dial):
                throw StatusError(code: 503, reason: "ServiceUnavailable", message: PortForwardTarget.failure(port: port, dialer: dialer, dial))
            case let .notCaller(reason):
                throw .forbidden(reason)
            case let .socket(reason):
                throw .badRequest(reason)
            }
        }
        return PodAPIHandler.json(200, .object(JSONObject([("kind", "Status"), ("apiVersion", "v1"), ("metadata", .object(JSONObject())),
                                                           ("status", "Success")])))
    }
}
