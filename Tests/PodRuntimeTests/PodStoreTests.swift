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

    func loadedStatus() async throws -> JSONValue? {
        let loaded = await store.loadAll(parts: 1)
        try #require(loaded.count == 1)
        _ = try loaded[0].result.get()
        return store.loadStatus(uid: loaded[0].uid)
    }

    @Test func aShorterStatusIsWrittenOverTheSameFile() async throws {
        let long: JSONValue = ["phase": "Pending", "message": .string(String(repeating: "x", count: 3000))]
        store.saveStatus(uid: uid, long)
        let first = try fileStat()
        #expect(first.st_size == 4096)
        #expect(try await loadedStatus() == long)

        let short: JSONValue = ["phase": "Running"]
        store.saveStatus(uid: uid, short)
        let second = try fileStat()
        #expect(second.st_ino == first.st_ino)
        #expect(second.st_size == 4096)
        #expect(try await loadedStatus() == short)
        #expect(!FileSystem.exists(statusPath + ".tmp"))
    }

    @Test func aLongerStatusReplacesTheFileWithRoomToSpare() async throws {
        store.saveStatus(uid: uid, ["phase": "Pending"])
        let first = try fileStat()
        let long: JSONValue = ["phase": "Running", "message": .string(String(repeating: "y", count: 5000))]
        store.saveStatus(uid: uid, long)
        let second = try fileStat()
        #expect(second.st_ino != first.st_ino)
        #expect(second.st_size == 8192)
        #expect(try await loadedStatus() == long)
    }

    @Test func loadingOnSeveralThreadsGivesWhatOneGivesInUidOrder() async throws {
        for i in 0..<9 {
            let manifest = """
                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p\(i)", "namespace": "default", "uid": "u\(i)"},
                 "spec": {"containers": [{"name": "a", "image": "busybox"}]}}
                """
            try store.save(try PodManifest.decodePod(try JSONValue.parse(Array(manifest.utf8))))
        }
        // An unreadable one is reported in its place; a directory without pod.json is removed.
        try FileSystem.write(store.directory(uid: "u3") + "/pod.json", Array("{not json".utf8))
        try FileSystem.makeDirectories(store.directory(uid: "u5x"))
        let one = await store.loadAll(parts: 1).map { ($0.uid, (try? $0.result.get())?.metadata.name) }
        try FileSystem.makeDirectories(store.directory(uid: "u5x"))
        for parts in [2, 3, 16] {
            let many = await store.loadAll(parts: parts).map { ($0.uid, (try? $0.result.get())?.metadata.name) }
            #expect(many.map(\.0) == one.map(\.0), "parts \(parts)")
            #expect(many.map(\.1) == one.map(\.1), "parts \(parts)")
            #expect(!FileSystem.exists(store.directory(uid: "u5x")))
            try FileSystem.makeDirectories(store.directory(uid: "u5x"))
        }
        #expect(one.map(\.0) == [uid] + (0..<9).map { "u\($0)" })
        #expect(one.first { $0.0 == "u3" }?.1 == nil)
        #expect(one.first { $0.0 == "u4" }?.1 == "p4")
    }
}
