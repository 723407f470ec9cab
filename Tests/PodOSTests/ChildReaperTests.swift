import CPodShim
import Glibc
import Testing
@testable import PodOS

/// The orphan reaper (issue 9's zombies) with real children of the test process. Serialized:
/// the reaper is one per process, and which exited child the kernel names first depends on
/// the others.
@Suite(.serialized)
struct ChildReaperTests {
    let env = ["PATH=/usr/bin:/bin"]

    /// Whether `pid` is a child of this process that has exited and is not reaped yet.
    func isZombieChild(_ pid: pid_t) -> Bool {
        var info = siginfo_t()
        return waitid(P_PID, id_t(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info._sifields._sigchld.si_pid == pid
    }

    func waitUntilZombie(_ pid: pid_t) {
        for _ in 0..<500 where !isZombieChild(pid) { usleep(2_000) }
    }

    @Test func orphanReaperReapsUnclaimedChildrenOnly() throws {
        let claimed = try ProcessControl.spawn("/bin/true", arguments: [], environment: env)
        // An unclaimed child, as an orphan handed to podd is: a pid nobody waits for.
        let orphan = try ProcessControl.spawn("/bin/true", arguments: [], environment: env)
        ChildReaper.shared.release(orphan)
        var reaped: [pid_t] = []
        for _ in 0..<200 where !reaped.contains(orphan) {
            reaped += ChildReaper.shared.reapOrphans()
            usleep(10_000)
        }
        #expect(reaped.contains(orphan))
        #expect(!reaped.contains(claimed))
        // The claimed one is still there for its owner to wait for.
        #expect(ProcessControl.wait(claimed) == 0)
    }

    @Test func anOrphanBehindAClaimedChildIsReapedWhenTheOwnerReaps() throws {
        // The claimed child ends first, so the kernel names it first: the reaper must leave
        // it to its owner, and still not leave the orphan behind it a zombie.
        let claimed = try ProcessControl.spawn("/bin/true", arguments: [], environment: env)
        waitUntilZombie(claimed)
        let orphan = try ProcessControl.spawn("/bin/true", arguments: [], environment: env)
        ChildReaper.shared.release(orphan)
        waitUntilZombie(orphan)
        #expect(isZombieChild(claimed) && isZombieChild(orphan))

        let first = ChildReaper.shared.reapOrphans()
        #expect(!first.contains(claimed))
        #expect(isZombieChild(claimed), "the reaper took a claimed child's exit")
        // No SIGCHLD comes after the owner's reap; the reaper goes on by itself.
        #expect(ProcessControl.wait(claimed) == 0)
        for _ in 0..<500 where isZombieChild(orphan) { usleep(2_000) }
        #expect(!isZombieChild(orphan), "the orphan stayed a zombie after the claimed child was reaped")
    }
}
