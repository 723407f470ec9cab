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
/// Claiming and reaping take one lock, so a child just spawned is claimed before any scan
/// can see it.
public final class ChildReaper: Sendable {
    /// The one reaper of this process.
    public static let shared = ChildReaper()

    /// Pids waited for elsewhere, with a count (a pid may be claimed by two handles).
    private let claimed = Mutex<[pid_t: Int]>([:])
    private let signalFD = Atomic<Int32>(-1)

    init() {}

    /// Runs `spawn` (which starts a child and returns its pid) and claims that child, with no
    /// scan in between.
    public func spawning(_ spawn: () -> pid_t) -> pid_t {
        claimed.withLock { claimed in
            let pid = spawn()
            if pid > 0 { claimed[pid, default: 0] += 1 }
            return pid
        }
    }

    /// Claims `pid`: someone will wait for it by pid or pidfd.
    public func claim(_ pid: pid_t) { claimed.withLock { $0[pid, default: 0] += 1 } }

    /// Drops one claim on `pid` (after it was waited for, or when its handle goes).
    public func release(_ pid: pid_t) {
        claimed.withLock { claimed in
            guard let n = claimed[pid] else { return }
            claimed[pid] = n > 1 ? n - 1 : nil
        }
    }

    /// Reaps every child of podd that has exited and is not claimed; returns their pids.
    @discardableResult
    public func reapOrphans() -> [pid_t] {
        claimed.withLock { claimed in
            var reaped: [pid_t] = []
            for pid in Self.children() where claimed[pid] == nil {
                // WNOHANG on one pid: a child still running is left alone.
                if pod_reap_if_exited(pid) == 1 { reaped.append(pid) }
            }
            return reaped
        }
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
        do throws(OSError) {
            try reactor.add(fd) { [self] _ in
                var info = signalfd_siginfo()
                while read(fd, &info, MemoryLayout<signalfd_siginfo>.size) > 0 {}
                // SIGCHLDs merge: one scan reaps every child that has ended by now.
                let pids = self.reapOrphans()
                if !pids.isEmpty { reaped(pids) }
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
