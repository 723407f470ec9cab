import CPodShim
import Glibc
import Synchronization

/// One thread that waits on every descriptor podd watches outside the HTTP server: the
/// monitors' control sockets and their pidfds. Handlers run on the reactor thread and must
/// not block: they parse and hand work to actors.
///
/// Why not NIO: monitor sockets are SOCK_SEQPACKET (one message per read, no framing), which
/// NIO's channels do not model, and a pidfd is not a channel at all.
public final class Reactor: Sendable {
    public typealias Handler = @Sendable (_ events: UInt32) -> Void

    let epollFD: Int32
    let wakeFD: Int32
    private let handlers = Mutex<[Int32: Handler]>([:])
    private let onFailure: @Sendable (OSError) -> Void

    /// `onFailure` hears, once, of an error that ended the reactor's loop (epoll_wait failing
    /// other than with EINTR): nothing podd watches is heard of after it, so the daemon exits
    /// and its service manager starts a new one, which re-adopts the pods.
    public init(onFailure: @escaping @Sendable (OSError) -> Void) throws(OSError) {
        self.onFailure = onFailure
        let ep = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard ep >= 0 else { throw OSError.last("epoll_create1") }
        let wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard wake >= 0 else { close(ep); throw OSError.last("eventfd") }
        epollFD = ep
        wakeFD = wake
        var ev = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(fd: wake))
        guard epoll_ctl(ep, EPOLL_CTL_ADD, wake, &ev) == 0 else {
            let error = OSError.last("epoll_ctl(add eventfd)")
            close(ep)
            close(wake)
            throw error
        }
        // A thread of its own: the reactor blocks in epoll_wait and must not occupy a thread
        // of Swift's cooperative pool.
        do throws(OSError) {
            try DetachedThread.start { [self] in self.run() }
        } catch {
            close(ep)
            close(wake)
            throw error
        }
    }

    /// Wakes the loop (its thread runs once round, handling nothing).
    func wake() {
        var one: UInt64 = 1
        _ = write(wakeFD, &one, 8)
    }

    /// Watches `fd` for `events` (EPOLLIN by default) until `remove(fd)`.
    public func add(_ fd: Int32, events: UInt32 = EPOLLIN.rawValue, handler: @escaping Handler) throws(OSError) {
        handlers.withLock { $0[fd] = handler }
        var ev = epoll_event(events: events, data: epoll_data_t(fd: fd))
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &ev) != 0 {
            let error = OSError.last("epoll_ctl(add)")
            _ = handlers.withLock { $0.removeValue(forKey: fd) }
            throw error
        }
    }

    /// Stops watching `fd`. The caller still owns (and closes) the descriptor.
    public func remove(_ fd: Int32) {
        _ = handlers.withLock { $0.removeValue(forKey: fd) }
        epoll_ctl(epollFD, EPOLL_CTL_DEL, fd, nil)
    }

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 64)
        while true {
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epollFD, $0.baseAddress, 64, -1) }
            if n < 0 {
                if errno == EINTR { continue }
                onFailure(OSError.last("epoll_wait"))
                return
            }
            for i in 0..<Int(n) {
                let fd = events[i].data.fd
                if fd == wakeFD {
                    var drain: UInt64 = 0
                    _ = read(wakeFD, &drain, 8)
                    continue
                }
                let handler = handlers.withLock { $0[fd] }
                handler?(events[i].events)
            }
        }
    }
}

extension Reactor {
    /// Suspends until `fd` is readable or the task is cancelled, without holding a thread and
    /// without a timer: an idle daemon must not wake up (a wait with a timeout, looped, costs
    /// a wake-up per round).
    public func waitReadable(_ fd: Int32) async {
        let once = Once()
        let resumeOnCancel = Mutex<(@Sendable () -> Void)?>(nil)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                let resume: @Sendable () -> Void = { if once.claim() { self.remove(fd); c.resume() } }
                resumeOnCancel.withLock { $0 = resume }
                // Cancelled before the handler could be stored: it found nothing to call.
                if Task.isCancelled {
                    resume()
                    return
                }
                do {
                    try add(fd, events: EPOLLIN.rawValue | EPOLLONESHOT.rawValue) { _ in resume() }
                } catch {
                    resume()
                }
            }
        } onCancel: {
            resumeOnCancel.withLock { $0 }?()
        }
    }

    /// Suspends until `fd` is readable or `timeout` seconds pass, without holding a thread.
    public func waitReadable(_ fd: Int32, timeout: Double) async {
        let once = Once()
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resume: @Sendable () -> Void = { if once.claim() { self.remove(fd); c.resume() } }
            do {
                try add(fd, events: EPOLLIN.rawValue | EPOLLONESHOT.rawValue) { _ in resume() }
            } catch {
                resume()
                return
            }
            Task {
                // Cancelled or not, the wait ends here at the latest (a timeout is the answer).
                try? await Task.sleep(for: .milliseconds(Int64(timeout * 1000)))
                resume()
            }
        }
    }
}

/// A flag that can be claimed once, from any thread.
final class Once: Sendable {
    private let claimed = Atomic<Bool>(false)
    func claim() -> Bool { claimed.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged }
}
