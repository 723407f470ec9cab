import Glibc
import Testing

@testable import PodModel
@testable import PodOS
@testable import PodRuntime

/// The pod store on real files: status.json is written over in place (one inode for the
/// pod's life, padded with spaces) and always reads back as the last status saved.
@Suite final class PodStoreTests {
    let store: PodStore
    let root: String
    let uid = "0b8e6a57-2f1c-4a8e-9d3b-6f0f1b2c3d4e"

    init() throws {
        var template = Array("/tmp/podd-store-XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, let result = mkdtemp(base) else { return nil }
            return String(cString: result)
        }
        root = try #require(made)
        store = try PodStore(root: root)
        let manifest = """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "default", "uid": "\(uid)"},
             "spec": {"containers": [{"name": "a", "image": "busybox"}]}}
            """
        try store.save(try PodManifest.decodePod(try JSONValue.parse(Array(manifest.utf8))))
    }

    deinit { try? FileSystem.removeTree(root) }

    var statusPath: String { store.directory(uid: uid) + "/status.json" }

    func fileStat() throws -> stat {
        var st = stat()
        try #require(stat(statusPath, &st) == 0)
        return st
    }

    func loadedStatus() throws -> JSONValue? {
        let loaded = store.loadAll()
        try #require(loaded.count == 1)
        return try loaded[0].result.get().1
    }

    @Test func aShorterStatusIsWrittenOverTheSameFile() throws {
        let long: JSONValue = ["phase": "Pending", "message": .string(String(repeating: "x", count: 3000))]
        store.saveStatus(uid: uid, long)
        let first = try fileStat()
        #expect(first.st_size == 4096)
        #expect(try loadedStatus() == long)

        let short: JSONValue = ["phase": "Running"]
        store.saveStatus(uid: uid, short)
        let second = try fileStat()
        #expect(second.st_ino == first.st_ino)
        #expect(second.st_size == 4096)
        #expect(try loadedStatus() == short)
        #expect(!FileSystem.exists(statusPath + ".tmp"))
    }

    @Test func aLongerStatusReplacesTheFileWithRoomToSpare() throws {
        store.saveStatus(uid: uid, ["phase": "Pending"])
        let first = try fileStat()
        let long: JSONValue = ["phase": "Running", "message": .string(String(repeating: "y", count: 5000))]
        store.saveStatus(uid: uid, long)
        let second = try fileStat()
        #expect(second.st_ino != first.st_ino)
        #expect(second.st_size == 8192)
        #expect(try loadedStatus() == long)
    }
}
