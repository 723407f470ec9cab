import Glibc
import Testing
@testable import PodOS

/// The scrape's control file reader: numbers and "key value" fields read straight from the
/// bytes, relative to a group's directory, files larger than its buffer included.
struct CgroupStatReaderTests {
    func scratch() throws -> String {
        var template = Array("/tmp/podd-cg-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer in buffer.baseAddress.flatMap { mkdtemp($0) } }
        #expect(made != nil)
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    @Test func readsIntegersAndFieldsAsTheKernelWritesThem() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.makeDirectories(dir + "/app")
        try FileSystem.write(dir + "/memory.current", Array("123456\n".utf8))
        try FileSystem.write(dir + "/app/memory.stat", Array("cache 5\ninactive_file_x 7\ninactive_file 4096\nactive 2\n".utf8))
        try FileSystem.write(dir + "/app/memory.oom_control", Array("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n".utf8))
        try FileSystem.write(dir + "/app/cpuacct.usage", Array("-12\n".utf8))
        let reader = CgroupStatReader(capacity: 16, maxOpenFiles: 100)
        #expect(reader.integer("memory.current", in: dir, pod: "p") == 123_456)
        #expect(reader.field("app/memory.stat", in: dir, pod: "p", "inactive_file") == 4096)
        #expect(reader.field("app/memory.stat", in: dir, pod: "p", "active") == 2)
        #expect(reader.field("app/memory.stat", in: dir, pod: "p", "missing") == nil)
        // Several keys of one file, read once.
        #expect(reader.fields("app/memory.stat", in: dir, pod: "p", ["active", "missing", "cache"]) == [2, nil, 5])
        #expect(reader.fields("app/memory.nothing", in: dir, pod: "p", ["active"]) == nil)
        #expect(reader.field("app/memory.oom_control", in: dir, pod: "p", "oom_kill") == 3)
        #expect(reader.integer("app/cpuacct.usage", in: dir, pod: "p") == -12)
        #expect(reader.integer("app/nothing", in: dir, pod: "p") == nil)
        #expect(reader.integer("memory.current", in: dir + "/gone", pod: "p") == nil)
        // Files stay open between reads, and show what the file holds now.
        #expect(reader.openFiles == 4)
        try FileSystem.write(dir + "/memory.current", Array("7\n".utf8))
        #expect(reader.integer("memory.current", in: dir, pod: "p") == 7)
        // A file that was missing is taken as missing for a while (no lookup per scrape).
        try FileSystem.write(dir + "/app/nothing", Array("1\n".utf8))
        #expect(reader.integer("app/nothing", in: dir, pod: "p") == nil)
        reader.forget(keeping: ["other"])
        #expect(reader.openFiles == 0)
        #expect(reader.integer("app/nothing", in: dir, pod: "p") == 1)
    }

    @Test func aReaderWithoutRoomKeepsNoFileOpen() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.write(dir + "/memory.current", Array("1\n".utf8))
        let unkept = CgroupStatReader(maxOpenFiles: 0)
        #expect(unkept.integer("memory.current", in: dir, pod: "p") == 1)
        #expect(unkept.openFiles == 0)
    }

    @Test func aFileLargerThanTheBufferIsReadWhole() throws {
        let dir = try scratch()
        defer { try? FileSystem.removeTree(dir) }
        let lines = (0..<500).map { "key_\($0) \($0 * 3)\n" }.joined()
        try FileSystem.write(dir + "/memory.stat", Array(lines.utf8))
        let reader = CgroupStatReader(capacity: 64, maxOpenFiles: 100)
        #expect(reader.field("memory.stat", in: dir, pod: "p", "key_499") == 1497)
        #expect(reader.field("memory.stat", in: dir, pod: "p", "key_0") == 0)
    }
}
