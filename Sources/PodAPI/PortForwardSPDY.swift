import Logging
import NIOCore
import NIOPosix
import PodRuntime

/// kubectl's port-forward protocol (`portforward.k8s.io`) on a SPDY connection, as kubelet
/// serves it: for each local connection kubectl opens an error stream and a data stream with
/// the headers `streamType` (error|data), `port` and `requestID`; once both of a request are
/// open, podd connects to the port inside the pod and copies bytes both ways on the data
/// stream. A port that cannot be reached is reported on the error stream with kubelet's
/// words, and the connection goes on serving the other requests.
struct PortForwardOverSPDY: Sendable {
    let dialer: PodDialer
    let logger: Logger

    /// The streams of one request, as they arrive.
    private struct Pair {
        var error: SPDYStream?
        var data: SPDYStream?
    }

    func serve(_ connection: SPDYConnection) async {
        await withTaskGroup(of: Void.self) { group in
            var pending: [String: Pair] = [:]
            for await stream in connection.newStreams {
                let type = stream.headers["streamtype"]
                guard type == "error" || type == "data", let port = stream.headers["port"].flatMap(PortForwardTarget.port) else {
                    // kubelet rejects such a stream: it is reset at once.
                    group.addTask { await stream.reset(.protocolError) }
                    continue
                }
                // Clients before requestID (kubectl < 1.6) paired streams by id: error, then data two later.
                let request = stream.headers["requestid"] ?? String(type == "error" ? stream.id : stream.id &- 2)
                var pair = pending[request] ?? Pair()
                if type == "error" { pair.error = stream } else { pair.data = stream }
                if let error = pair.error, let data = pair.data {
                    pending[request] = nil
                    group.addTask { await forward(port: port, data: data, error: error) }
                } else {
                    pending[request] = pair
                }
            }
            // The connection has ended: forwards still copying stop (a quiet pod socket
            // would otherwise hold them).
            group.cancelAll()
        }
    }

    private func forward(port: Int, data: SPDYStream, error errorStream: SPDYStream) async {
        let fd: Int32
        do {
            fd = try await dialer.dial(port: port)
        } catch {
            let message = PortForwardTarget.failure(port: port, dialer: dialer, error)
            logger.debug("port-forward: \(message)")
            try? await errorStream.write(ByteBuffer(string: message))
            await errorStream.finish()
            await data.finish()
            return
        }
        do {
            let pod = try await PortForwardTarget.open(fd)
            try await pod.executeThenClose { inbound, outbound in
                await withTaskGroup(of: Void.self) { copies in
                    copies.addTask {
                        // Client to pod; the client's FIN half-closes the pod's socket, and
                        // the pod's answer still comes back.
                        while let chunk = await data.read() {
                            do { try await outbound.write(chunk) } catch { break }
                        }
                        outbound.finish()
                    }
                    // Pod to client; the pod's end of file ends the request, as kubelet's: the
                    // data and error streams are finished (kubectl waits for both before it
                    // closes its local connection) and what the client still sends is dropped.
                    do {
                        for try await chunk in inbound { try await data.write(chunk) }
                    } catch {}
                    await data.finish()
                    await errorStream.finish()
                    data.abandon()
                }
            }
        } catch {
            logger.debug("port-forward to port \(port) of \(dialer.podFullName): \(error)")
            await data.reset()
        }
        await errorStream.finish()
    }
}

/// What both forms of port-forward share: the ports a request names, the pod's end of a
/// forwarded connection, and kubelet's message when it cannot be made.
enum PortForwardTarget {
    /// A port number 1...65535, or nil.
    static func port(_ text: String) -> Int? {
        guard let n = Int(text), (1...65535).contains(n) else { return nil }
        return n
    }

    /// kubelet's error text for a port that could not be reached (kubectl prints it after
    /// "an error occurred forwarding L -> R:").
    static func failure(port: Int, dialer: PodDialer, _ error: PodDialer.DialError) -> String {
        "error forwarding port \(port) to pod \(dialer.podFullName), uid \(dialer.podUID): \(error)"
    }

    /// The connected socket `fd` (from `PodDialer`) as an async channel; its output can be
    /// half-closed (the client's FIN), and its input may end while the output goes on.
    static func open(_ fd: Int32) async throws -> NIOAsyncChannel<ByteBuffer, ByteBuffer> {
        // NIO owns the descriptor from here (it closes it with the channel).
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(ChannelOptions.allowRemoteHalfClosure, value: true)
            // Reads of up to 256 KiB (NIO starts at 2 KiB): each read is a frame to the
            // client, and a frame costs the same whatever its size.
            .channelOption(ChannelOptions.recvAllocator,
                           value: AdaptiveRecvByteBufferAllocator(minimum: 16 << 10, initial: 64 << 10, maximum: 256 << 10))
            .withConnectedSocket(fd) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel,
                        configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
    }
}
