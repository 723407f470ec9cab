import NIOCore
import NIOWebSocket

/// A connection upgraded with `Upgrade: SPDY/3.1`: the SPDY bytes are the connection's own.
struct RawSPDYTransport: SPDYTransport {
    let outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>

    func write(_ bytes: ByteBuffer) async throws { try await outbound.write(bytes) }
    func write(header: ByteBuffer, payload: ByteBuffer) async throws { try await outbound.write(contentsOf: [header, payload]) }
    func close() async { outbound.finish() }

    /// Feeds the connection's bytes to `connection` until the client closes or breaks the protocol.
    static func pump(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, into connection: SPDYConnection) async {
        do {
            for try await bytes in inbound {
                try await connection.receive(bytes)
            }
            connection.inputEnded()
        } catch let error as SPDYProtocolError {
            await connection.fail(error)
        } catch {
            connection.inputEnded()
        }
    }
}

/// SPDY tunnelled in a WebSocket (kubectl 1.31+, subprotocol `SPDY/3.1+<protocol>`): the SPDY
/// bytes travel in binary messages, split anywhere.
struct WebSocketSPDYTransport: SPDYTransport {
    let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>

    func write(_ bytes: ByteBuffer) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: bytes))
    }

    /// One message: the SPDY frame header as the WebSocket frame's "extension data" (written
    /// between the WebSocket header and the data; no extension is negotiated, so the client
    /// reads it as the message's first bytes), then the payload as it was read from the pod.
    func write(header: ByteBuffer, payload: ByteBuffer) async throws {
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: payload, extensionData: header))
    }

    func close() async {
        var code = ByteBuffer()
        code.writeInteger(UInt16(1000))
        try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
    }

    static func pump(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>,
                     into connection: SPDYConnection) async {
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .binary, .continuation:
                    try await connection.receive(frame.unmaskedData)
                case .ping:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    connection.inputEnded()
                    return
                default:
                    continue
                }
            }
            connection.inputEnded()
        } catch let error as SPDYProtocolError {
            await connection.fail(error)
        } catch {
            connection.inputEnded()
        }
    }
}
