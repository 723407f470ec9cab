import CPodShim
import Glibc

/// Waits for a file to be written (inotify), through the reactor: `logs -f` sleeps until the
/// monitor appends, instead of polling.
public final class FileChangeWatcher: Sendable {
    private let fd: Int32
    private let reactor: Reactor

    public init(path: String, reactor: Reactor) {
        self.reactor = reactor
        fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        if fd >= 0 { _ = inotify_add_watch(fd, path, UInt32(IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE_SELF)) }
    }

    deinit { if fd >= 0 { close(fd) } }

    /// Returns when the file changed or after `timeout` seconds.
    public func waitForChange(timeout: Double) async {
        guard fd >= 0 else {
            // No inotify instance (out of them): the caller looks again after the timeout,
            // which is all a wait for a change promises. Cancelled: it looks at once.
            try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
            return
        }
        await reactor.waitReadable(fd, timeout: timeout)
        var drain = [UInt8](repeating: 0, count: 4096)
        while drain.withUnsafeMutableBytes({ read(fd, $0.baseAddress, $0.count) }) > 0 {}
    }
}
