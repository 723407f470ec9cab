import Glibc

/// A WebSocket client connection (RFC 6455) over podd's Unix socket, as exec, attach and debug
/// use it with Kubernetes' channel subprotocols.
final class WebSocket {
    enum Message {
        case binary([UInt8])
        case text([UInt8])
        case close
    }

    let socket: UnixSocket
    /// The subprotocol podd chose (`v5.channel.k8s.io`, `v4.channel.k8s.io`), or "".
    let subprotocol: String
    private var buffer: [UInt8]
    private var position = 0
    private var fragments: [UInt8] = []
    private var fragmentOpcode: UInt8 = 0
    private var sentClose = false

    var fd: Int32 { socket.fd }

    private init(socket: UnixSocket, subprotocol: String, received: [UInt8]) {
        self.socket = socket
        self.subprotocol = subprotocol
        self.buffer = received
    }

    /// Opens `path` with a WebSocket upgrade, offering `protocols` in order of preference.
    /// A refusal (pod or container not found, ...) is the server's Status as an error.
    static func connect(socketPath: String, path: String, query: [(String, String)], protocols: [String]) throws -> WebSocket {
        let connection = try HTTPConnection(socketPath: socketPath)
        let key = Base64.encode(randomBytes(16))
        let headers = [
            ("Upgrade", "websocket"),
            ("Sec-WebSocket-Version", "13"),
            ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Protocol", protocols.joined(separator: ", ")),
        ]
        try connection.send(
            method: "GET", target: path + PoddClient.queryString(query), headers: headers, body: .none, connection: "Upgrade")
        let head = try connection.readHead()
        guard head.status == 101 else {
            if head.isSuccess {
                throw PodctlError("podd answered \(path) with status \(head.status) instead of upgrading to a WebSocket")
            }
            let body = (try? connection.readWholeBody(of: head, method: "GET", limit: 1024 * 1024)) ?? []
            throw APIStatusError(code: head.status, body: body)
        }
        let expected = Base64.encode(SHA1.digest(Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)))
        guard head.header("Sec-WebSocket-Accept")?.trimmingSpaces == expected else {
            throw PodctlError("podd's WebSocket handshake for \(path) carries a wrong Sec-WebSocket-Accept")
        }
        let (socket, received) = connection.takeOver()
        return WebSocket(socket: socket, subprotocol: head.header("Sec-WebSocket-Protocol")?.trimmingSpaces ?? "", received: received)
    }

    // MARK: Sending

    /// Sends one frame, masked as a client must.
    func send(opcode: UInt8, _ payload: [UInt8]) throws(PodctlError) {
        var frame: [UInt8] = [0x80 | opcode]
        let count = payload.count
        if count < 126 {
            frame.append(0x80 | UInt8(count))
        } else if count <= 0xFFFF {
            frame.append(0x80 | 126)
            frame += [UInt8(count >> 8), UInt8(count & 0xFF)]
        } else {
            frame.append(0x80 | 127)
            for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8(truncatingIfNeeded: UInt64(count) >> UInt64(shift))) }
        }
        let mask = randomBytes(4)
        frame += mask
        frame.reserveCapacity(frame.count + count)
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index & 3]) }
        do {
            try socket.send(frame)
        } catch {
            throw PodctlError("lost the connection to podd at \(socket.path): \(errorText(error.code))")
        }
    }

    func sendBinary(_ payload: [UInt8]) throws(PodctlError) { try send(opcode: 0x2, payload) }

    /// Starts the closing handshake (once).
    func close() {
        guard !sentClose else { return }
        sentClose = true
        try? send(opcode: 0x8, [0x03, 0xE8])  // 1000: normal closure
    }

    // MARK: Receiving

    /// Reads what the socket has (blocking until something arrives); false at end of stream.
    func receive() throws(PodctlError) -> Bool {
        if position > 0 && position >= buffer.count / 2 {
            buffer.removeFirst(position)
            position = 0
        }
        do {
            return try socket.receive(appendingTo: &buffer) > 0
        } catch {
            if error.code == ECONNRESET { return false }
            throw PodctlError("lost the connection to podd at \(socket.path): \(errorText(error.code))")
        }
    }

    /// The next complete message among the bytes received, or nil when more are needed.
    /// Answers pings; reassembles fragmented messages.
    func nextMessage() throws(PodctlError) -> Message? {
        while true {
            guard let frame = try parseFrame() else { return nil }
            switch frame.opcode {
            case 0x0:  // continuation
                fragments += frame.payload
                if frame.fin {
                    defer { fragments = [] }
                    return fragmentOpcode == 0x1 ? .text(fragments) : .binary(fragments)
                }
            case 0x1, 0x2:
                if frame.fin { return frame.opcode == 0x1 ? .text(frame.payload) : .binary(frame.payload) }
                fragmentOpcode = frame.opcode
                fragments = frame.payload
            case 0x8:
                close()
                return .close
            case 0x9:
                try send(opcode: 0xA, frame.payload)
            default:
                continue  // pong, reserved
            }
        }
    }

    private func parseFrame() throws(PodctlError) -> (fin: Bool, opcode: UInt8, payload: [UInt8])? {
        let available = buffer.count - position
        guard available >= 2 else { return nil }
        let first = buffer[position]
        let second = buffer[position + 1]
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[position + 2]) << 8 | Int(buffer[position + 3])
            headerLength = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for index in 0..<8 { value = value << 8 | UInt64(buffer[position + 2 + index]) }
            guard value < UInt64(1 << 31) else { throw PodctlError("podd sent a WebSocket frame too large to read") }
            length = Int(value)
            headerLength = 10
        }
        let masked = second & 0x80 != 0
        let maskLength = masked ? 4 : 0
        guard available >= headerLength + maskLength + length else { return nil }
        let payloadStart = position + headerLength + maskLength
        var payload = Array(buffer[payloadStart..<(payloadStart + length)])
        if masked {
            let mask = Array(buffer[(position + headerLength)..<(position + headerLength + 4)])
            for index in payload.indices { payload[index] ^= mask[index & 3] }
        }
        position = payloadStart + length
        return (first & 0x80 != 0, first & 0x0F, payload)
    }
}

/// `count` random bytes, eight from each draw of the system generator (a getrandom(2)
/// call): UInt8.random draws once per byte, 16 times for a handshake key and 4 for every
/// frame's mask.
func randomBytes(_ count: Int) -> [UInt8] {
    var generator = SystemRandomNumberGenerator()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count + 7)
    while bytes.count < count {
        withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
    }
    return Array(bytes.prefix(count))
}
