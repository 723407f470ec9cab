import Glibc
import Testing
@testable import PodRuntime

/// What podd keeps of the programs monitors offer: only a cgroup device program, the first.
struct DeviceAllowlistProgramTests {
    @Test func anythingButADeviceProgramIsClosedNotKept() throws {
        var ends: [Int32] = [-1, -1]
        try #require(pipe(&ends) == 0)
        defer { close(ends[1]) }
        let keeper = DeviceAllowlistProgram()
        #expect(!DeviceAllowlistProgram.isDeviceProgram(ends[0]))
        keeper.offer([ends[0]])
        #expect(keeper.fd == nil)
        // Closed: no descriptor of a refused offer stays open in podd.
        #expect(fcntl(ends[0], F_GETFD) == -1 && errno == EBADF)
    }

    @Test func nothingOfferedKeepsNothing() {
        let keeper = DeviceAllowlistProgram()
        keeper.offer([])
        #expect(keeper.fd == nil)
    }
}
