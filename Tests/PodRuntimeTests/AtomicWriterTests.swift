import Glibc
import Testing

@testable import PodOS
@testable import PodRuntime

/// kubelet's atomic writer layout, on real files: a version directory, `..data` pointing at
/// it, user-visible links into `..data`, and updates that swap `..data` in one rename.
@Suite struct AtomicWriterTests {
    let root: String

    init() throws {
        var template = Array("/tmp/podd-atomic-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        root = try #require(made)
    }

    func link(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 512)
        let n = readlink(path, &buffer, buffer.count - 1)
        return n > 0 ? String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
    }

    func text(_ path: String) -> String? { (try? FileSystem.read(path)).map { String(decoding: $0, as: UTF8.self) } }

    func mode(_ path: String) -> Int32 {
        var st = stat()
        stat(path, &st)
        return Int32(st.st_mode & 0o7777)
    }

    @Test func layoutAndUpdate() throws {
        defer { try? FileSystem.removeTree(root) }
        let dir = root + "/vol"
        let writer = AtomicWriter(directory: dir)
        #expect(try writer.write(["a": .init(bytes: Array("one".utf8), mode: 0o644),
                                  "sub/b": .init(bytes: Array("bee".utf8), mode: 0o400)]))
        let first = try #require(writer.currentVersion())
        #expect(first.hasPrefix("..20"))
        #expect(link(dir + "/..data") == first)
        #expect(link(dir + "/a") == "..data/a")
        #expect(link(dir + "/sub") == "..data/sub")
        #expect(text(dir + "/a") == "one")
        #expect(text(dir + "/sub/b") == "bee")
        #expect(mode(dir + "/sub/b") == 0o400)

        // The same payload writes nothing.
        #expect(try !writer.write(["a": .init(bytes: Array("one".utf8), mode: 0o644),
                                   "sub/b": .init(bytes: Array("bee".utf8), mode: 0o400)]))
        #expect(writer.currentVersion() == first)

        // An update: a new version, the old one gone, a removed key's link gone, a new key's link made.
        #expect(try writer.write(["a": .init(bytes: Array("two".utf8), mode: 0o644), "c": .init(bytes: Array("see".utf8), mode: 0o600)]))
        let second = try #require(writer.currentVersion())
        #expect(second != first)
        #expect(!FileSystem.exists(dir + "/" + first))
        #expect(text(dir + "/a") == "two")
        #expect(text(dir + "/c") == "see")
        var st = stat()
        #expect(lstat(dir + "/sub", &st) != 0)
        #expect(FileSystem.listDirectory(dir).sorted() == ["..data", second, "a", "c"].sorted())

        // Empty: only ..data and its empty version remain.
        #expect(try writer.write([:]))
        #expect(FileSystem.listDirectory(dir).filter { !$0.hasPrefix("..") }.isEmpty)
    }
}
