import Logging
import NIOCore
import NIOPosix
import NIOWebSocket
import PodModel
import PodRuntime
import Synchronization

/// `GET|POST /api/v1/namespaces/{ns}/pods/{name}/exec` and `.../attach`: Kubernetes' remote
/// command over a WebSocket (StreamProtocol). The request is checked before the upgrade,
/// so that a missing pod or a stopped container is an HTTP error with a Status body; what
/// goes wrong after it (a command not found) comes as the Status on channel 3, as kubelet
/// sends it.
struct StreamRoutes: Sendable {
    let registry: PodRegistry
    let logger: Logger

    /// A request's pod, kind and PodExecOptions / PodAttachOptions.
    struct Request: Sendable {
        var key: PodRegistry.Key
        var kind: StreamSession.Kind
        var container: String?
        var command: [String]
        var options: PodController.StreamOptions
    }

    /// The exec or attach request `r` is, if its path names one.
    static func target(_ r: APIRequest) -> (key: PodRegistry.Key, kind: StreamSession.Kind)? {
        let s = r.segments
        guard s.count == 7, s[0] == "api", s[1] == "v1", s[2] == "namespaces", s[4] == "pods",
              let kind = StreamSession.Kind(rawValue: s[6]) else { return nil }
        return (PodRegistry.Key(s[3], s[5]), kind)
    }

    static func parse(_ r: APIRequest, key: PodRegistry.Key, kind: StreamSession.Kind) throws(StatusError) -> Request {
        guard r.method == .GET || r.method == .POST else { throw .methodNotAllowed(r.method, r.path) }
        let options = PodController.StreamOptions(stdin: r.queryBool("stdin"), stdout: r.queryBool("stdout"),
                                                  stderr: r.queryBool("stderr"), tty: r.queryBool("tty"))
        if !options.stdin && !options.stdout && !options.stderr {
            throw .badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
        if kind == .exec && options.tty && options.stderr {
            throw .badRequest("stderr cannot be used with tty: a terminal has one output (ask for stdout)")
        }
        let command = r.query["command"] ?? []
        if kind == .exec && (command.isEmpty || command[0].isEmpty) {
            throw .badRequest("you must specify at least one command for the container")
        }
        return Request(key: key, kind: kind, container: r.queryValue("container"), command: command, options: options)
    }

    /// Checks the pod and container; returns the pod's controller.
    func check(_ request: Request) async throws(StatusError) -> PodController {
        guard let controller = await registry.controller(request.key) else { throw .notFound(request.key.name) }
        _ = try await runtime { () async throws(RuntimeError) in
            try await controller.streamContainer(request.container, kind: request.kind, options: request.options)
        }
        return controller
    }

    /// The WebSocket session for an upgrade request, or nil (the plain route then answers).
    /// podctl's exec starts its command here, before the upgrade is answered: the monitor's
    /// fork and exec then overlap the 101 and the set-up of the WebSocket, instead of
    /// following them (about a fifth of an exec's round trip). Should the upgrade not
    /// complete, the session goes with its last reference, and the monitor kills what it
    /// started. Other clients' commands start once the WebSocket is up (`startsEarly`).
    func accept(_ r: APIRequest) async -> WebSocketSession? {
        if PortForwardRoutes.target(r) != nil { return await PortForwardRoutes(registry: registry, logger: logger).acceptWebSocket(r) }
        guard let (key, kind) = Self.target(r), let request = try? Self.parse(r, key: key, kind: kind),
              let proto = ChannelProtocol.negotiate(r.headers["Sec-WebSocket-Protocol"]),
              let controller = await registry.controller(request.key) else { return nil }
        let early = Self.startsEarly(r)
        let opened: Opened
        do {
            opened = try await Self.checkAndOpen(request, on: controller, open: early)
        } catch {
            return nil
        }
        let logger = self.logger
        let wait = early ? nil : Self.clientStreamsSetUp
        return WebSocketSession(subprotocol: proto.rawValue) { inbound, outbound in
            // Not podctl: the client may not have made its streams yet (`startsEarly`).
            if let wait { try? await Task.sleep(for: wait) }
            let relay = StreamRelay(request: request, proto: proto, outbound: outbound, logger: logger)
            await relay.run(controller: controller, inbound: inbound, opened: opened)
        }
    }

    /// What `accept` opened for an exec: the session, or why it could not be opened (told
    /// on channel 3 once the WebSocket is up, as before the early start); nil for an attach.
    typealias Opened = Result<StreamSession, RuntimeError>?

    /// Whether an exec's command may start before its upgrade is answered: for podctl only,
    /// which reads every channel from the first frame. client-go (kubectl) reads the
    /// WebSocket in one goroutine while another makes its streams, and drops a frame for one
    /// not made yet ("Unknown stream id 1, discarding message"): a command that had written
    /// its output by then lost it (2 execs in 160, 8 kubectl at a time; still 1 in 160 with
    /// the command started once the WebSocket was up). The API server is never that fast:
    /// it connects to the kubelet, and the kubelet to the runtime, before anything runs. So
    /// other clients' execs and attaches begin `clientStreamsSetUp` after the upgrade.
    static let clientStreamsSetUp: Duration = .milliseconds(20)

    static func startsEarly(_ r: APIRequest) -> Bool {
        r.headers["User-Agent"].contains { $0.hasPrefix("podctl/") }
    }

    /// Checks the pod and container as `check` does (a refusal throws: the plain route then
    /// answers it) and, for an exec when `open`, starts the command, in one turn of the pod's
    /// controller.
    static func checkAndOpen(_ request: Request, on controller: isolated PodController, open: Bool) throws(RuntimeError) -> Opened {
        _ = try controller.streamContainer(request.container, kind: request.kind, options: request.options)
        guard request.kind == .exec, open else { return .none }
        do {
            return .success(try controller.openExec(container: request.container, command: request.command, options: request.options))
        } catch {
            return .failure(error)
        }
    }

    /// The SPDY/3.1 session for an upgrade request (older kubectl), or nil.
    func acceptSPDY(_ r: APIRequest) async -> SPDYSession? {
        if PortForwardRoutes.target(r) != nil { return await PortForwardRoutes(registry: registry, logger: logger).acceptSPDY(r) }
        guard let (key, kind) = Self.target(r), let request = try? Self.parse(r, key: key, kind: kind),
              SPDYSession.negotiate(r.headers["X-Stream-Protocol-Version"], supported: [SPDYRemoteCommand.streamProtocol]) != nil,
              let controller = try? await check(request) else { return nil }
        let command = SPDYRemoteCommand(request: request, controller: controller, logger: logger)
        return SPDYSession(streamProtocol: SPDYRemoteCommand.streamProtocol) { inbound, outbound in
            guard let connection = try? SPDYConnection(transport: RawSPDYTransport(outbound: outbound)) else { return }
            await withTaskGroup(of: Void.self) { group in
                group.addTask { await RawSPDYTransport.pump(inbound, into: connection) }
                await command.serve(connection)
                group.cancelAll()
            }
        }
    }

    /// The answer to an exec or attach request that was not upgraded: why.
    func respond(_ r: APIRequest, key: PodRegistry.Key, kind: StreamSession.Kind) async throws(StatusError) -> APIResponse {
        let request = try Self.parse(r, key: key, kind: kind)
        _ = try await check(request)
        let upgrade = r.headers["Upgrade"].contains { $0.lowercased().contains("websocket") }
        if upgrade && ChannelProtocol.negotiate(r.headers["Sec-WebSocket-Protocol"]) == nil {
            throw .badRequest(ChannelProtocol.unsupportedMessage)
        }
        if upgrade {
            throw .badRequest("the WebSocket handshake is incomplete (Sec-WebSocket-Key and Sec-WebSocket-Version: 13 are required)")
        }
        throw .badRequest("Upgrade request required: \(ChannelProtocol.unsupportedMessage)")
    }
}

/// One session's relay between the WebSocket and the process: client frames to its stdin
/// and terminal size, its output to frames, and its end as the Status on channel 3. A
/// client that goes away ends the session, and the monitor kills what an exec left.
final class StreamRelay: Sendable {
    let request: StreamRoutes.Request
    let proto: ChannelProtocol
    let outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>
    let logger: Logger
    /// When output was last relayed (monotonic ns), to tell a drained stream from a busy one.
    private let lastOutput = Atomic<UInt64>(0)

    /// How long (ns) output may stay quiet after the process has ended before the session
    /// ends anyway (a background process may hold its pipes open).
    static let drainIdle: UInt64 = 250_000_000

    init(request: StreamRoutes.Request, proto: ChannelProtocol, outbound: NIOAsyncChannelOutboundWriter<WebSocketFrame>, logger: Logger) {
        self.request = request
        self.proto = proto
        self.outbound = outbound
        self.logger = logger
    }

    private enum Event: Sendable {
        case clientGone
        case exited(StreamSession.Exit?)
        case outputDone
        case drained
    }

    /// `opened`: the exec session `StreamRoutes.accept` started (or why it could not), nil
    /// to open the session here.
    func run(controller: PodController, inbound: NIOAsyncChannelInboundStream<WebSocketFrame>,
             opened: StreamRoutes.Opened = nil) async {
        let session: StreamSession
        do throws(RuntimeError) {
            if let opened {
                session = try opened.get()
            } else {
                switch request.kind {
                case .exec: session = try await controller.openExec(container: request.container, command: request.command, options: request.options)
                case .attach: session = try await controller.openAttach(container: request.container, options: request.options)
                }
            }
        } catch {
            let status = StatusError(error)
            await finish(status: ChannelProtocol.failure(status.message, reason: status.reason, code: status.code))
            return
        }
        defer { session.close() }
        // An exec without a terminal has its pipes already: their channels are set up while
        // the monitor starts the command, not after.
        let early = session.takePipes()
        async let answer = Self.started(session)
        var channels = early.map { Self.channels(for: $0, stdin: request.options.stdin) }
        let io: StreamSession.IO
        let tty: Bool
        switch await answer {
        case let .success(started):
            (io, tty) = started
        case let .failure(error):
            await channels?.close()
            await startFailed(error, container: session.container)
            return
        }
        if channels == nil { channels = Self.channels(for: io, stdin: request.options.stdin) }
        guard let channels else { return }
        let input = await channels.input
        let sources = await channels.sources
        let terminal = io.terminal
        defer { if let terminal { StreamSession.IO.close(terminal) } }

        var exit: StreamSession.Exit??
        var outputsLeft = sources.count
        var clientGone = false
        await withTaskGroup(of: Event.self) { tasks in
            tasks.addTask { await self.readClient(inbound, input: input, terminal: terminal, session: session, tty: tty) }
            tasks.addTask { .exited(await session.exit()) }
            for (channel, source) in sources {
                tasks.addTask { await self.pump(source, channel: channel) }
            }
            while let event = await tasks.next() {
                switch event {
                case .clientGone:
                    clientGone = true
                case let .exited(e):
                    exit = .some(e)
                    if outputsLeft > 0 { tasks.addTask { await self.waitDrained() } }
                case .outputDone:
                    outputsLeft -= 1
                case .drained:
                    outputsLeft = 0
                }
                if clientGone || (exit != nil && outputsLeft == 0) { break }
            }
            tasks.cancelAll()
        }
        // The answer first, the channels' closing after it: nothing more is relayed (the
        // pumps have ended), and each close is a round trip to an event loop that the
        // client need not wait for.
        if clientGone {
            logger.debug("\(request.kind.rawValue) session in \(request.key.namespace)/\(request.key.name): the client went away; ending it")
        } else if case let .some(.some(end)) = exit {
            await finish(status: ChannelProtocol.exitStatus(end.exitCode, command: request.kind == .exec ? request.command : ["(container \(session.container))"]))
        } else {
            await finish(status: ChannelProtocol.failure("the pod's monitor ended the \(request.kind.rawValue) session before the process ended"))
        }
        try? await input?.close()
        for (_, source) in sources { try? await source.channel.close() }
    }

    // MARK: - Client to process

    private func readClient(_ inbound: NIOAsyncChannelInboundStream<WebSocketFrame>, input: Channel?, terminal: Int32?,
                            session: StreamSession, tty: Bool) async -> Event {
        var input = input
        do {
            for try await frame in inbound {
                switch frame.opcode {
                case .binary, .text:
                    var data = frame.unmaskedData
                    guard let channel: UInt8 = data.readInteger() else { continue }
                    switch channel {
                    case ChannelProtocol.stdin:
                        if let input, data.readableBytes > 0 {
                            // A process that has stopped reading fails the write: its input is dropped.
                            try? await input.writeAndFlush(data)
                        }
                    case ChannelProtocol.resize:
                        if let terminal { Self.resize(terminal, data) }
                    case ChannelProtocol.close where proto == .v5:
                        if data.readInteger(as: UInt8.self) == ChannelProtocol.stdin {
                            try? await input?.close()
                            input = nil
                            if request.kind == .attach { session.closeStdin() }
                        }
                    default:
                        continue
                    }
                case .ping:
                    try await outbound.write(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData))
                case .connectionClose:
                    return .clientGone
                default:
                    continue
                }
            }
        } catch {
            logger.trace("exec/attach client stream: \(error)")
        }
        return .clientGone
    }

    /// `{"Width":80,"Height":24}` on channel 4: the terminal's new size.
    static func resize(_ terminal: Int32, _ data: ByteBuffer) {
        guard let json = try? JSONValue.parse(Array(data.readableBytesView)),
              let width = json["Width"]?.intValue, let height = json["Height"]?.intValue,
              (0...65535).contains(width), (0...65535).contains(height) else { return }
        TerminalSize(width: UInt16(width), height: UInt16(height)).apply(toTerminal: terminal)
    }

    // MARK: - Process to client

    private func pump(_ source: NIOAsyncChannel<ByteBuffer, Never>, channel: UInt8) async -> Event {
        do {
            try await source.executeThenClose { inbound in
                for try await chunk in inbound {
                    lastOutput.store(Self.now(), ordering: .relaxed)
                    try await send(channel, chunk)
                }
            }
        } catch {
            // A terminal's master reads EIO once nothing holds the terminal: its end of file.
        }
        return .outputDone
    }

    /// After the process ended: returns once its output has been quiet for `drainIdle`.
    private func waitDrained() async -> Event {
        lastOutput.store(Self.now(), ordering: .relaxed)
        while !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(50))
            if Self.now() - lastOutput.load(ordering: .relaxed) > Self.drainIdle {
                return .drained
            }
        }
        return .drained
    }

    private func send(_ channel: UInt8, _ payload: ByteBuffer) async throws {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(payload.readableBytes + 1)
        buffer.writeInteger(channel)
        buffer.writeImmutableBuffer(payload)
        try await outbound.write(WebSocketFrame(fin: true, opcode: .binary, data: buffer))
    }

    /// The status on channel 3, then the closing handshake, in one write.
    private func finish(status: JSONValue) async {
        let payload = ByteBuffer(bytes: status.serialized())
        var message = ByteBuffer()
        message.reserveCapacity(payload.readableBytes + 1)
        message.writeInteger(ChannelProtocol.status)
        message.writeImmutableBuffer(payload)
        var code = ByteBuffer()
        code.writeInteger(UInt16(1000))
        try? await outbound.write(contentsOf: [WebSocketFrame(fin: true, opcode: .binary, data: message),
                                               WebSocketFrame(fin: true, opcode: .connectionClose, data: code)])
    }

    private func startFailed(_ failure: StreamSession.StartFailure, container: String) async {
        let what = request.kind == .exec ? "exec" : "attach"
        let tty = request.options.tty
        if request.kind == .exec && failure.commandNotRunnable {
            // As a shell says it: on the command's stderr (its terminal with a tty), with
            // the shell's exit status, 127 not found or 126 not executable.
            let line = "podd: \(failure.message)\n"
            let channel = tty || !request.options.stderr ? ChannelProtocol.stdout : ChannelProtocol.stderr
            if request.options.stdout || request.options.stderr { try? await send(channel, ByteBuffer(string: line)) }
            await finish(status: ChannelProtocol.exitStatus(failure.shellExitStatus, command: request.command))
            return
        }
        let message = "\(what) in container \(container) of pod \(request.key.name) failed: \(failure.stage): \(failure.message)"
        if failure.code == ENOSPC {
            // The pod's monitor has no free session (64 at once): a limit, for the client to
            // try again later, not podd's failure.
            await finish(status: ChannelProtocol.failure(message, reason: "TooManyRequests", code: 429))
            return
        }
        await finish(status: ChannelProtocol.failure(message))
    }

    // MARK: - Descriptors as channels

    /// The monitor's answer to the session's request, as a value (for `async let`).
    private static func started(_ session: StreamSession) async -> Result<(io: StreamSession.IO, tty: Bool), StreamSession.StartFailure> {
        do {
            return .success(try await session.start())
        } catch {
            return .failure(error)
        }
    }

    /// The process's stdio as channels, being set up: podd's end of its stdin (if the client
    /// sends any), and its outputs with their channel numbers.
    struct Channels: Sendable {
        let pendingInput: Task<Channel?, Never>
        let pendingSources: Task<[(UInt8, NIOAsyncChannel<ByteBuffer, Never>)], Never>

        var input: Channel? { get async { await pendingInput.value } }
        var sources: [(UInt8, NIOAsyncChannel<ByteBuffer, Never>)] { get async { await pendingSources.value } }

        /// Closes them (a session that did not start).
        func close() async {
            try? await input?.close()
            for (_, source) in await sources { try? await source.channel.close() }
        }
    }

    /// Starts setting up the channels of `io`, side by side: each is a round trip to an
    /// event loop.
    static func channels(for io: StreamSession.IO, stdin: Bool) -> Channels {
        let group = MultiThreadedEventLoopGroup.singleton
        let input = Task { await Self.outputChannel(io.input, wanted: stdin, group: group) }
        let sources = Task {
            async let out = Self.inputChannel(io.output, group: group)
            async let err = Self.inputChannel(io.errors, group: group)
            var sources: [(UInt8, NIOAsyncChannel<ByteBuffer, Never>)] = []
            if let out = await out { sources.append((ChannelProtocol.stdout, out)) }
            if let err = await err { sources.append((ChannelProtocol.stderr, err)) }
            return sources
        }
        return Channels(pendingInput: input, pendingSources: sources)
    }

    /// A pipe (or terminal) end podd writes to, as a NIO channel; nil (and closed) if unwanted.
    static func outputChannel(_ fd: Int32?, wanted: Bool, group: EventLoopGroup) async -> Channel? {
        guard let fd else { return nil }
        guard wanted else {
            StreamSession.IO.close(fd)
            return nil
        }
        do {
            return try await NIOPipeBootstrap(group: group).takingOwnershipOfDescriptor(output: fd).get()
        } catch {
            StreamSession.IO.close(fd)
            return nil
        }
    }

    /// A pipe (or terminal) end podd reads from, as an async channel.
    static func inputChannel(_ fd: Int32?, group: EventLoopGroup) async -> NIOAsyncChannel<ByteBuffer, Never>? {
        guard let fd else { return nil }
        do {
            return try await NIOPipeBootstrap(group: group).takingOwnershipOfDescriptor(input: fd) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, Never>(wrappingChannelSynchronously: channel) }
            }
        } catch {
            StreamSession.IO.close(fd)
            return nil
        }
    }

    /// Monotonic nanoseconds.
    static func now() -> UInt64 {
        UInt64(NIODeadline.now().uptimeNanoseconds)
    }
}
