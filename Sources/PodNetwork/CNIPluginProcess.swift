import CPodShim
import Glibc
import PodOS

/// One run of a CNI plugin binary: the CNI_* environment in, the network configuration on
/// stdin, the result (or the error object) on stdout, as the CNI spec's "execution protocol"
/// has it. The child gets stdin, stdout and stderr only: every other descriptor of podd is
/// closed in it (closefrom), so a plugin that forks a daemon (dhcp) cannot hold a pod's
/// socket or a monitor's control connection open.
struct CNIPluginProcess {
    /// What a finished plugin left.
    struct Outcome {
        var status: Int32
        var stdout: [UInt8]
        var stderr: [UInt8]
    }

    let path: String
    let environment: [String]
    let input: [UInt8]
    /// A plugin that hangs (an iptables lock held forever) is killed after this long.
    var timeoutSeconds: Double = 60

    func run() throws(OSError) -> Outcome {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        guard pipeCloexec(&inPipe), pipeCloexec(&outPipe), pipeCloexec(&errPipe) else {
            let e = OSError.last("pipe for CNI plugin \(path)")
            for fd in inPipe + outPipe + errPipe where fd >= 0 { close(fd) }
            throw e
        }
        let pid = spawn(stdin: inPipe[0], stdout: outPipe[1], stderr: errPipe[1])
        let spawnErrno = errno
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard pid > 0 else {
            close(inPipe[1]); close(outPipe[0]); close(errPipe[0])
            throw OSError("exec CNI plugin \(path)", code: spawnErrno)
        }
        // The plugin reads all of its stdin before it writes (skel.PluginMain), but a large
        // config may exceed the pipe: write and read in one poll loop.
        var pending = input[...]
        var writeFD: Int32 = inPipe[1]
        if pending.isEmpty { close(writeFD); writeFD = -1 }
        var readFDs = [outPipe[0], errPipe[0]]
        var out: [UInt8] = [], err: [UInt8] = []
        let deadline = RuntimeMonotonic.now() + timeoutSeconds
        var timedOut = false
        while !readFDs.isEmpty || writeFD >= 0 {
            var fds = readFDs.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if writeFD >= 0 { fds.append(pollfd(fd: writeFD, events: Int16(POLLOUT), revents: 0)) }
            let remaining = deadline - RuntimeMonotonic.now()
            if remaining <= 0 { timedOut = true; break }
            let n = poll(&fds, nfds_t(fds.count), Int32(min(remaining, 1) * 1000) + 1)
            if n < 0 && errno != EINTR { break }
            if n <= 0 { continue }
            for p in fds where p.revents != 0 {
                if p.fd == writeFD {
                    let written = pending.withUnsafeBytes { Glibc.write(writeFD, $0.baseAddress, $0.count) }
                    if written > 0 { pending = pending.dropFirst(written) }
                    if written < 0 && errno == EINTR { continue }
                    if written <= 0 || pending.isEmpty { close(writeFD); writeFD = -1 }
                    continue
                }
                var buffer = [UInt8](repeating: 0, count: 16384)
                let got = buffer.withUnsafeMutableBytes { read(p.fd, $0.baseAddress, $0.count) }
                if got > 0 {
                    if p.fd == outPipe[0] { out += buffer[0..<got] } else { err += buffer[0..<got] }
                } else if got == 0 || errno != EINTR {
                    close(p.fd)
                    readFDs.removeAll { $0 == p.fd }
                }
            }
        }
        if writeFD >= 0 { close(writeFD) }
        readFDs.forEach { close($0) }
        if timedOut { kill(pid, SIGKILL) }
        let status = ProcessControl.wait(pid)
        if timedOut {
            throw OSError("CNI plugin \(path) gave no answer within \(Int(timeoutSeconds)) s (killed)", code: ETIMEDOUT)
        }
        return Outcome(status: status, stdout: out, stderr: err)
    }

    private func pipeCloexec(_ fds: inout [Int32]) -> Bool {
        fds.withUnsafeMutableBufferPointer { pod_pipe_cloexec($0.baseAddress) } == 0
    }

    /// Starts the plugin with the three pipes as its stdio (pod_spawn_stdio: default signal
    /// handling, an empty mask, every other descriptor closed), claimed by the child reaper
    /// before any scan can see it.
    private func spawn(stdin: Int32, stdout: Int32, stderr: Int32) -> pid_t {
        let argv = [strdup(path)] + [nil]
        let envp = environment.map { strdup($0) } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        return ChildReaper.shared.spawning {
            argv.withUnsafeBufferPointer { a in
                envp.withUnsafeBufferPointer { e in
                    pod_spawn_stdio(path, a.baseAddress, e.baseAddress, stdin, stdout, stderr)
                }
            }
        }
    }
}

/// CLOCK_MONOTONIC in seconds, for the plugin's deadline.
enum RuntimeMonotonic {
    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}
