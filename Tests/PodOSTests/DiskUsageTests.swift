import Glibc
import Testing
@testable import PodOS

/// The du-like walk kubelet's eviction needs: allocated blocks, no symlink followed, no
/// mount crossed, hard links counted once.
struct DiskUsageTests {
    /// A fresh directory under /tmp, removed by the caller.
    func scratch() throws -> String {
        var template = Array("/tmp/podd-du-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        #expect(made != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func write(_ path: String, bytes: Int) throws {
        try FileSystem.write(path, [UInt8](repeating: 0x61, count: bytes))
        // Blocks are allocated at write-back on some file systems: make them count now.
        let fd = open(path, O_RDONLY)
        if fd >= 0 { fsync(fd); close(fd) }
    }

    @Test func countsAllocatedBlocksOfEveryFileOnce() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        let empty = DiskUsage.bytes(under: dir)
        try FileSystem.makeDirectories(dir + "/a/b")
        try write(dir + "/a/b/big", bytes: 3 << 20)
        try write(dir + "/small", bytes: 10)
        let used = DiskUsage.bytes(under: dir)
        #expect(used >= empty + (3 << 20))
        #expect(used < empty + (3 << 20) + (1 << 20))
        // A hard link is the same blocks; a symlink to a big file outside counts as a link.
        #expect(link(dir + "/a/b/big", dir + "/again") == 0)
        let outside = try scratch()
        defer { try? FileSystem.removeTree(outside) }
        try write(outside + "/huge", bytes: 4 << 20)
        #expect(symlink(outside, dir + "/elsewhere") == 0)
        #expect(symlink(outside + "/huge", dir + "/huge") == 0)
        let after = DiskUsage.bytes(under: dir)
        #expect(after < used + (1 << 20))
    }

    @Test func aVeryDeepTreeIsWalkedToTheDepthLimitOnly() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        // 1,000 levels, each made relative to the one before.
        var fd = open(dir, O_RDONLY | O_DIRECTORY)
        try #require(fd >= 0)
        for _ in 0..<1000 {
            #expect(mkdirat(fd, "d", 0o755) == 0)
            let next = openat(fd, "d", O_RDONLY | O_DIRECTORY)
            close(fd)
            fd = next
            try #require(fd >= 0)
        }
        let big = openat(fd, "big", O_CREAT | O_WRONLY, 0o644)
        try #require(big >= 0)
        let chunk = [UInt8](repeating: 0x61, count: 8 << 20)
        #expect(chunk.withUnsafeBytes { Glibc.write(big, $0.baseAddress, $0.count) } == 8 << 20)
        close(big)
        close(fd)
        // What one directory takes on this file system (4 KiB on ext4, nothing on tmpfs).
        let empty = try scratch()
        defer { try? FileSystem.removeTree(empty) }
        let perDirectory = DiskUsage.bytes(under: empty)
        // The root and the levels down to the limit are counted; the file far below is not.
        #expect(DiskUsage.bytes(under: dir) == Int64(DiskUsage.maxDepth + 1) * perDirectory)
    }

    @Test func aSparseFileCountsWhatItTakesAndAMissingPathNothing() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        let fd = open(dir + "/sparse", O_CREAT | O_WRONLY, 0o644)
        try #require(fd >= 0)
        #expect(ftruncate(fd, 1 << 30) == 0)
        close(fd)
        #expect(DiskUsage.bytes(under: dir) < 1 << 20)
        #expect(DiskUsage.bytes(under: dir + "/nothing-here") == 0)
    }

    @Test(.enabled(if: getuid() == 0, "mounting a tmpfs needs root")) func aMountInsideIsNotEntered() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.makeDirectories(dir + "/mnt")
        try #require(mount("tmpfs", dir + "/mnt", "tmpfs", 0, "size=8m") == 0, "mount(tmpfs): errno \(errno)")
        defer { umount2(dir + "/mnt", Int32(MNT_DETACH)) }
        try write(dir + "/mnt/inside", bytes: 4 << 20)
        #expect(DiskUsage.bytes(under: dir) < 1 << 20)
        #expect(DiskUsage.bytes(under: dir + "/mnt") >= 4 << 20)
    }
}
