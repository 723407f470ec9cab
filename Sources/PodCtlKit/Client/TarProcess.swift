import Glibc

/// `tar -C DIR --numeric-owner -cf - .` with its output on a pipe, so a directory can be sent
/// to podd as a tarball while tar writes it, without a temporary file.
final class TarProcess {
    let pid: pid_t
    /// The read end of tar's stdout.
    let output: Int32
    let directory: String
    private var reaped = false

    init(directory: String) throws(PodctlError) {
        self.directory = directory
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { throw PodctlError("cannot create a pipe for tar: \(errorText(errno))") }
        // The read end stays in podctl; the write end becomes tar's stdout and is closed here
        // after the spawn. podctl is single-threaded, so no other spawn can inherit them.
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)

        // argv, never a shell: the directory name is passed as is.
        let arguments = ["tar", "-C", directory, "--numeric-owner", "-cf", "-", "."]
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }

        var pid: pid_t = 0
        let result = posix_spawnp(&pid, "tar", &actions, nil, &argv, environ)
        close(fds[1])
        guard result == 0 else {
            close(fds[0])
            throw PodctlError("cannot run tar to pack \(directory): \(errorText(result))")
        }
        self.pid = pid
        self.output = fds[0]
    }

    /// Waits for tar and fails unless it exited 0 (tar has said why on stderr).
    func finish() throws(PodctlError) {
        let status = reap()
        guard status == 0 else {
            throw PodctlError("tar could not pack \(directory) (\(Self.describe(status))); nothing was imported")
        }
    }

    /// Stops tar if it still runs (the upload failed) and reaps it.
    func abandon() {
        if !reaped { kill(pid, SIGTERM) }
        _ = reap()
    }

    private func reap() -> Int32 {
        guard !reaped else { return 0 }
        reaped = true
        close(output)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return -1 }
        }
        return status
    }

    /// "exit status 2" or "killed by signal 15" from a wait status.
    static func describe(_ status: Int32) -> String {
        if status < 0 { return "lost track of it" }
        let signal = status & 0x7F
        if signal == 0 { return "exit status \((status >> 8) & 0xFF)" }
        return "killed by signal \(signal)"
    }

    deinit {
        abandon()
    }
}
