import Synchronization
import Glibc
import CPodShim
import PodModel
import PodOS

/// What a pod's controller needs of its sandbox: the monitor's messages in order, a way to
/// send it requests, and its end. PodSandbox is the real one; tests put a fake monitor in its
/// place (RuntimeContext.makeSandbox).
public protocol SandboxChannel: AnyObject, Sendable {
    var monitorPID: pid_t { get }
    /// Every message from the monitor, in the order it sent them, in batches: the messages
    /// that had arrived together (one batch per wake-up of the reader, so the controller
    /// publishes once for a container's start and exit said at once, or two starts). The
    /// stream ends when the connection does (the monitor died, or was shut down).
    func messages() throws(OSError) -> AsyncStream<[ControlMessage]>
    /// Why the pod has no cgroup of its own, when it could not be made (the pod runs anyway).
    var cgroupError: OSError? { get }
    func send(_ message: ControlMessage) throws(OSError)
    /// Sends a message with descriptors (an exec or attach session's socket and stdio).
    func send(_ message: ControlMessage, fds: [Int32]) throws(OSError)
    /// Reaps the monitor after it died on its own.
    func reapExited()
    /// Stops every container at once and ends the monitor and what is left of the pod. With
    /// `removingGroups: false` the pod's cgroups, emptied, are left for the caller to remove
    /// (CgroupHierarchy.killAndRemovePod) after the pod's files.
    func shutdown(removingGroups: Bool)
}

extension SandboxChannel {
    public func shutdown() { shutdown(removingGroups: true) }
}

/// A sandbox on its way (RuntimeContext.makeSandbox): the monitor is spawned and making the
/// pod's namespaces; `ready` waits until it has, and gives the sandbox.
public struct SandboxLaunch: Sendable {
    public let ready: @Sendable () throws -> any SandboxChannel

    public init(ready: @escaping @Sendable () throws -> any SandboxChannel) { self.ready = ready }
}

/// A pod's sandbox: its monitor process (which holds the pod's namespaces and is the parent
/// of its containers, see docs/monitor-protocol.md), the control socket to it, and its
/// directories. Messages from the monitor are delivered to `onMessage` on the reactor thread.
public final class PodSandbox: SandboxChannel {
    public let uid: String
    public let runDirectory: String
    public let monitorPID: pid_t
    public let cgroup: String?
    /// Why the pod has no cgroup of its own although the machine has cgroup v2 (the pod runs
    /// without: the caller must tell the user), or nil.
    public let cgroupError: OSError?
    /// Limits that could not be set on the pod's groups (the pod runs without them).
    public let limitProblems: [String]
    let socket: SeqPacketSocket
    let pidfd: PidFD?
    /// Where the pod's v1 groups are, to remove them with it.
    let cgroups: CgroupHierarchy?
    let reactor: Reactor

    public enum SandboxError: Error, CustomStringConvertible, Sendable {
        case monitorFailed(String)
        case os(OSError)

        public var description: String {
            switch self {
            case let .monitorFailed(m): return "the pod's monitor failed to start: \(m)"
            case let .os(e): return e.description
            }
        }
    }

    /// `started`: podd started this monitor (its first spawn may carry the device program),
    /// rather than re-adopting one an earlier podd left; `features`: the newer keys a
    /// re-adopted monitor knows (monitor.pid), all of them for one podd started.
    init(uid: String, runDirectory: String, monitorPID: pid_t, cgroup: String?, cgroupError: OSError? = nil,
         socket: SeqPacketSocket, reactor: Reactor, cgroups: CgroupHierarchy? = nil, limitProblems: [String] = [],
         started: Bool = true, features: Set<String> = []) {
        knowsOOMScoreAdj = started || features.contains("oom")
        self.cgroups = cgroups
        self.limitProblems = limitProblems
        self.uid = uid
        self.runDirectory = runDirectory
        self.monitorPID = monitorPID
        self.cgroup = cgroup
        self.cgroupError = cgroupError
        self.socket = socket
        self.pidfd = try? PidFD(pid: monitorPID)
        self.reactor = reactor
        self.firstSpawn = Mutex(started)
    }

    public struct Options: Sendable {
        public var monitorPath: String
        public var uid: String
        public var runDirectory: String
        public var hostname: String
        public var sharePID: Bool
        public var cgroups: CgroupHierarchy?
        /// Directories the monitor mounts a tmpfs on, in its own mount namespace, so that every
        /// container of the pod shares them (emptyDir with medium Memory); size in bytes or 0.
        public var tmpfs: [(path: String, size: Int64)]
        /// hostIPC: the pod keeps the host's IPC namespace.
        public var hostIPC = false
        /// The pod's sysctls as `name=value` (names dotted), written in its namespaces.
        public var sysctls: [String] = []
        /// fsGroup: the group of the memory-backed volumes (`tmpfs`).
        public var fsGroup: Int64?
        /// hostUsers: false: the host IDs to map the pod's user namespace to.
        public var userNamespaces: PoddConfig.UserNamespaceSettings?
        /// The pod shares the host's network namespace (hostNetwork): the monitor makes none.
        public var hostNetwork = false
        /// The pod-level limits (pids.max from podPidsLimit, and the containers' totals).
        public var limits = CgroupLimits()
        /// Where monitors share compiled seccomp filters (podd's run dir), or nil.
        public var seccompCache: String?
    }

    /// podd becomes the subreaper of the monitors it starts: a monitor is orphaned on purpose
    /// (its starter exits, so it is not podd's child and outlives podd), and without a
    /// subreaper its exit would wait on PID 1 to reap it. Done once, before the first start.
    private static let subreaper: Bool = pod_set_child_subreaper() == 0

    /// Starts the monitor and waits for it to report ready (it has made the namespaces).
    public static func start(_ o: Options, reactor: Reactor) throws(SandboxError) -> PodSandbox {
        try launch(o, reactor: reactor).ready()
    }

    /// A monitor spawned and setting the pod's namespaces up: `ready` waits for it. Between
    /// the two the caller may do work of its own (PodController builds the spawns of the
    /// pod's first containers), beside the monitor rather than after it.
    public final class Launch: @unchecked Sendable {
        let options: Options
        let socket: SeqPacketSocket
        let reactor: Reactor
        let cgroup: String?
        let cgroupError: OSError?
        let limitProblems: [String]
        /// Whether the pod's user namespace range is still to be given back on a failure.
        private var holdsRange: Bool
        /// The monitor's first process, which forks the monitor proper, reports its pid and
        /// exits: reaped by `ready` (waiting for it in `launch` would wait out the making
        /// of the namespaces, which it does first).
        private var stub: pid_t?

        init(options: Options, socket: SeqPacketSocket, reactor: Reactor, cgroup: String?, cgroupError: OSError?,
             limitProblems: [String], stub: pid_t) {
            self.stub = stub
            self.options = options
            self.socket = socket
            self.reactor = reactor
            self.cgroup = cgroup
            self.cgroupError = cgroupError
            self.limitProblems = limitProblems
            holdsRange = options.userNamespaces != nil
        }

        deinit {
            reapStub()
            releaseRange()
        }

        private func reapStub() {
            if let stub { _ = ProcessControl.wait(stub) }
            stub = nil
        }

        private func releaseRange() {
            if holdsRange { UserNamespaceRanges.shared.release(uid: options.uid) }
            holdsRange = false
        }

        /// Waits (10 s at most) for the monitor's "ready" and returns the sandbox; throws
        /// what the monitor said when it failed instead.
        public func ready() throws(SandboxError) -> PodSandbox {
            reapStub()
            let mine = socket
            var monitorPID: pid_t = 0
            let deadline = RuntimeClock.monotonic() + 10
            while true {
                let remaining = deadline - RuntimeClock.monotonic()
                guard remaining > 0 else { releaseRange(); throw .monitorFailed("no answer within 10 s") }
                var pfd = pollfd(fd: mine.fd, events: Int16(POLLIN), revents: 0)
                let n = poll(&pfd, 1, Int32(remaining * 1000))
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { continue }
                switch mine.receive() {
                case .wouldBlock: continue
                case .closed: releaseRange(); throw .monitorFailed("it exited before it was ready")
                case let .message(m, fds):
                    fds.forEach { close($0) }
                    switch m.op {
                    case "spawned": monitorPID = pid_t(m.int("pid") ?? 0)
                    case "ready":
                        if let p = m.int("pid") { monitorPID = pid_t(p) }
                        guard monitorPID > 0 else { releaseRange(); throw .monitorFailed("it did not say its pid") }
                        holdsRange = false
                        return PodSandbox(uid: options.uid, runDirectory: options.runDirectory, monitorPID: monitorPID,
                                          cgroup: cgroup, cgroupError: cgroupError, socket: mine, reactor: reactor,
                                          cgroups: options.cgroups, limitProblems: limitProblems)
                    case "fatal":
                        releaseRange()
                        throw .monitorFailed("\(m["stage"] ?? "start"): \(m["message"] ?? "errno \(m["errno"] ?? "?")")")
                    default: continue
                    }
                }
            }
        }
    }

    /// Makes the pod's cgroups and spawns its monitor, which goes on to make the pod's
    /// namespaces; `Launch.ready` waits for that.
    public static func launch(_ o: Options, reactor: Reactor) throws(SandboxError) -> Launch {
        _ = subreaper
        var cgroup: String?
        var cgroupError: OSError?
        var v1Groups: [String] = []
        var limitProblems: [String] = []
        if let h = o.cgroups {
            do throws(OSError) { cgroup = try h.createPodGroup(uid: o.uid) } catch { cgroupError = error }
            let (dirs, problems) = h.preparePod(uid: o.uid, group: cgroup, limits: o.limits)
            v1Groups = dirs
            limitProblems = problems
        }
        let (mine, theirs): (SeqPacketSocket, Int32)
        do throws(OSError) { (mine, theirs) = try SeqPacketSocket.pair() } catch { throw .os(error) }
        var args = ["--pod-dir", o.runDirectory, "--hostname", o.hostname]
        if o.sharePID { args.append("--share-pid") }
        if o.hostNetwork { args.append("--host-network") }
        if let cgroup { args += ["--cgroup", cgroup] }
        for dir in v1Groups { args += ["--cgroup-v1", dir] }
        for t in o.tmpfs { args += ["--tmpfs", t.size > 0 ? "\(t.path):\(t.size)" : t.path] }
        if o.hostIPC { args.append("--host-ipc") }
        if let dir = o.seccompCache, (try? FileSystem.makeDirectories(dir, mode: 0o700)) != nil {
            args += ["--seccomp-cache", dir]
        }
        for s in o.sysctls { args += ["--sysctl", s] }
        if let g = o.fsGroup { args += ["--fs-group", String(g)] }
        if let settings = o.userNamespaces {
            guard let base = UserNamespaceRanges.shared.allocate(uid: o.uid, settings: settings) else {
                throw .monitorFailed("userns: all \(settings.maxPods) user namespace ranges of userNamespaces are in use")
            }
            do throws(OSError) {
                try FileSystem.write(UserNamespaceRanges.recordPath(o.runDirectory), Array("\(base)\n".utf8))
            } catch {
                UserNamespaceRanges.shared.release(uid: o.uid)
                throw .os(error)
            }
            args += ["--userns", "\(base):\(UserNamespaceRanges.idsPerPod)"]
        }
        // Until the monitor is ready, a failure gives the pod's ID range back (Launch does,
        // once it exists).
        var launched = false
        defer { if !launched && o.userNamespaces != nil { UserNamespaceRanges.shared.release(uid: o.uid) } }
        let stub: pid_t
        do throws(OSError) {
            let env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
            if let cgroup {
                // A v2 group that gives controllers to its containers' groups holds no process.
                let home = o.cgroups?.containerLimitsOnV2 == true ? cgroup + "/" + CgroupHierarchy.monitorLeaf : cgroup
                stub = try ProcessControl.spawn(o.monitorPath, arguments: args, environment: env, fd3: theirs, inCgroup: home)
            } else {
                stub = try ProcessControl.spawn(o.monitorPath, arguments: args, environment: env, fd3: theirs)
            }
        } catch {
            close(theirs)
            throw .os(error)
        }
        close(theirs)
        launched = true
        return Launch(options: o, socket: mine, reactor: reactor, cgroup: cgroup, cgroupError: cgroupError,
                      limitProblems: limitProblems, stub: stub)
    }

    /// Reconnects to the monitor of a pod started by an earlier podd, if it still runs.
    public static func reconnect(uid: String, runDirectory: String, cgroups: CgroupHierarchy?, reactor: Reactor,
                                 userNamespaces: PoddConfig.UserNamespaceSettings? = nil) -> PodSandbox? {
        guard let text = FileSystem.readString(runDirectory + "/monitor.pid") else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let pid = pid_t(parts[0]), let start = UInt64(parts[1]),
              ProcessControl.startTime(of: pid) == start,
              let sock = try? SeqPacketSocket.connect(path: runDirectory + "/monitor.sock") else { return nil }
        let cgroup = cgroups.map { $0.podGroup(uid: uid) }
        if let userNamespaces {
            UserNamespaceRanges.shared.claim(uid: uid, runDirectory: runDirectory, settings: userNamespaces)
        }
        // A monitor an earlier podd started has its program, and may be of a version that
        // knows no `devices` field: its spawns never carry one. It lists the newer keys it
        // knows after its pid and start time (none: a monitor older than the list).
        return PodSandbox(uid: uid, runDirectory: runDirectory, monitorPID: pid,
                          cgroup: cgroup.flatMap { FileSystem.isDirectory($0) ? $0 : nil }, socket: sock, reactor: reactor,
                          cgroups: cgroups, started: false,
                          features: Set(parts.dropFirst(2).flatMap { $0.split(separator: ",").map(String.init) }))
    }

    /// Delivers the monitor's messages to `handler` (on the reactor thread), each wake-up's
    /// in one batch, in order, and nil once when the connection ends (the monitor died or
    /// was shut down). Throws when the reactor cannot watch the connection: the pod would
    /// never hear from its monitor, so the caller must not use this sandbox.
    public func listen(_ handler: @escaping @Sendable ([ControlMessage]?) -> Void) throws(OSError) {
        let socket = self.socket
        let reactor = self.reactor
        try reactor.add(socket.fd) { _ in
            var batch: [ControlMessage] = []
            while true {
                switch socket.receive() {
                case .wouldBlock:
                    if !batch.isEmpty { handler(batch) }
                    return
                case .closed:
                    reactor.remove(socket.fd)
                    if !batch.isEmpty { handler(batch) }
                    handler(nil)
                    return
                case let .message(m, fds):
                    // The device allowlist the monitor loaded, for the monitors after it.
                    if m.op == "devices" {
                        DeviceAllowlistProgram.shared.offer(fds)
                        continue
                    }
                    fds.forEach { close($0) }
                    batch.append(m)
                }
            }
        }
    }

    /// The monitor's messages as one ordered stream (read on the reactor thread, consumed by
    /// one task of the controller). Call once.
    public func messages() throws(OSError) -> AsyncStream<[ControlMessage]> {
        let (stream, continuation) = AsyncStream<[ControlMessage]>.makeStream()
        try listen { batch in
            if let batch { continuation.yield(batch) } else { continuation.finish() }
        }
        return stream
    }

    /// The first spawn carries the device allowlist program podd keeps (`devices=1`, its fd
    /// passed along): the monitor attaches it instead of loading its own. Without one (the
    /// first pod since podd started), the monitor loads it, and hands it to podd; the spawns
    /// after the first never carry it, the monitor has its own by then.
    public func send(_ message: ControlMessage) throws(OSError) {
        var message = message
        if !knowsOOMScoreAdj { message.fields.removeAll { $0.key == "oomScoreAdj" } }
        guard message.op == "spawn", firstSpawn.withLock({ first in defer { first = false }; return first }),
              let program = DeviceAllowlistProgram.shared.fd else {
            return try socket.send(message)
        }
        var spawn = message
        spawn.append("devices", "1")
        try socket.send(spawn, fds: [program])
    }

    /// Whether the next spawn is the first one to a monitor podd started.
    private let firstSpawn: Mutex<Bool>
    /// Whether the monitor takes `oomScoreAdj` (a monitor older than it refuses the spawn:
    /// its containers then keep the score it runs at, as before).
    private let knowsOOMScoreAdj: Bool

    /// Reaps the monitor after it died on its own (it is podd's child when podd started it),
    /// and kills what of the pod it left behind (container processes, orphaned to podd).
    public func reapExited() {
        _ = pidfd?.reap()
        if let cgroup { CgroupHierarchy.killEach(in: cgroup) }
    }

    /// Sends a message with descriptors (an exec or attach session's socket and stdio).
    public func send(_ message: ControlMessage, fds: [Int32]) throws(OSError) { try socket.send(message, fds: fds) }

    /// Stops every container at once and ends the monitor; its namespaces and private mounts
    /// go with it. Then kills anything left in the pod's cgroup and, unless told not to,
    /// removes it.
    public func shutdown(removingGroups: Bool) {
        defer { UserNamespaceRanges.shared.release(uid: uid) }
        try? socket.send(ControlMessage(op: "shutdown"))
        reactor.remove(socket.fd)
        // Wait (bounded) for the monitor to exit, then make sure nothing is left.
        let deadline = RuntimeClock.monotonic() + 5
        if let pidfd {
            var pfd = pollfd(fd: pidfd.fd, events: Int16(POLLIN), revents: 0)
            while RuntimeClock.monotonic() < deadline {
                let n = poll(&pfd, 1, 100)
                if n > 0 { break }
            }
            if pidfd.reap() == .running {
                try? pidfd.signal(SIGKILL)
                while RuntimeClock.monotonic() < deadline + 1, pidfd.reap() == .running { usleep(2_000) }
            }
        }
        if let cgroup {
            for _ in 0..<50 {
                if CgroupHierarchy.processes(in: cgroup).isEmpty { break }
                CgroupHierarchy.killAll(in: cgroup)
                usleep(20_000)
            }
            if removingGroups { try? CgroupHierarchy.remove(cgroup) }
        }
        // The v1 groups (memory, cpu, pids where v2 lacks them) hold the same processes; with
        // no v2 group of the pod's own they are what reaches them, so they go now regardless.
        if removingGroups || cgroup == nil { _ = try? cgroups?.killAndRemovePod(uid: uid) }
    }
}
