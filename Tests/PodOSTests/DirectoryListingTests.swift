import Glibc
import Testing
@testable import PodOS

/// listSubdirectories: what the cgroup walks (processes, removal) recurse into.
struct DirectoryListingTests {
    static func temporaryDirectory() throws -> String {
        var template = Array("/tmp/podd-ls-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        try #require(made != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func listsDirectoriesOnlyNeitherFilesNorSymlinks() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.makeDirectories(dir + "/a/inner")
        try FileSystem.makeDirectories(dir + "/b")
        try FileSystem.write(dir + "/file", Array("x".utf8))
        #expect(symlink(dir + "/a", dir + "/link") == 0)
        #expect(FileSystem.listSubdirectories(dir).sorted() == ["a", "b"])
        #expect(FileSystem.listSubdirectories(dir + "/b").isEmpty)
        #expect(FileSystem.listSubdirectories(dir + "/missing").isEmpty)
    }

    @Test func cgroupControlFilesAreNotDirectories() throws {
        // kernfs gives d_type: a cgroup's control files are left out without a stat each.
        let root = "/sys/fs/cgroup/unified"
        guard FileSystem.isDirectory(root) || FileSystem.isDirectory("/sys/fs/cgroup") else { return }
        let base = FileSystem.isDirectory(root) ? root : "/sys/fs/cgroup"
        let expected = FileSystem.listDirectory(base).filter { FileSystem.isDirectory(base + "/" + $0) }
        #expect(FileSystem.listSubdirectories(base).sorted() == expected.sorted())
    }

    @Test func removeContentsEmptiesADirectoryAndKeepsIt() throws {
        let dir = try Self.temporaryDirectory()
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.makeDirectories(dir + "/kept/a/inner")
        try FileSystem.makeDirectories(dir + "/outside")
        try FileSystem.write(dir + "/kept/file", Array("x".utf8))
        try FileSystem.write(dir + "/outside/target", Array("y".utf8))
        // A symlink is removed, never followed.
        #expect(symlink(dir + "/outside", dir + "/kept/link") == 0)
        try FileSystem.removeContents(dir + "/kept")
        #expect(FileSystem.isDirectory(dir + "/kept"))
        #expect(FileSystem.listDirectory(dir + "/kept").isEmpty)
        #expect(FileSystem.exists(dir + "/outside/target"))
        try FileSystem.removeContents(dir + "/missing")
        #expect(throws: OSError.self) { try FileSystem.removeContents(dir + "/outside/target") }
    }
}
