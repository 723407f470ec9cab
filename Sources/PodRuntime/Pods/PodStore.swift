import Glibc
import PodModel
import PodOS

/// Desired state on disk: `STATE/pods/UID/pod.json` (metadata and spec, written with
/// write-fsync-rename-fsync before the API answers, so an accepted pod survives any crash),
/// and `status.json` beside it, a checkpoint of restart counts and last states (written
/// without fsync: it is rebuilt from the monitor when lost).
public struct PodStore: Sendable {
    public let root: String

    public init(root: String) throws(OSError) {
        self.root = root
        try FileSystem.makeDirectories(root, mode: 0o700)
    }

    public func directory(uid: String) -> String { root + "/" + uid }

    public func save(_ pod: Pod) throws(OSError) {
        guard let uid = pod.metadata.uid else { return }
        let dir = directory(uid: uid)
        try FileSystem.makeDirectories(dir, mode: 0o700)
        var stored = pod
        stored.status = PodStatus()
        try FileSystem.writeAtomically(dir + "/pod.json", stored.json.serialized(pretty: true))
    }

    public func saveStatus(uid: String, _ status: JSONValue) {
        let path = directory(uid: uid) + "/status.json"
        // Best effort, no fsync: the status is a cache of what the monitor knows.
        let bytes = status.serialized()
        let tmp = path + ".tmp"
        guard let f = fopen(tmp, "we") else { return }
        _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        rename(tmp, path)
    }

    /// Every stored pod, with its checkpointed status when there is one. Unreadable entries
    /// are returned as errors so podd can report them, never silently dropped.
    public func loadAll() -> [(uid: String, result: Result<(Pod, JSONValue?), RuntimeError>)] {
        var out: [(String, Result<(Pod, JSONValue?), RuntimeError>)] = []
        for uid in FileSystem.listDirectory(root) {
            let path = directory(uid: uid) + "/pod.json"
            // A write that did not finish (podd killed, a full disk) leaves its temporary file.
            unlink(path + ".tmp")
            guard FileSystem.exists(path) else {
                // No pod.json: a pod whose first write never completed, so never acknowledged
                // (the API answers after the rename), or one whose removal was cut short.
                try? remove(uid: uid)
                continue
            }
            do {
                let json = try JSONValue.parse(try FileSystem.read(path))
                let pod = try PodManifest.decodePod(json)
                let status = (try? FileSystem.read(directory(uid: uid) + "/status.json")).flatMap { try? JSONValue.parse($0) }
                out.append((uid, .success((pod, status))))
            } catch {
                out.append((uid, .failure(RuntimeError.internalError("stored pod \(path) is unreadable: \(error)"))))
            }
        }
        return out
    }

    public func remove(uid: String) throws(OSError) {
        try FileSystem.removeTree(directory(uid: uid))
        try? FileSystem.syncDirectory(of: directory(uid: uid))
    }
}
