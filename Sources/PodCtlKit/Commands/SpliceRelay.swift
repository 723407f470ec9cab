import CPodShim
import Glibc

/// Copies one forwarded connection between podctl's local socket and the pod's socket (from
/// podd's handoff) with splice(2) through a pipe each way: the bytes never enter podctl's
/// memory, so a forward costs about what the kernel's socket copies cost. One thread, one
/// poll. The local end of file half-closes the pod's socket (the pod's answer still comes
/// back); the pod's end of file ends the connection, as kubelet's forward does.
struct SpliceRelay {
    let local: Int32
    let pod: Int32

    /// Pipe room asked for each way (the default pipe-max-size): fewer, larger splices.
    static let pipeSize: Int32 = 1 << 20

    /// One way of the copy: bytes spliced from `source` into the pipe wait there for `sink`.
    private struct Direction {
        let source: Int32
        let sink: Int32
        var pipe: [Int32] = [-1, -1]
        var room = 0
        /// Bytes in the pipe.
        var held = 0
        /// The source reached its end of file.
        var ended = false
        /// The pipe had no slot left for the source's bytes: wait until the sink takes some.
        var pipeFull = false

        var wantsSource: Bool { !ended && !pipeFull && held < room }
        var wantsSink: Bool { held > 0 }

        /// Moves what can move without blocking; false when either socket failed.
        mutating func step() -> Bool {
            if wantsSource {
                let n = pod_splice(source, pipe[1], room - held)
                if n > 0 {
                    held += n
                } else if n == 0 {
                    ended = true
                } else if errno == EAGAIN {
                    // Either the source had nothing, or the pipe's slots are used up by
                    // partial pages: with bytes held, wait for the sink to take some.
                    if held > 0 { pipeFull = true }
                } else {
                    return false
                }
            }
            if held > 0 {
                let n = pod_splice(pipe[0], sink, held)
                if n > 0 {
                    held -= n
                    pipeFull = false
                } else if n < 0 && errno != EAGAIN {
                    return false
                }
            }
            return true
        }

        mutating func open() -> Bool {
            var fds: [Int32] = [-1, -1]
            let size = pod_pipe_nonblocking(&fds, SpliceRelay.pipeSize)
            guard size > 0 else { return false }
            pipe = fds
            room = Int(size)
            return true
        }

        func closePipe() {
            for fd in pipe where fd >= 0 { close(fd) }
        }
    }

    /// Runs until the pod's side ends or either socket fails; false when the pipes could not
    /// be made (nothing was copied: the caller may use another way).
    func run() -> Bool {
        var up = Direction(source: local, sink: pod)
        var down = Direction(source: pod, sink: local)
        defer {
            up.closePipe()
            down.closePipe()
        }
        guard up.open(), down.open() else { return false }
        for fd in [local, pod] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        var podWriteClosed = false
        while true {
            guard down.step(), up.step() else { return true }
            if down.ended && down.held == 0 {
                // The pod is done: what it sent is with the client; the client sees its end.
                shutdown(local, Int32(SHUT_WR))
                return true
            }
            if up.ended && up.held == 0 && !podWriteClosed {
                shutdown(pod, Int32(SHUT_WR))
                podWriteClosed = true
            }
            // A socket with nothing to wait for is left out (-1): poll would report its
            // hang-up again and again.
            let localEvents = (up.wantsSource ? POLLIN : 0) | (down.wantsSink ? POLLOUT : 0)
            let podEvents = (down.wantsSource ? POLLIN : 0) | (up.wantsSink ? POLLOUT : 0)
            var fds = [pollfd(fd: localEvents == 0 ? -1 : local, events: Int16(localEvents), revents: 0),
                       pollfd(fd: podEvents == 0 ? -1 : pod, events: Int16(podEvents), revents: 0)]
            if poll(&fds, 2, -1) < 0 && errno != EINTR { return true }
            // An error or hang-up on the local socket: the client is gone.
            if fds[0].revents & Int16(POLLERR | POLLHUP) != 0 && fds[0].revents & Int16(POLLIN) == 0 { return true }
        }
    }
}
