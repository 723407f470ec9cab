import CPodShim
import Glibc
import Testing
@testable import PodOS

/// The cgroup v2 directory this test process runs in, if the machine has cgroup2 mounted.
private func ownUnifiedGroup() -> String? {
    guard let mounts = FileSystem.readString("/proc/self/mountinfo"),
          let line = mounts.split(separator: "\n").first(where: { $0.contains(" - cgroup2 ") }),
          let own = FileSystem.readString("/proc/self/cgroup")?.split(separator: "\n").first(where: { $0.hasPrefix("0::") })
    else { return nil }
    let mountPoint = String(line.split(separator: " ")[4])
    let path = mountPoint + String(own.dropFirst(3))
    return FileSystem.isDirectory(path) ? path : nil
}

private func link(_ path: String) -> String? {
    var buffer = [CChar](repeating: 0, count: 256)
    let n = readlink(path, &buffer, buffer.count - 1)
    return n > 0 ? String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
}

/// A monitor's spawn (`ProcessControl.spawn(inCgroup:)`, clone3 into a cgroup): the child
/// gets podd's fd 3 and nothing else, however many fds podd holds.
struct ProcessSpawnTests {
    @Test(.enabled(if: ownUnifiedGroup() != nil, "needs a cgroup2 hierarchy"))
    func aSpawnIntoACgroupGetsFd3AndNothingElse() throws {
        let group = try #require(ownUnifiedGroup())
        // Descriptors of podd's that are not close-on-exec (as an fd another thread has
        // just opened may be): none may reach the child.
        var extra: [Int32] = []
        for _ in 0..<64 { extra.append(open("/dev/null", O_RDONLY)) }
        defer { extra.forEach { close($0) } }
        var pipe: [Int32] = [0, 0]
        #expect(pod_pipe_cloexec(&pipe) == 0)
        defer { close(pipe[0]) }
        let pid = try ProcessControl.spawn("/bin/sleep", arguments: ["30"], environment: ["PATH=/usr/bin:/bin"],
                                           fd3: pipe[1], inCgroup: group)
        close(pipe[1])
        defer {
            kill(pid, SIGKILL)
            _ = ProcessControl.wait(pid)
        }
        // Once it runs sleep, what it holds is what the exec left it.
        for _ in 0..<500 where link("/proc/\(pid)/exe")?.hasSuffix("/sleep") != true { usleep(2_000) }
        #expect(link("/proc/\(pid)/exe")?.hasSuffix("/sleep") == true)
        let fds = FileSystem.listDirectory("/proc/\(pid)/fd").compactMap { Int($0) }.sorted()
        // Its fd 3 is the pipe the spawn was given.
        #expect(link("/proc/\(pid)/fd/3") != nil)
        #expect(link("/proc/\(pid)/fd/3") == link("/proc/self/fd/\(pipe[0])"))
        #expect(fds == [0, 1, 2, 3])
    }
}
