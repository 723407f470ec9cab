import CPodShim
import Glibc
import Synchronization
import Testing
@testable import PodOS

/// Failures that used to be swallowed (issue 8) reach the caller.
struct FailureReportingTests {
    @Test func threadThatCannotBeMadeThrowsAndNeverRunsItsBody() {
        let ran = Atomic<Bool>(false)
        // A 64 TiB stack cannot be mapped: pthread_create fails (EAGAIN or ENOMEM).
        #expect(throws: OSError.self) {
            try DetachedThread.start(stackSize: 1 << 46) { ran.store(true, ordering: .relaxed) }
        }
        do {
            try DetachedThread.start(stackSize: 1 << 46) {}
        } catch {
            #expect(error.stage == "pthread_create")
            #expect(error.code == EAGAIN || error.code == ENOMEM)
        }
        let didRun = ran.load(ordering: .relaxed)
        #expect(!didRun)
    }

    @Test func awaitingWorkOnAThreadThatCannotBeMadeResumesWithTheError() async {
        await #expect(throws: OSError.self) {
            _ = try await DetachedThread.value(stackSize: 1 << 46) { 42 }
        }
        let value = try? await DetachedThread.value { 42 }
        #expect(value == 42)
    }

    @Test func reactorCannotWatchARegularFile() throws {
        let reactor = try Reactor(onFailure: { _ in })
        let fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        #expect(throws: OSError("epoll_ctl(add)", code: EPERM)) {
            try reactor.add(fd) { _ in }
        }
    }

    @Test func reactorLoopEndingIsReported() async throws {
        let failures = Mutex<[OSError]>([])
        let reactor = try Reactor(onFailure: { error in failures.withLock { $0.append(error) } })
        // epoll_wait fails (EINVAL) on its next call once its descriptor names something else:
        // /dev/null put in its place atomically (a plain close could let another test's epoll
        // instance take the number).
        let devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        #expect(dup2(devnull, reactor.epollFD) == reactor.epollFD)
        close(devnull)
        reactor.wake()
        for _ in 0..<500 where failures.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(failures.withLock { $0 } == [OSError("epoll_wait", code: EINVAL)])
    }
}
