import NIOCore

/// Holds a connection's close until what was written before it has reached the socket.
///
/// NIO fails the writes still pending in a channel when it closes, and a response larger
/// than the socket's send buffer is still pending when the server, done with a request
/// that said `Connection: close` (podctl's all do), closes the connection: `podctl get pods`
/// with 150 pods (a 223 kB list) lost its tail 15 times in 20. This handler sits first in
/// the pipeline, where writes are bytes for the socket, counts those not written yet, and
/// passes a full close on once they are, or after `patience` for a client that stopped
/// reading.
final class FlushBeforeClose: ChannelOutboundHandler, @unchecked Sendable {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The longest a close waits for the client to take the rest.
    static let patience: TimeAmount = .seconds(10)

    // Touched on the channel's event loop only.
    private var unwritten = 0
    private var heldClose: EventLoopPromise<Void>?
    private var heldCloseRequested = false
    private var timer: Scheduled<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        unwritten += 1
        let written = promise ?? context.eventLoop.makePromise()
        written.futureResult.whenComplete { [self] _ in
            unwritten -= 1
            if unwritten == 0 { releaseClose(context) }
        }
        context.write(data, promise: written)
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard mode == .all, unwritten > 0 else {
            context.close(mode: mode, promise: promise)
            return
        }
        if heldCloseRequested {
            // A second close while one is held: it completes with the first.
            if let promise { heldClose?.futureResult.cascade(to: promise) }
            return
        }
        heldCloseRequested = true
        let held = context.eventLoop.makePromise(of: Void.self)
        if let promise { held.futureResult.cascade(to: promise) }
        heldClose = held
        // What is held is being written now.
        context.flush()
        timer = context.eventLoop.scheduleTask(in: Self.patience) { [self] in releaseClose(context) }
    }

    private func releaseClose(_ context: ChannelHandlerContext) {
        guard heldCloseRequested else { return }
        heldCloseRequested = false
        timer?.cancel()
        timer = nil
        let held = heldClose
        heldClose = nil
        context.close(mode: .all, promise: held)
    }
}
