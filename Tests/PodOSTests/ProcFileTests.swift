import Glibc
import Testing
@testable import PodOS

/// Reading /proc and small files: what re-adoption does for every monitor and container.
struct ProcFileTests {
    /// Field 22 of /proc/PID/stat, split the plain way, to check the byte parser against.
    func startTimeBySplitting(_ pid: pid_t) -> UInt64? {
        guard let text = FileSystem.readString("/proc/\(pid)/stat"), let close = text.lastIndex(of: ")") else { return nil }
        let rest = text[text.index(after: close)...].split(separator: " ")
        return rest.count > 19 ? UInt64(rest[19]) : nil
    }

    @Test func startTimeIsField22ForThisProcessAndItsParent() {
        for pid in [getpid(), getppid(), 1] {
            let parsed = ProcessControl.startTime(of: pid)
            #expect(parsed != nil)
            #expect(parsed == startTimeBySplitting(pid))
        }
        #expect(ProcessControl.startTime(of: 0x7fff_fff0) == nil)
    }

    @Test func readReturnsWholeFilesOfEverySizeAroundItsSteps() throws {
        var template = Array("/tmp/podd-read-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { $0.baseAddress.map { mkstemp($0) } ?? -1 }
        #expect(fd >= 0)
        close(fd)
        let path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        defer { unlink(path) }
        for size in [0, 1, 4095, 4096, 4097, 12_288, 12_289, 300_000] {
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
            try FileSystem.write(path, bytes)
            #expect(try FileSystem.read(path) == bytes, "size \(size)")
            #expect(try FileSystem.read(path, limit: 5000) == Array(bytes.prefix(5000)), "size \(size), limit 5000")
        }
        // A /proc file (size 0 on stat) is read whole too.
        let status = try FileSystem.read("/proc/self/status")
        #expect(String(decoding: status, as: UTF8.self).contains("VmRSS:"))
    }
}
