import CPodShim
import Glibc
import Synchronization

/// Reaps the children podd inherits and nobody waits for.
///
/// podd is the subreaper of the monitors it starts, so when a monitor dies (kill -9, a crash)
/// the container processes it leaves are reparented to podd; they die at once (their parent
/// death signal, or their PID namespace's end) and would stay zombies of podd for good. podd
/// must not `waitpid(-1)`: that would steal the exits that others wait for by pid or pidfd
/// (a monitor's, through its `PidFD`; a helper's, in `ProcessControl.wait`). So those children
/// are *claimed*, and on every SIGCHLD the reaper reaps each exited child that is not.
/// Claiming and reaping take one lock, so a child just spawned is claimed before the reaper
/// can look at it.
public final class ChildReaper: Sendable {
    /// The one reaper of this process.
    public static let shared = ChildReaper()

    private struct State {
        /// Pids waited for elsewhere, with a count (a pid may be claimed by two handles).
        var claimed: [pid_t: Int] = [:]
        /// A claimed child that had exited, unreaped, when the kernel was last asked which
        /// child had: it stands in front of any other (below), so the question is asked
        /// again once its owner has reaped it.
        var inTheWay: pid_t = 0

        /// Whether `pid` was the claimed child in the way; it is not any more.
        mutating func tookOut(_ pid: pid_t) -> Bool {
            guard inTheWay == pid else { return false }
            inTheWay = 0
            return true
        }
    }

    private let state = Mutex(State())
    private let signalFD = Atomic<Int32>(-1)
    /// Hears of the children reaped when an owner's reap lets the reaper go on (`watch`'s).
    private let onReaped = Mutex<(@Sendable ([pid_t]) -> Void)?>(nil)

    init() {}

    /// Runs `spawn` (which starts a child and returns its pid) and claims that child, with no
    /// scan in between.
    public func spawning(_ spawn: () -> pid_t) -> pid_t {
        state.withLock { state in
            let pid = spawn()
            if pid > 0 { state.claimed[pid, default: 0] += 1 }
            return pid
        }
    }

    /// Claims `pid`: someone will wait for it by pid or pidfd.
    public func claim(_ pid: pid_t) { state.withLock { $0.claimed[pid, default: 0] += 1 } }

    /// Drops one claim on `pid` (after it was waited for, or when its handle goes).
    public func release(_ pid: pid_t) {
        let goOn = state.withLock { state in
            if let n = state.claimed[pid] { state.claimed[pid] = n > 1 ? n - 1 : nil }
            return state.tookOut(pid)
        }
        if goOn { reapSoon() }
    }

    /// Tells the reaper that `pid`'s owner has reaped it (a `PidFD` that keeps its claim).
    public func reaped(_ pid: pid_t) {
        if state.withLock({ $0.tookOut(pid) }) { reapSoon() }
    }

    /// The shortest time between two passes of the reaper started by SIGCHLDs or owners'
    /// reaps. Each pass walks all of podd's children (the kernel's waitid does, even for one
    /// answer): with 1,000 pods, a walk at every pod create (its monitor's first process
    /// exits) was 2% of the machine. An orphan's zombie waits this long at most.
    static let passInterval: UInt64 = 50_000_000

    private struct Passes {
        var last: UInt64 = 0
        var scheduled = false
    }

    private let passes = Mutex(Passes())

    /// A pass now, or one `passInterval` after the last (one for any number of asks).
    private func reapSoon() {
        let now = Self.monotonicNanoseconds()
        let wait: UInt64? = passes.withLock { p in
            if p.scheduled { return nil }
            if now >= p.last + Self.passInterval {
                p.last = now
                return 0
            }
            p.scheduled = true
            return p.last + Self.passInterval - now
        }
        guard let wait else { return }
        if wait == 0 {
            pass()
            return
        }
        Task.detached { [self] in
            try? await Task.sleep(nanoseconds: wait)
            passes.withLock { p in
                p.scheduled = false
                p.last = Self.monotonicNanoseconds()
            }
            pass()
        }
    }

    private func pass() {
        let pids = reapOrphans()
        if !pids.isEmpty, let tell = onReaped.withLock({ $0 }) { tell(pids) }
    }

    private static func monotonicNanoseconds() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    /// Reaps every child of podd that has exited and is not claimed; returns their pids.
    ///
    /// The kernel is asked which child has exited (waitid WNOWAIT, which reaps nothing):
    /// none, and there is nothing to do; an unclaimed one is reaped, and the next asked for.
    /// A claimed one is its owner's to reap, and the kernel names it again until then, so
    /// the others are looked at in a pass after the owner's reap (`release`, `reaped`): an
    /// owner waits for its child's exit while the SIGCHLD reaches the reactor. Only a claimed
    /// child still in the way at the next pass makes the reaper list all of podd's children.
    /// That list is read outside the lock: reading it at every SIGCHLD, with every spawn
    /// waiting on the lock, cost each pod create about half a millisecond with 1,000 pods.
    /// Whether to reap is still decided under the lock, so a child spawned while the list
    /// was read is claimed before it is looked at.
    @discardableResult
    public func reapOrphans() -> [pid_t] {
        enum Next { case reaped, wait, list }
        var reaped: [pid_t] = []
        asking: while true {
            let pid = pod_exited_child()
            if pid <= 0 { return reaped }
            let next: Next = state.withLock { state in
                if state.claimed[pid] == nil { return pod_reap_if_exited(pid) == 1 ? .reaped : .list }
                if state.inTheWay == pid {
                    state.inTheWay = 0
                    return .list
                }
                state.inTheWay = pid
                return .wait
            }
            switch next {
            case .reaped: reaped.append(pid)
            case .wait: return reaped
            case .list: break asking
            }
        }
        let children = Self.children()
        state.withLock { state in
            for pid in children where state.claimed[pid] == nil {
                // WNOHANG on one pid: a child still running is left alone.
                if pod_reap_if_exited(pid) == 1 { reaped.append(pid) }
            }
        }
        return reaped
    }

    /// The children of every thread of podd (/proc/self/task/TID/children): a child belongs
    /// to the thread that forked it, and an orphan to the thread it was handed to.
    static func children() -> [pid_t] {
        var pids: [pid_t] = []
        for task in FileSystem.listDirectory("/proc/self/task") {
            guard let text = FileSystem.readString("/proc/self/task/\(task)/children") else { continue }
            pids += text.split(separator: " ").compactMap { pid_t($0.filter { !$0.isWhitespace }) }
        }
        return pids
    }

    /// Reaps orphans on every SIGCHLD, through a signalfd on `reactor`. SIGCHLD must be
    /// blocked in every thread (`Daemon.blockSignals`), or it is not queued for the signalfd.
    /// `reaped` hears of each batch (for a debug log line).
    public func watch(reactor: Reactor, reaped: @escaping @Sendable ([pid_t]) -> Void) throws(OSError) {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGCHLD)
        let fd = signalfd(-1, &set, Int32(SFD_CLOEXEC | SFD_NONBLOCK))
        guard fd >= 0 else { throw OSError.last("signalfd(SIGCHLD)") }
        signalFD.store(fd, ordering: .relaxed)
        onReaped.withLock { $0 = reaped }
        do throws(OSError) {
            try reactor.add(fd) { [self] _ in
                var info = signalfd_siginfo()
                while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) > 0 {}
                // SIGCHLDs merge: one pass reaps every unclaimed child that has ended by then.
                self.reapSoon()
            }
        } catch {
            close(fd)
            throw error
        }
        // Anything that ended before the signalfd existed.
        let pids = reapOrphans()
        if !pids.isEmpty { reaped(pids) }
    }
}

