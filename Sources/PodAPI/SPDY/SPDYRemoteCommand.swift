import Logging
import NIOCore
import NIOPosix
import PodModel
import PodRuntime
import Synchronization

/// exec and attach over SPDY/3.1 with `X-Stream-Protocol-Version: v4.channel.k8s.io`, as
/// kubelet's remotecommand server speaks it to kubectl before 1.29: the client opens one
/// stream per standard stream (`streamType` stdin, stdout, stderr, and resize with a terminal)
/// and an error stream; podd relays them to the process, finishes stdout and stderr at their
/// end, then writes the final Status (success, or NonZeroExitCode with the exit code) on the
/// error stream and finishes it.
struct SPDYRemoteCommand: Sendable {
    let request: StreamRoutes.Request
    let controller: PodController
    let logger: Logger

    static let streamProtocol = "v4.channel.k8s.io"
    /// How long the client has to open its streams (kubelet's streamCreationTimeout).
    static let streamCreationTimeout: Duration = .seconds(30)
    /// How long podd waits for the client to close the connection once the Status is sent.
    static let closingGrace: Duration = .seconds(10)

    /// The streams a client opens for the request's options.
    private struct Streams {
        var error: SPDYStream?
        var stdin: SPDYStream?
        var stdout: SPDYStream?
        var stderr: SPDYStream?
        var resize: SPDYStream?

        func complete(_ o: PodController.StreamOptions) -> Bool {
            error != nil && (stdin != nil || !o.stdin) && (stdout != nil || !o.stdout)
                && (stderr != nil || !o.stderr || o.tty) && (resize != nil || !o.tty)
        }
    }

    /// Runs the session on `connection` until the process ends (or the client goes), then
    /// waits for the client to close the connection.
    func serve(_ connection: SPDYConnection) async {
        guard let streams = await collect(connection) else {
            await connection.close()
            return
        }
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                await connection.waitEnded()
            }
            await run(streams, connection: connection)
            group.addTask {
                try? await Task.sleep(for: Self.closingGrace)
            }
            // The client closes once it has read the Status; podd closes after that, or after the grace.
            await group.next()
            group.cancelAll()
        }
        await connection.close()
    }

    /// The client's streams, once all have come; nil when the client went away or took too long.
    private func collect(_ connection: SPDYConnection) async -> Streams? {
        let options = request.options
        return await withTaskGroup(of: Streams?.self) { group in
            group.addTask {
                var streams = Streams()
                for await stream in connection.newStreams {
                    switch stream.headers["streamtype"] {
                    case "error": streams.error = stream
                    case "stdin": streams.stdin = stream
                    case "stdout": streams.stdout = stream
                    case "stderr": streams.stderr = stream
                    case "resize": streams.resize = stream
                    default: await stream.reset(.protocolError)
                    }
                    if streams.complete(options) { return streams }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: Self.streamCreationTimeout)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    private enum Event: Sendable {
        case clientGone
        case exited(StreamSession.Exit?)
        case outputDone
        /// The client's stdin or resize stream ended (the process may go on).
        case inputDone
        case drained
    }

    private func run(_ streams: Streams, connection: SPDYConnection) async {
        guard let errorStream = streams.error else { return }
        let session: StreamSession
        do {
            switch request.kind {
            case .exec: session = try await controller.openExec(container: request.container, command: request.command, options: request.options)
            case .attach: session = try await controller.openAttach(container: request.container, options: request.options)
            }
        } catch {
            let status = StatusError(error)
            await finish(errorStream, streams, ChannelProtocol.failure(status.message, reason: status.reason, code: status.code))
            return
        }
        defer { session.close() }
        let io: StreamSession.IO
        do {
            (io, _) = try await session.start()
        } catch {
            await startFailed(error, session: session, streams)
            return
        }
        let group = MultiThreadedEventLoopGroup.singleton
        async let inputChannel = StreamRelay.outputChannel(io.input, wanted: request.options.stdin, group: group)
        async let outChannel = StreamRelay.inputChannel(io.output, group: group)
        async let errChannel = StreamRelay.inputChannel(io.errors, group: group)
        let input = await inputChannel
        var sources: [(SPDYStream, NIOAsyncChannel<ByteBuffer, Never>)] = []
        if let out = await outChannel, let stream = streams.stdout { sources.append((stream, out)) }
        if let err = await errChannel, let stream = streams.stderr ?? (request.options.tty ? streams.stdout : nil) { sources.append((stream, err)) }
        let terminal = io.terminal
        defer { if let terminal { StreamSession.IO.close(terminal) } }
        let lastOutput = OutputClock()

        var exit: StreamSession.Exit??
        var outputsLeft = sources.count
        var clientGone = false
        await withTaskGroup(of: Event.self) { tasks in
            tasks.addTask {
                await connection.waitEnded()
                return .clientGone
            }
            if let stdin = streams.stdin {
                tasks.addTask {
                    while let chunk = await stdin.read() {
                        // A process that has stopped reading fails the write: its input is dropped.
                        try? await input?.writeAndFlush(chunk)
                    }
                    // The client's end of input (FIN) is the process's.
                    try? await input?.close()
                    if request.kind == .attach { session.closeStdin() }
                    return .inputDone
                }
            }
            if let resize = streams.resize, let terminal {
                tasks.addTask {
                    var pending: [UInt8] = []
                    while let chunk = await resize.read() {
                        pending += chunk.readableBytesView
                        // JSON objects one after another ({"Width":80,"Height":24}).
                        while let end = pending.firstIndex(of: UInt8(ascii: "}")) {
                            StreamRelay.resize(terminal, ByteBuffer(bytes: pending[...end]))
                            pending.removeSubrange(...end)
                        }
                    }
                    return .inputDone
                }
            }
            tasks.addTask { .exited(await session.exit()) }
            for (stream, source) in sources {
                tasks.addTask {
                    do {
                        try await source.executeThenClose { inbound in
                            for try await chunk in inbound {
                                lastOutput.touch()
                                try await stream.write(chunk)
                            }
                        }
                    } catch {
                        // A terminal's master reads EIO once nothing holds the terminal: its end of file.
                    }
                    return .outputDone
                }
            }
            while let event = await tasks.next() {
                switch event {
                case .clientGone: clientGone = true
                case let .exited(e):
                    exit = .some(e)
                    if outputsLeft > 0 {
                        tasks.addTask {
                            await lastOutput.waitQuiet(for: StreamRelay.drainIdle)
                            return .drained
                        }
                    }
                case .outputDone: outputsLeft -= 1
                case .inputDone: break
                case .drained: outputsLeft = 0
                }
                if clientGone || (exit != nil && outputsLeft <= 0) { break }
            }
            tasks.cancelAll()
        }
        try? await input?.close()
        for (_, source) in sources { try? await source.channel.close() }
        if clientGone {
            logger.debug("\(request.kind.rawValue) session (SPDY) in \(request.key.namespace)/\(request.key.name): the client went away; ending it")
            return
        }
        guard case let .some(.some(end)) = exit else {
            await finish(errorStream, streams, ChannelProtocol.failure("the pod's monitor ended the \(request.kind.rawValue) session before the process ended"))
            return
        }
        await finish(errorStream, streams, ChannelProtocol.exitStatus(end.exitCode, command: request.kind == .exec ? request.command : ["(container \(session.container))"]))
    }

    /// stdout and stderr finished, then the Status on the error stream, finished.
    private func finish(_ errorStream: SPDYStream, _ streams: Streams, _ status: JSONValue) async {
        if let out = streams.stdout { await out.finish() }
        if let err = streams.stderr { await err.finish() }
        try? await errorStream.write(ByteBuffer(bytes: status.serialized()))
        await errorStream.finish()
    }

    private func startFailed(_ failure: StreamSession.StartFailure, session: StreamSession, _ streams: Streams) async {
        guard let errorStream = streams.error else { return }
        if request.kind == .exec && failure.commandNotRunnable {
            // As a shell says it, with the shell's exit status (127 not found, 126 not executable).
            if let stream = streams.stderr ?? streams.stdout { try? await stream.write(ByteBuffer(string: "podd: \(failure.message)\n")) }
            await finish(errorStream, streams, ChannelProtocol.exitStatus(failure.shellExitStatus, command: request.command))
            return
        }
        let what = request.kind == .exec ? "exec" : "attach"
        await finish(errorStream, streams, ChannelProtocol.failure(
            "\(what) in container \(session.container) of pod \(request.key.name) failed: \(failure.stage): \(failure.message)"))
    }
}

/// When output was last relayed, to tell a drained stream from a busy one once the process
/// has ended (a background process may hold its pipes open).
private final class OutputClock: Sendable {
    private let last = Mutex<UInt64>(0)

    func touch() { last.withLock { $0 = StreamRelay.now() } }

    func waitQuiet(for idle: UInt64) async {
        touch()
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            if StreamRelay.now() - last.withLock({ $0 }) > idle { return }
        }
    }
}
