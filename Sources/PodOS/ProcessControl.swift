import CPodShim
import Glibc

/// Starting and identifying host processes.
public enum ProcessControl {
    /// Starts `path` with `arguments` (argv[1...]) and `environment`, `fd3` as its fd 3,
    /// stdout/stderr to `logFD` when given. Uses posix_spawn (safe in a threaded process).
    public static func spawn(_ path: String, arguments: [String], environment: [String],
                             fd3: Int32 = -1, logFD: Int32 = -1) throws(OSError) -> pid_t {
        // Claimed (ChildReaper): whoever spawns it waits for it with `wait`.
        let pid = ChildReaper.shared.spawning {
            withCArrays([path] + arguments, environment) { argv, envp in pod_spawn(path, argv, envp, fd3, logFD) }
        }
        guard pid > 0 else { throw OSError.last("spawn(\(path))") }
        return pid
    }

    /// Like `spawn`, but the child starts inside the cgroup directory `cgroup` (clone3
    /// CLONE_INTO_CGROUP), falling back to a plain spawn where the kernel cannot.
    public static func spawn(_ path: String, arguments: [String], environment: [String], fd3: Int32,
                             inCgroup cgroup: String) throws(OSError) -> pid_t {
        let cgfd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard cgfd >= 0 else { return try spawn(path, arguments: arguments, environment: environment, fd3: fd3) }
        defer { close(cgfd) }
        let pid = ChildReaper.shared.spawning {
            withCArrays([path] + arguments, environment) { argv, envp in pod_spawn_in_cgroup(path, argv, envp, fd3, cgfd) }
        }
        if pid > 0 { return pid }
        if errno == ENOSYS || errno == E2BIG || errno == EINVAL || errno == EOPNOTSUPP {
            return try spawn(path, arguments: arguments, environment: environment, fd3: fd3)
        }
        throw OSError.last("clone3(\(path))")
    }

    /// argv and envp as C arrays of C strings (NULL-terminated), for the spawn calls; built
    /// before the fork, so the child never allocates.
    private static func withCArrays<R>(_ argv: [String], _ envp: [String],
                                       _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>?, UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> R) -> R {
        let a = argv.map { strdup($0) } + [nil]
        let e = envp.map { strdup($0) } + [nil]
        defer {
            a.forEach { free($0) }
            e.forEach { free($0) }
        }
        return a.withUnsafeBufferPointer { ap in e.withUnsafeBufferPointer { ep in body(ap.baseAddress, ep.baseAddress) } }
    }

    /// Waits for a child podd itself started (never waitpid(-1): other children are not ours
    /// to reap). Returns the exit status, or 128+signal.
    public static func wait(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        defer { ChildReaper.shared.release(pid) }
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Runs a helper command to completion with output captured in a file; for rare
    /// administrative work (image unpacking), never per container start.
    public static func run(_ path: String, arguments: [String], outputPath: String) throws(OSError) -> Int32 {
        let fd = open(outputPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw OSError.last("open(\(outputPath))") }
        defer { close(fd) }
        let pid = try spawn(path, arguments: arguments, environment: ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C"], logFD: fd)
        return wait(pid)
    }

    /// Field 22 of /proc/PID/stat: the start time in clock ticks since boot. With the pid, it
    /// identifies a process across pid reuse.
    public static func startTime(of pid: pid_t) -> UInt64? {
        guard let stat = try? FileSystem.read("/proc/\(pid)/stat", limit: 4096),
              let close = stat.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        // Fields after the command name (which may hold spaces or parentheses) start at
        // field 3; the start time is field 22. Parsed from the bytes: podd reads it for
        // every monitor and container it re-adopts.
        var field = 2
        var value: UInt64 = 0
        var digits = 0
        for byte in stat[(close + 1)...] {
            if byte == UInt8(ascii: " ") {
                if field == 22 { break }
                field += 1
                continue
            }
            guard field == 22 else { continue }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
            digits += 1
        }
        return field == 22 && digits > 0 ? value : nil
    }

    public static func isAlive(_ pid: pid_t) -> Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// Private anonymous memory (RssAnon) of a process in bytes, from /proc/PID/status.
    public static func rssAnon(of pid: pid_t) -> UInt64? { statusField("RssAnon", pid: pid) }

    /// Resident memory (VmRSS) in bytes.
    public static func rss(of pid: pid_t) -> UInt64? { statusField("VmRSS", pid: pid) }

    private static func statusField(_ name: String, pid: pid_t) -> UInt64? {
        guard let status = FileSystem.readString("/proc/\(pid)/status") else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix(name + ":") {
            let kb = line.dropFirst(name.count + 1).split(separator: " ").first.flatMap { UInt64($0) }
            return kb.map { $0 * 1024 }
        }
        return nil
    }
}

/// A pidfd: a handle on one process that stays valid (and never names another process)
/// after it exits. Readable once the process has exited.
public final class PidFD: Sendable {
    public let fd: Int32
    public let pid: pid_t

    public init(pid: pid_t) throws(OSError) {
        let fd = pod_pidfd_open(pid)
        guard fd >= 0 else { throw OSError.last("pidfd_open(\(pid))") }
        self.fd = fd
        self.pid = pid
        // A monitor is podd's child (podd is its subreaper): its exit is this handle's to reap.
        ChildReaper.shared.claim(pid)
    }

    deinit {
        // Nobody will reap it through this handle any more: if it has ended, reap it now (a
        // no-op for a process that is not podd's child); if not, the orphan reaper will.
        _ = pod_pidfd_reap(fd)
        ChildReaper.shared.release(pid)
        close(fd)
    }

    public enum Reaped: Sendable { case reaped, running, notOurs }

    /// Reaps the process if it has exited and is podd's child (a monitor orphaned to podd,
    /// its subreaper).
    @discardableResult
    public func reap() -> Reaped {
        if pod_pidfd_reap(fd) == 0 {
            ChildReaper.shared.reaped(pid)
            return .reaped
        }
        return errno == EAGAIN ? .running : .notOurs
    }

    public func signal(_ sig: Int32) throws(OSError) {
        guard pod_pidfd_send_signal(fd, sig) == 0 else { throw OSError.last("pidfd_send_signal(\(pid), \(sig))") }
    }
}
