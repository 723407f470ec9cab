import Glibc
import PodModel

import Testing
@testable import PodOS
@testable import PodRuntime

/// Failures a user must hear of, provoked (issue 8).
struct SwallowedFailureTests {
    @Test func aMonitorThatCannotBeListenedToFailsTheSandbox() throws {
        let reactor = try Reactor(onFailure: { _ in })
        // epoll refuses a regular file (EPERM): the reactor cannot watch this "connection".
        let fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC)
        let sandbox = PodSandbox(uid: "u", runDirectory: "/nonexistent", monitorPID: 1, cgroup: nil,
                                 socket: SeqPacketSocket(adopting: fd), reactor: reactor)
        #expect(throws: OSError("epoll_ctl(add)", code: EPERM)) {
            try sandbox.listen { _ in }
        }
    }

    @Test func aPodGroupThatCannotBeMadeIsAnError() {
        // A cgroup "hierarchy" under a regular file: mkdir fails with ENOTDIR.
        let hierarchy = CgroupHierarchy(mountPoint: "/proc/self/stat", base: "/proc/self/stat/podd")
        #expect(throws: OSError.self) { _ = try hierarchy.createPodGroup(uid: "u") }
    }
}

/// The `logs:` and `cgroupParent` config keys.
struct LogRotationConfigTests {
    @Test func kubeletDefaults() throws {
        let c = try PoddConfig.parse("", source: "t")
        #expect(c.logs.containerLogMaxSize == 10 << 20 && c.logs.containerLogMaxFiles == 5)
        #expect(c.cgroupParent == "podd")
    }

    @Test func quantitiesAsKubernetesWritesThem() throws {
        for (text, bytes) in [("1Mi", Int64(1 << 20)), ("512Ki", 512 << 10), ("1G", 1_000_000_000), ("2048", 2048)] {
            let c = try PoddConfig.parse("logs: {containerLogMaxSize: \(text), containerLogMaxFiles: 3}", source: "t")
            #expect(c.logs.containerLogMaxSize == bytes)
            #expect(c.logs.containerLogMaxFiles == 3)
        }
    }

    @Test func badValuesAreNamed() {
        for (text, words) in [("logs: {containerLogMaxSize: lots}", "logs.containerLogMaxSize"),
                              ("logs: {containerLogMaxSize: 100}", "less than 1Ki"),
                              ("logs: {containerLogMaxFiles: 1}", "logs.containerLogMaxFiles"),
                              ("logs: {containerLogMaxFiles: x}", "logs.containerLogMaxFiles"),
                              ("logs: {other: 1}", "logs.other: unknown key"),
                              ("logs: 5", "expected a mapping"),
                              ("cgroupParent: /abs", "cgroupParent"),
                              ("cgroupParent: a/../b", "cgroupParent")] {
            do {
                _ = try PoddConfig.parse(text, source: "t")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.contains(words), "\(text): \(error)")
            }
        }
    }
}
