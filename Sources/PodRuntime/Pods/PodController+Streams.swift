import CPodShim
import Glibc
import PodModel
import PodOS
import Synchronization

/// Ephemeral containers, exec and attach: the parts of a pod's controller that serve
/// interactive sessions (issue 4).
extension PodController {
    /// Monitor messages that are not about a container's life (exec sessions and the like).
    func monitorSaidOther(_ message: ControlMessage) {
        context.logger.debug("pod \(pod.metadata.name): unhandled monitor message \(message.op)")
    }

    // MARK: - Ephemeral containers

    /// Why the pod cannot take new ephemeral containers now, or nil: a pod that has finished
    /// or is terminating runs no new container.
    public func ephemeralContainerRefusal() -> String? {
        let name = pod.metadata.name
        if pod.metadata.deletionTimestamp != nil || lifecycle.isTerminating {
            return "pod \"\(name)\" is terminating: ephemeral containers can only be added to a running pod"
        }
        let phase = current().status.phase
        if lifecycle.isFinished || phase == .succeeded || phase == .failed {
            return "pod \"\(name)\" has finished (phase \(phase.rawValue)): ephemeral containers can only be added to a pod that has not; run the pod again to debug it"
        }
        return nil
    }

    /// Takes the pod's new list of ephemeral containers (validated and stored by the
    /// registry) and starts the ones that are new. Returns the pod as it now is.
    /// Returns the pod as it now is, and the sequence number it was published with.
    public func setEphemeralContainers(_ containers: [EphemeralContainer]) -> (pod: Pod, sequence: Int) {
        let known = Set(pod.spec.ephemeralContainers.map(\.name))
        pod.spec.ephemeralContainers = containers
        let now = RuntimeClock.now()
        var actions: [PodLifecycle.Action] = []
        for c in containers where !known.contains(c.name) {
            actions += lifecycle.addEphemeral(c.name, at: now)
        }
        apply(actions)
        return (current(), publishedSequence)
    }

    public enum PruneOutcome: Sendable, Equatable {
        case pruned
        case notFound
        case running
    }

    /// Removes an ephemeral container that has ended (podd's prune extension): from the
    /// spec, the status, and the disk (its logs and writable layer).
    public func pruneEphemeralContainer(_ name: String) -> PruneOutcome {
        guard pod.spec.ephemeralContainers.contains(where: { $0.name == name }) else { return .notFound }
        if lifecycle.container(name)?.isRunning == true { return .running }
        _ = lifecycle.removeEphemeral(name)
        pod.spec.ephemeralContainers.removeAll { $0.name == name }
        runs[name] = nil
        for dir in [layout.logDirectory + "/" + name, layout.stateDirectory + "/containers/" + name,
                    layout.runDirectory + "/containers/" + name] {
            do { try FileSystem.removeTree(dir) } catch { context.logger.warning("pruning \(name): removing \(dir): \(error)") }
        }
        publish()
        return .pruned
    }

    // MARK: - Logs

    /// A container's log, current run (or the one before, `previous`), as a stream read
    /// from disk a block at a time; nil when the run has written no log file. Following
    /// ends when the run ends.
    public func openLog(container: String, previous: Bool, options: CRILogOptions, follow: Bool) -> ContainerLogStream? {
        guard let file = logFile(container: container, previous: previous) else { return nil }
        let path = file.path
        return ContainerLogStream(path: path, options: options, follow: follow, reactor: context.reactor) { [weak self] in
            await self?.isCurrentRun(container: container, logPath: path) ?? false
        }
    }

    // MARK: - exec and attach

    /// What an exec or attach request asks for (Kubernetes' PodExecOptions and PodAttachOptions).
    public struct StreamOptions: Sendable {
        public var stdin: Bool
        public var stdout: Bool
        public var stderr: Bool
        public var tty: Bool

        public init(stdin: Bool, stdout: Bool, stderr: Bool, tty: Bool) {
            self.stdin = stdin
            self.stdout = stdout
            self.stderr = stderr
            self.tty = tty
        }
    }

    /// The container a request names, as the API server picks it: the named one, or the
    /// only one; and checks that it runs. Throws the error the API answers with.
    /// `whileStarting`: a container whose process runs while its postStart hook has not
    /// finished counts as running (the hook's own exec runs then).
    public func streamContainer(_ requested: String?, kind: StreamSession.Kind, options: StreamOptions,
                                whileStarting: Bool = false) throws(RuntimeError) -> String {
        let podName = pod.metadata.name
        let names = pod.spec.containers.map(\.name)
        let all = names + pod.spec.initContainers.map(\.name) + pod.spec.ephemeralContainers.map(\.name)
        let name: String
        if let requested, !requested.isEmpty {
            guard all.contains(requested) else { throw .invalidRequest("container \(requested) is not valid for pod \(podName)") }
            name = requested
        } else if names.count == 1, let only = names.first {
            name = only
        } else {
            throw .invalidRequest("a container name must be specified for pod \(podName), choose one of: [\(all.joined(separator: " "))]")
        }
        let phase = current().status.phase
        if phase == .succeeded || phase == .failed {
            throw .invalidRequest("cannot \(kind.rawValue) into a container in a completed pod; current phase is \(phase.rawValue)")
        }
        let runs = lifecycle.container(name)?.acceptsExec(duringPostStart: whileStarting) ?? false
        guard runs, sandbox != nil else {
            var why = ""
            if let reason = lifecycle.container(name)?.waitingReason { why = " (waiting: \(reason))" }
            if case let .terminated(t)? = lifecycle.container(name)?.state { why = " (terminated: \(t.reason), exit code \(t.exitCode))" }
            throw .invalidRequest("container \(name) in pod \(podName) is not running\(why)")
        }
        if kind == .attach, options.stdin, let def = streamDefinition(name), !def.stdin && !def.tty {
            throw .invalidRequest("container \(name) in pod \(podName) was not started with stdin: true, so it takes no input; attach without -i (stdin=false)")
        }
        return name
    }

    /// Starts `command` in a running container (exec). The process runs in the container's
    /// namespaces and root with its environment and working directory, as a child of the
    /// pod's monitor. The caller awaits `start()` on the session.
    public func openExec(container requested: String?, command: [String], options: StreamOptions,
                         whileStarting: Bool = false) throws(RuntimeError) -> StreamSession {
        let name = try streamContainer(requested, kind: .exec, options: options, whileStarting: whileStarting)
        guard !command.isEmpty, !command[0].isEmpty else { throw .invalidRequest("you must specify at least one command for the container") }
        guard let def = streamDefinition(name) else { throw .invalidRequest("container \(name) is not valid for pod \(pod.metadata.name)") }
        var message = ControlMessage(op: "exec")
        let id = Self.nextSessionID()
        message.append("id", id)
        message.append("name", name)
        message.append("tty", options.tty ? "1" : "0")
        let launch = ContainerLaunch(pod: pod, layout: layout, images: context.images, logs: context.config.logs,
                                     security: context.config.security, stateDir: context.config.stateDir)
        // The environment the container's run started with (ConfigMaps and Secrets as they were then).
        for variable in configuredEnvironments[name] ?? execEnvironment(def, fallback: launch.environment(def)) { message.append("env", variable) }
        for a in command { message.append("arg", a) }
        message.append("cwd", def.workingDir ?? "/")
        // An exec runs as its container: the same user, capabilities and seccomp filter.
        do throws(ContainerLaunch.LaunchError) {
            // As the container's run got them; computed here only for a run podd did not
            // start (re-adopted after a restart).
            let security: [(String, String)]
            if let started = configuredSecurity[name] { security = started } else { security = try launch.securityFields(def) }
            for (k, v) in security { message.append(k, v) }
        } catch {
            throw .invalidRequest("container \(name): its securityContext cannot be applied to an exec: \(error)")
        }
        var io = StreamSession.IO()
        var passed: [Int32] = []
        defer { passed.forEach { Glibc.close($0) } }
        do throws(OSError) {
            if !options.tty {
                // The command's stdin, stdout, stderr: a pipe for each stream the client
                // wants, /dev/null for the others (the monitor dup2s them as given).
                let (inRead, inWrite) = options.stdin ? try Self.pipe() : (try Self.devNull(), -1)
                passed.append(inRead)
                if inWrite >= 0 { io.input = inWrite }
                let (outRead, outWrite) = options.stdout ? try Self.pipe() : (-1, try Self.devNull())
                passed.append(outWrite)
                if outRead >= 0 { io.output = outRead }
                let (errRead, errWrite) = options.stderr ? try Self.pipe() : (-1, try Self.devNull())
                passed.append(errWrite)
                if errRead >= 0 { io.errors = errRead }
            }
            return try sendSession(message, id: id, kind: .exec, container: name, io: io, fds: passed)
        } catch {
            for fd in [io.input, io.output, io.errors] { if let fd { Glibc.close(fd) } }
            throw .internalError("exec in \(name): \(error)")
        }
    }

    /// Connects to a running container's stdio (attach): its output as it is written (it
    /// still goes to the log), and with `stdin` its input.
    public func openAttach(container requested: String?, options: StreamOptions) throws(RuntimeError) -> StreamSession {
        let name = try streamContainer(requested, kind: .attach, options: options)
        let tty = streamDefinition(name)?.tty ?? false
        var message = ControlMessage(op: "attach")
        let id = Self.nextSessionID()
        message.append("id", id)
        message.append("name", name)
        message.append("stdin", options.stdin ? "1" : "0")
        let wantsOut = options.stdout || (tty && options.stderr)
        let wantsErr = options.stderr && !tty
        message.append("stdout", wantsOut ? "1" : "0")
        message.append("stderr", wantsErr ? "1" : "0")
        var io = StreamSession.IO()
        var passed: [Int32] = []
        defer { passed.forEach { Glibc.close($0) } }
        do throws(OSError) {
            if wantsOut {
                let (r, w) = try Self.pipe()
                io.output = r
                passed.append(w)
            }
            if wantsErr {
                let (r, w) = try Self.pipe()
                io.errors = r
                passed.append(w)
            }
            return try sendSession(message, id: id, kind: .attach, container: name, io: io, fds: passed)
        } catch {
            for fd in [io.output, io.errors] { if let fd { Glibc.close(fd) } }
            throw .internalError("attach to \(name): \(error)")
        }
    }

    /// Runs `command` in a running container (or one whose postStart hook is running) and
    /// collects what it writes (for exec probes and hooks): its exit code and the first 10 KiB of stdout and stderr together; nil
    /// when it has not ended after `timeout` seconds (it is killed then, with what it
    /// started). A command that cannot run reads as exit code 126 or 127, as from a shell.
    public func runInContainer(_ container: String, command: [String], timeout: Double) async -> (exitCode: Int32, output: String)? {
        let options = StreamOptions(stdin: false, stdout: true, stderr: true, tty: false)
        let session: StreamSession
        do {
            session = try openExec(container: container, command: command, options: options, whileStarting: true)
        } catch {
            return (126, error.message)
        }
        defer { session.close() }
        let reactor = context.reactor
        let io: StreamSession.IO
        do {
            io = try await session.start().io
        } catch {
            return (error.commandNotRunnable && error.code == ENOENT ? 127 : 126, error.description)
        }
        let outputs = [io.output, io.errors].compactMap { $0 }
        defer { outputs.forEach { Glibc.close($0) } }
        enum Part: Sendable { case output([UInt8]), exit(StreamSession.Exit?), timedOut }
        return await withTaskGroup(of: Part.self) { group in
            for fd in outputs { group.addTask { .output(await Self.drain(fd, reactor: reactor, limit: 10 << 10)) } }
            group.addTask { .exit(await session.exit()) }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                return .timedOut
            }
            var collected: [UInt8] = []
            var exit: StreamSession.Exit?
            var pending = outputs.count + 1
            while pending > 0, let part = await group.next() {
                switch part {
                case let .output(bytes): collected += bytes; pending -= 1
                case let .exit(e): exit = e; pending -= 1
                case .timedOut:
                    group.cancelAll()
                    return nil
                }
            }
            group.cancelAll()
            guard let exit else { return nil }
            return (exit.exitCode, String(decoding: collected.prefix(10 << 10), as: UTF8.self))
        }
    }

    /// Reads the pipe `fd` to its end (keeping at most `limit` bytes), or until cancelled.
    /// Past the limit the rest is spliced to /dev/null, never copied, a full pipe (1 MiB) at
    /// most every 10 ms: the command keeps running as under kubelet (which discards what is
    /// over its limit; closing the pipe would kill it with SIGPIPE), slowed to 100 MB/s,
    /// and a probe that writes without end (`yes`) no longer keeps a core of podd busy until
    /// its timeout.
    private static func drain(_ fd: Int32, reactor: Reactor, limit: Int) async -> [UInt8] {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        var kept: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        // /dev/null once the limit is reached; -1 before, and for good if splice cannot be used.
        var discard: Int32 = -1
        var splicing = true
        defer { if discard >= 0 { Glibc.close(discard) } }
        while !Task.isCancelled {
            if discard >= 0 {
                let n = pod_splice(fd, discard, 1 << 20)
                if n > 0 { continue }
                if n == 0 { break }
                if errno != EAGAIN && errno != EINTR {
                    splicing = false  // read and drop instead
                    Glibc.close(discard)
                    discard = -1
                    continue
                }
                try? await Task.sleep(for: .milliseconds(10))
                continue
            } else {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n > 0 {
                    if kept.count < limit { kept += buffer[0..<min(n, limit - kept.count)] }
                    if kept.count >= limit, splicing {
                        discard = open("/dev/null", O_WRONLY | O_CLOEXEC)
                        _ = fcntl(fd, 1031 /* F_SETPIPE_SZ */, Int32(1 << 20))  // room for 10 ms at 100 MB/s
                    }
                    continue
                }
                if n == 0 || (errno != EAGAIN && errno != EINTR) { break }
            }
            await reactor.readable(fd)
        }
        return kept
    }

    private func sendSession(_ message: ControlMessage, id: String, kind: StreamSession.Kind, container: String,
                             io: StreamSession.IO, fds: [Int32]) throws(OSError) -> StreamSession {
        guard let sandbox else { throw OSError("the pod's sandbox is not running", code: ESRCH) }
        let (mine, theirs) = try SeqPacketSocket.pair()
        defer { Glibc.close(theirs) }
        try sandbox.send(message, fds: [theirs] + fds)
        return StreamSession(id: id, kind: kind, container: container, socket: mine, reactor: context.reactor, io: io)
    }

    /// The spec of a container of any kind.
    func streamDefinition(_ name: String) -> ContainerDefinition? {
        if let c = pod.spec.containers.first(where: { $0.name == name }) { return ContainerDefinition(c) }
        if let c = pod.spec.initContainers.first(where: { $0.name == name }) { return ContainerDefinition(c) }
        if let c = pod.spec.ephemeralContainers.first(where: { $0.name == name }) { return ContainerDefinition(c.common) }
        return nil
    }

    private static let sessionCounter = Atomic<Int>(0)

    static func nextSessionID() -> String {
        String(sessionCounter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    private static func pipe() throws(OSError) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard pod_pipe_cloexec(&fds) == 0 else { throw OSError.last("pipe2") }
        return (fds[0], fds[1])
    }

    private static func devNull() throws(OSError) -> Int32 {
        let fd = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw OSError.last("open(/dev/null)") }
        return fd
    }
}
