import Logging
import NIOCore
import NIOWebSocket
import PodRuntime
import Synchronization

/// Port-forward over a `v4.channel.k8s.io` WebSocket, as kubelet serves it to clients without
/// SPDY (the Python client): the ports come with the request (`?ports=`), one connection to
/// each in the pod for the session's life; port i has the data channel 2i and the error
/// channel 2i+1, and podd's first message on each channel is the port (2 bytes, little
/// endian). The session ends when every port's connection has ended, or the client goes.
struct PortForwardOverChannels: Sendable {
    let dialer: PodDialer
    let ports: [Int]
    let logger: Logger

    private enum Event: Sendable {
        /// One port's connection has ended (or could not be made).
        case portDone
        /// The client sent its Close: it sends no more data.
        case clientClosed
        /// The client's side of the connection has ended.
        case clientGone
        case graceOver
    }

    /// How long the pod's side may go on after the client closed the WebSocket (its sockets
    /// half-closed, so a reply to what the client sent last still reaches it), and how long
    /// podd waits for the client to answer its own Close.
    static let closingGrace: Duration = .seconds(10)

    func run(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, _ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) async {
        for (i, port) in ports.enumerated() {
            var prefix = ByteBuffer()
            prefix.writeInteger(UInt16(port), endianness: .little)
            try? await Self.send(UInt8(2 * i), prefix, outbound)
            try? await Self.send(UInt8(2 * i + 1), prefix, outbound)
        }
        // Where the client's data for each port goes, once its connection is open.
        let writers = PortWriters()
        let opened = PortsOpened(count: ports.count)
        let (events, event) = AsyncStream<Event>.makeStream()
        await withTaskGroup(of: Void.self) { group in
            for (i, port) in ports.enumerated() {
                group.addTask {
                    defer {
                        opened.arrived(i)
                        event.yield(.portDone)
                    }
                    let fd: Int32
                    do throws(PodDialer.DialError) {
                        fd = try await dialer.dial(port: port)
                    } catch {
                        let message = PortForwardTarget.failure(port: port, dialer: dialer, error)
                        try? await Self.send(UInt8(2 * i + 1), ByteBuffer(string: message), outbound)
                        return
                    }
                    do {
                        let pod = try await PortForwardTarget.open(fd)
                        try await pod.executeThenClose { podIn, podOut in
                            writers.set(i, podOut)
                            opened.arrived(i)
                            defer { writers.remove(i) }
                            for try await chunk in podIn { try await Self.send(UInt8(2 * i), chunk, outbound) }
                        }
                    } catch {
                        logger.debug("port-forward to port \(port) of \(dialer.podFullName): \(error)")
                    }
                }
            }
            group.addTask {
                // The client's data waits until every port's connection is open (or failed).
                await opened.wait()
                defer { event.yield(.clientGone) }
                do {
                    for try await frame in inbound {
                        switch frame.opcode {
                        case .binary:
                            var data = frame.unmaskedData
                            guard let channel: UInt8 = data.readInteger(), channel % 2 == 0, data.readableBytes > 0,
                                  let writer = writers.get(Int(channel) / 2) else { continue }
                            try? await writer.write(data)
                        case .ping:
                            try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                        case .connectionClose:
                            // The client sends no more: the pod sees its end of file (half
                            // close), and what the pod still answers goes to the client.
                            writers.finishAll()
                            event.yield(.clientClosed)
                        default:
                            continue
                        }
                    }
                } catch {}
            }
            var left = ports.count
            var gone = false
            var next = events.makeAsyncIterator()
            while let e = await next.next() {
                switch e {
                case .portDone: left -= 1
                case .clientClosed:
                    group.addTask {
                        try? await Task.sleep(for: Self.closingGrace)
                        event.yield(.graceOver)
                    }
                case .clientGone: gone = true
                case .graceOver: left = 0
                }
                if left <= 0 || gone { break }
            }
            // podd's Close goes after every byte it sent; the client answers it once it has
            // read them all, and only then may the connection close (closing it earlier would
            // drop what the client has not yet read).
            var code = ByteBuffer()
            code.writeInteger(UInt16(1000))
            try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: code))
            if !gone {
                group.addTask {
                    try? await Task.sleep(for: Self.closingGrace)
                    event.yield(.graceOver)
                }
                while let e = await next.next(), e != .clientGone, e != .graceOver {}
            }
            event.finish()
            group.cancelAll()
        }
    }

    /// One binary message: the channel byte, then `payload`. The channel byte travels as the
    /// frame's "extension data" (NIO writes it between the frame header and the data; no
    /// extension is negotiated, so to the client it is the message's first byte): the
    /// payload, up to 256 KiB read from the pod, goes out as it was read, never copied
    /// behind a byte of its own.
    private static func send(_ channel: UInt8, _ payload: ByteBuffer, _ outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>) async throws {
        var prefix = ByteBuffer()
        prefix.writeInteger(channel)
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: payload, extensionData: prefix))
    }
}

/// Counts the ports whose connection is open or has failed; `wait` returns once all have.
private final class PortsOpened: Sendable {
    private let state: Mutex<(settled: Set<Int>, count: Int, waiter: CheckedContinuation<Void, Never>?)>

    init(count: Int) { state = Mutex(([], count, nil)) }

    /// Port `index` is settled (a second call for it, at its task's end, changes nothing).
    func arrived(_ index: Int) {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.settled.insert(index)
            guard s.settled.count == s.count else { return nil }
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let done = state.withLock { s -> Bool in
                if s.settled.count == s.count { return true }
                s.waiter = c
                return false
            }
            if done { c.resume() }
        }
    }
}

/// The pod's side of each port's connection while it is open, for the client's data.
private final class PortWriters: Sendable {
    private let writers = Mutex<[Int: NIOAsyncChannelOutboundWriter<ByteBuffer>]>([:])

    func set(_ index: Int, _ writer: NIOAsyncChannelOutboundWriter<ByteBuffer>) { writers.withLock { $0[index] = writer } }
    func get(_ index: Int) -> NIOAsyncChannelOutboundWriter<ByteBuffer>? { writers.withLock { $0[index] } }
    func remove(_ index: Int) { _ = writers.withLock { $0.removeValue(forKey: index) } }
    /// Half-closes every connection (after what was written to it).
    func finishAll() { for writer in writers.withLock({ Array($0.values) }) { writer.finish() } }
}
