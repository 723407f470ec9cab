import NIOCore
import Synchronization

/// One stream of a SPDY connection, as its user sees it: the client's headers, what the
/// client sends (`read`), and writing, finishing or resetting podd's half.
final class SPDYStream: Sendable {
    let id: UInt32
    let headers: SPDYHeaders
    private let connection: SPDYConnection
    private let inbound = Mutex<Inbound>(Inbound())
    private let outbound: Mutex<Outbound>

    /// Bytes a stream holds for its reader before the connection stops reading (and so the
    /// client, through TCP): one slow pod socket cannot make podd buffer more than this.
    static let inboundLimit = 256 << 10
    /// The largest DATA frame podd writes.
    static let maxFrame = 64 << 10

    /// Why a write failed: the stream was reset, or podd finished it already.
    struct Closed: Error, CustomStringConvertible {
        var description: String { "the SPDY stream is closed" }
    }

    private struct Inbound {
        var chunks: [ByteBuffer] = []
        var first = 0
        var bytes = 0
        var finished = false
        var reset = false
        /// Consumed and not yet granted back to the peer.
        var ungranted = 0
        var reader: CheckedContinuation<Void, Never>?
        /// The connection's reader, waiting for room.
        var producer: CheckedContinuation<Void, Never>?
    }

    private struct Outbound {
        var finished = false
        var reset = false
        var window: Int
        var waiter: CheckedContinuation<Void, Never>?
    }

    init(id: UInt32, headers: SPDYHeaders, connection: SPDYConnection, sendWindow: Int, unidirectional: Bool) {
        self.id = id
        self.headers = headers
        self.connection = connection
        outbound = Mutex(Outbound(finished: unidirectional, window: sendWindow))
    }

    // MARK: - From the client

    /// The next bytes the client sent, or nil once it finished (FIN) or reset the stream, or
    /// the connection ended.
    func read() async -> ByteBuffer? {
        while true {
            enum Step { case chunk(ByteBuffer, grant: Int, wake: CheckedContinuation<Void, Never>?), end, wait }
            let step = inbound.withLock { s -> Step in
                if s.first < s.chunks.count {
                    let chunk = s.chunks[s.first]
                    s.first += 1
                    if s.first == s.chunks.count { s.chunks.removeAll(keepingCapacity: true); s.first = 0 }
                    s.bytes -= chunk.readableBytes
                    s.ungranted += chunk.readableBytes
                    var grant = 0
                    if s.ungranted >= SPDYConnection.defaultWindow / 2 && !s.finished && !s.reset {
                        grant = s.ungranted
                        s.ungranted = 0
                    }
                    var wake: CheckedContinuation<Void, Never>?
                    if s.bytes < Self.inboundLimit { wake = s.producer; s.producer = nil }
                    return .chunk(chunk, grant: grant, wake: wake)
                }
                return s.finished || s.reset ? .end : .wait
            }
            switch step {
            case let .chunk(chunk, grant, wake):
                wake?.resume()
                if grant > 0 { try? await connection.send(.windowUpdate(streamID: id, delta: UInt32(grant))) }
                return chunk
            case .end:
                return nil
            case .wait:
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let ready = inbound.withLock { s -> Bool in
                        if s.first < s.chunks.count || s.finished || s.reset { return true }
                        s.reader = c
                        return false
                    }
                    if ready { c.resume() }
                }
            }
        }
    }

    /// DATA for this stream (from the connection's reader): returns once the stream holds
    /// less than its limit.
    func deliver(_ payload: ByteBuffer) async {
        let (reader, full) = inbound.withLock { s -> (CheckedContinuation<Void, Never>?, Bool) in
            guard !s.finished, !s.reset else { return (nil, false) }
            s.chunks.append(payload)
            s.bytes += payload.readableBytes
            defer { s.reader = nil }
            return (s.reader, s.bytes >= Self.inboundLimit)
        }
        reader?.resume()
        guard full else { return }
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let room = inbound.withLock { s -> Bool in
                if s.bytes < Self.inboundLimit || s.reset { return true }
                s.producer = c
                return false
            }
            if room { c.resume() }
        }
    }

    /// The client finished its half (FIN).
    func remoteFinished() {
        let reader = inbound.withLock { s -> CheckedContinuation<Void, Never>? in
            s.finished = true
            defer { s.reader = nil }
            return s.reader
        }
        reader?.resume()
        forgetIfDone()
    }

    /// The client reset the stream, or the connection ended: reads end, writes fail.
    func remoteReset() {
        let (reader, producer) = inbound.withLock { s -> (CheckedContinuation<Void, Never>?, CheckedContinuation<Void, Never>?) in
            s.reset = true
            s.chunks = []
            s.first = 0
            s.bytes = 0
            defer { s.reader = nil; s.producer = nil }
            return (s.reader, s.producer)
        }
        reader?.resume()
        producer?.resume()
        let waiter = outbound.withLock { o -> CheckedContinuation<Void, Never>? in
            o.reset = true
            defer { o.waiter = nil }
            return o.waiter
        }
        waiter?.resume()
    }

    /// podd stops reading the stream (its reader is done with it): reads end, and what the
    /// client still sends on it is refused.
    func abandon() {
        remoteReset()
        connection.forget(id)
    }

    /// The peer granted more window (WINDOW_UPDATE).
    func windowGranted(_ delta: Int) {
        let waiter = outbound.withLock { o -> CheckedContinuation<Void, Never>? in
            o.window += delta
            defer { o.waiter = nil }
            return o.waiter
        }
        waiter?.resume()
    }

    // MARK: - To the client

    /// Sends `bytes` on the stream, in frames of at most `maxFrame`, within the peer's window
    /// when it keeps one.
    func write(_ bytes: ByteBuffer) async throws {
        var rest = bytes
        while rest.readableBytes > 0 {
            var size = min(rest.readableBytes, Self.maxFrame)
            if connection.peerKeepsWindows {
                size = try await reserveWindow(upTo: size)
            } else {
                try outbound.withLock { o throws in if o.finished || o.reset { throw Closed() } }
            }
            guard let slice = rest.readSlice(length: size) else { break }
            try await connection.send(.data(streamID: id, flags: 0, slice))
        }
    }

    /// Waits until the window has room; takes up to `size` of it.
    private func reserveWindow(upTo size: Int) async throws -> Int {
        while true {
            let granted = try outbound.withLock { o throws -> Int in
                if o.finished || o.reset { throw Closed() }
                let n = min(size, o.window)
                if n > 0 { o.window -= n }
                return n
            }
            if granted > 0 { return granted }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ready = outbound.withLock { o -> Bool in
                    if o.window > 0 || o.reset { return true }
                    o.waiter = c
                    return false
                }
                if ready { c.resume() }
            }
        }
    }

    /// Ends podd's half of the stream (an empty DATA frame with FIN).
    func finish() async {
        let first = outbound.withLock { o -> Bool in
            defer { o.finished = true }
            return !o.finished && !o.reset
        }
        guard first else { return }
        try? await connection.send(.data(streamID: id, flags: SPDYFrame.flagFin, ByteBuffer()))
        forgetIfDone()
    }

    /// Resets the stream (RST_STREAM CANCEL): neither end sends more.
    func reset(_ status: SPDYFrame.ResetStatus = .cancel) async {
        let first = outbound.withLock { o -> Bool in
            defer { o.reset = true }
            return !o.reset
        }
        remoteReset()
        connection.forget(id)
        if first { try? await connection.send(.rstStream(streamID: id, status: status)) }
    }

    private func forgetIfDone() {
        let done = inbound.withLock { $0.finished || $0.reset } && outbound.withLock { $0.finished || $0.reset }
        if done { connection.forget(id) }
    }
}
