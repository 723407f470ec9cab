import NIOCore
import Synchronization

/// Where a SPDY connection's bytes go: a raw connection after `Upgrade: SPDY/3.1`, or the
/// binary messages of a WebSocket (kubectl 1.31+'s `SPDY/3.1+...` tunnel). A write returns
/// once the transport has taken the bytes, so that a client that stops reading holds up its
/// writers, never podd's memory.
protocol SPDYTransport: Sendable {
    func write(_ bytes: ByteBuffer) async throws
    /// Writes a frame's header and its payload, one after the other, without joining them
    /// (a DATA frame's payload is not copied behind its 8 bytes of header).
    func write(header: ByteBuffer, payload: ByteBuffer) async throws
    /// Ends the connection (after what was written).
    func close() async
}

/// The server end of a SPDY/3.1 connection, as kubelet's (moby/spdystream's) is for the
/// streams kubectl opens: every SYN_STREAM is answered at once with a SYN_REPLY and handed
/// to the user of `newStreams`; pings from the client are echoed; DATA reaches its stream.
///
/// The caller feeds what it reads from the transport to `receive`, one piece at a time and in
/// order, and calls `inputEnded` at its end. `receive` returns once a stream has room for its
/// data: a stream whose reader is slow (its pod's socket is full) holds up the reading of the
/// connection after `SPDYStream.inboundLimit` bytes, so nothing is buffered without bound.
///
/// Flow control (SPDY/3.1): podd grants window to the peer as its streams' data is consumed
/// (WINDOW_UPDATE), and respects the peer's windows once the peer shows it keeps them (its
/// first WINDOW_UPDATE). spdystream, kubectl's SPDY, never sends one and ignores the frame:
/// towards it, TCP's own back-pressure is what bounds podd's writes.
final class SPDYConnection: Sendable {
    let transport: any SPDYTransport
    /// Streams the client opened and podd accepted, in order.
    let newStreams: AsyncStream<SPDYStream>
    private let newStreamsInput: AsyncStream<SPDYStream>.Continuation
    private let parser: Mutex<SPDYFrameParser?>
    private let encoder: Mutex<SPDYFrameEncoder?>
    private let writeOrder = SPDYWriteOrder()
    private let state = Mutex<State>(State())

    /// At most this many streams open at once (kubectl opens two per forwarded connection).
    static let maxStreams = 2048
    /// The window every stream starts with (SPDY/3.1's default).
    static let defaultWindow = 65_536

    private struct State {
        var streams: [UInt32: SPDYStream] = [:]
        var lastStreamID: UInt32 = 0
        var closed = false
        /// The peer has shown that it keeps SPDY/3.1 flow-control windows.
        var peerKeepsWindows = false
        var initialSendWindow = SPDYConnection.defaultWindow
        /// Waiting for the connection's end (`waitEnded`).
        var endWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter = 0
    }

    init(transport: any SPDYTransport) throws(SPDYCompressionError) {
        self.transport = transport
        parser = Mutex(try SPDYFrameParser())
        encoder = Mutex(try SPDYFrameEncoder())
        (newStreams, newStreamsInput) = AsyncStream.makeStream()
    }

    /// Whether writers must wait for the peer's window.
    var peerKeepsWindows: Bool { state.withLock { $0.peerKeepsWindows } }

    // MARK: - Input

    /// Parses and handles what the transport read. Throws on bytes that are not SPDY/3.1; the
    /// caller then ends the connection (`fail`).
    func receive(_ bytes: ByteBuffer) async throws(SPDYProtocolError) {
        var frames: [SPDYFrame] = []
        let parsed: Result<Void, SPDYProtocolError> = parser.withLock { p in
            guard let p else { return .success(()) }
            p.append(bytes)
            do throws(SPDYProtocolError) {
                while let frame = try p.next() { frames.append(frame) }
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        for frame in frames { await handle(frame) }
        try parsed.get()
    }

    /// The transport's input ended (the client closed, or went away): every stream ends.
    func inputEnded() {
        let (streams, waiters) = state.withLock { s -> ([SPDYStream], [CheckedContinuation<Void, Never>]) in
            s.closed = true
            defer { s.streams = [:]; s.endWaiters = [:] }
            return (Array(s.streams.values), Array(s.endWaiters.values))
        }
        for stream in streams { stream.remoteReset() }
        newStreamsInput.finish()
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once the connection's input has ended (the client closed or went away), or
    /// the task is cancelled.
    func waitEnded() async {
        let id = state.withLock { s -> Int in
            defer { s.nextWaiter += 1 }
            return s.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let ended = state.withLock { s -> Bool in
                    if s.closed || Task.isCancelled { return true }
                    s.endWaiters[id] = c
                    return false
                }
                if ended { c.resume() }
            }
        } onCancel: {
            state.withLock { $0.endWaiters.removeValue(forKey: id) }?.resume()
        }
    }

    /// Ends the connection for a protocol error: GOAWAY PROTOCOL_ERROR, then close.
    func fail(_ error: SPDYProtocolError) async {
        let last = state.withLock { $0.lastStreamID }
        try? await send(.goAway(lastGoodStreamID: last, status: 1))
        inputEnded()
        await transport.close()
    }

    /// Ends the connection in good order: GOAWAY, then close.
    func close() async {
        let last = state.withLock { $0.lastStreamID }
        try? await send(.goAway(lastGoodStreamID: last, status: SPDYFrame.goAwayOK))
        inputEnded()
        await transport.close()
    }

    private func handle(_ frame: SPDYFrame) async {
        switch frame {
        case let .synStream(id, _, _, flags, headers):
            await opened(id, flags: flags, headers: headers)
        case let .data(id, flags, payload):
            guard let stream = stream(id) else {
                if id != 0 { try? await send(.rstStream(streamID: id, status: .invalidStream)) }
                return
            }
            if payload.readableBytes > 0 { await stream.deliver(payload) }
            if flags & SPDYFrame.flagFin != 0 { stream.remoteFinished() }
        case let .rstStream(id, _):
            stream(id)?.remoteReset()
            forget(id)
        case let .headers(id, flags, _):
            if flags & SPDYFrame.flagFin != 0 { stream(id)?.remoteFinished() }
        case let .ping(id):
            // The client's pings have odd ids: echoed. podd sends none, so an even id is a reply to nothing.
            if id & 1 == 1 { try? await send(.ping(id: id)) }
        case let .settings(_, settings):
            for s in settings where s.id == SPDYFrame.Setting.initialWindowSize {
                state.withLock { $0.initialSendWindow = Int(min(s.value, 0x7fff_ffff)) }
            }
        case let .windowUpdate(id, delta):
            state.withLock { $0.peerKeepsWindows = true }
            if id != 0 { stream(id)?.windowGranted(Int(delta)) }
        case .goAway:
            // The client will open no more streams; those open finish as they are.
            newStreamsInput.finish()
        case .synReply:
            // podd opens no streams: a reply to nothing.
            break
        }
    }

    private func opened(_ id: UInt32, flags: UInt8, headers: SPDYHeaders) async {
        enum Verdict { case accepted(SPDYStream), refused(SPDYFrame.ResetStatus) }
        let verdict = state.withLock { s -> Verdict in
            // Client streams have odd ids that only grow (SPDY/3 section 2.3.2).
            guard !s.closed, id & 1 == 1, id > s.lastStreamID else { return .refused(.protocolError) }
            s.lastStreamID = id
            guard s.streams.count < Self.maxStreams else { return .refused(.refusedStream) }
            let stream = SPDYStream(id: id, headers: headers, connection: self, sendWindow: s.initialSendWindow,
                                    unidirectional: flags & SPDYFrame.flagUnidirectional != 0)
            s.streams[id] = stream
            return .accepted(stream)
        }
        switch verdict {
        case let .refused(status):
            try? await send(.rstStream(streamID: id, status: status))
        case let .accepted(stream):
            // kubelet replies at once with no headers; the client waits for the reply to create its stream.
            try? await send(.synReply(streamID: id, flags: 0, headers: SPDYHeaders()))
            if flags & SPDYFrame.flagFin != 0 { stream.remoteFinished() }
            newStreamsInput.yield(stream)
        }
    }

    private func stream(_ id: UInt32) -> SPDYStream? {
        state.withLock { $0.streams[id] }
    }

    /// A stream both ends have finished with.
    func forget(_ id: UInt32) {
        state.withLock { _ = $0.streams.removeValue(forKey: id) }
    }

    // MARK: - Output

    /// Writes one frame. Frames go out in the order their header blocks were compressed: the
    /// peer's zlib stream must see them so.
    func send(_ frame: SPDYFrame) async throws {
        await writeOrder.acquire()
        defer { writeOrder.release() }
        if case let .data(id, flags, payload) = frame {
            // DATA needs no compression: its header is written beside the payload.
            try await transport.write(header: SPDYFrameEncoder.dataHeader(streamID: id, flags: flags, length: payload.readableBytes),
                                      payload: payload)
            return
        }
        let bytes: ByteBuffer = try encoder.withLock { e throws -> ByteBuffer in
            guard let e else { throw SPDYProtocolError(reason: "the connection is closed") }
            return try e.encode(frame)
        }
        try await transport.write(bytes)
    }
}

/// A first-come first-served lock for async writers: one frame at a time reaches the
/// transport, in the order the writers came.
final class SPDYWriteOrder: Sendable {
    private let state = Mutex<(held: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                if !s.held {
                    s.held = true
                    return true
                }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }

    func release() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.held = false
                return nil
            }
            return s.waiters.removeFirst()
        }
        next?.resume()
    }
}
