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

    /// Best effort, no fsync: the status is a cache of what the monitor knows.
    ///
    /// Written over the file in place rather than to a temporary file renamed over it: a
    /// rename makes a new inode and frees the old one at every status change (several per
    /// container start), and on ext4 without a journal every inode freed in the last minute
    /// or more makes each later allocation in its group slower (`recently_deleted`). The whole
    /// text goes in one pwrite, padded with spaces (whitespace JSON ignores) to the file's
    /// length; a kill stops a write to a regular file only between pages, so a status of one
    /// page (nearly all) is the old one or the new one, never a mix, and a torn longer one
    /// reads as no checkpoint, rebuilt from the monitor like a lost one. A status longer
    /// than the file is written anew and renamed over it, padded to whole blocks so that the
    /// file seldom grows again (and so that a write over it never needs a new block: a full
    /// disk cannot cut it short).
    public func saveStatus(uid: String, _ status: JSONValue) {
        let path = directory(uid: uid) + "/status.json"
        var bytes = status.serialized()
        let fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW)
        if fd >= 0 {
            var st = stat()
            if fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG, bytes.count <= Int(st.st_size) {
                bytes += repeatElement(UInt8(ascii: " "), count: Int(st.st_size) - bytes.count)
                let written = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
                close(fd)
                if written == bytes.count { return }
                // Cut short all the same: the file is rewritten whole below.
            } else {
                close(fd)
            }
        }
        let block = 4096
        let padded = (bytes.count + block - 1) / block * block
        bytes += repeatElement(UInt8(ascii: " "), count: padded - bytes.count)
        let tmp = path + ".tmp"
        guard let f = fopen(tmp, "we") else { return }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
        if fclose(f) == 0 && written == bytes.count {
            rename(tmp, path)
        } else {
            unlink(tmp)
        }
    }

    /// The uids of the stored pods, sorted.
    public func storedUIDs() -> [String] { FileSystem.listDirectory(root) }

    /// One stored pod, or why it is unreadable (returned so that podd reports it, never
    /// silently dropped); nil when there is none to load.
    public func load(uid: String) -> Result<Pod, RuntimeError>? {
        let path = directory(uid: uid) + "/pod.json"
        // A write that did not finish (podd killed, a full disk) leaves its temporary file.
        unlink(path + ".tmp")
        guard FileSystem.exists(path) else {
            // No pod.json: a pod whose first write never completed, so never acknowledged
            // (the API answers after the rename), or one whose removal was cut short.
            try? remove(uid: uid)
            return nil
        }
        do {
            return .success(try PodManifest.decodePod(try JSONValue.parse(try FileSystem.read(path))))
        } catch {
            return .failure(RuntimeError.internalError("stored pod \(path) is unreadable: \(error)"))
        }
    }

    /// Every stored pod, in uid order, read and decoded on `parts` threads at once: with a
    /// thousand pods the files' JSON is most of what a restarted podd does before its
    /// controllers can start re-adopting them.
    public func loadAll(parts: Int) async -> [(uid: String, result: Result<Pod, RuntimeError>)] {
        let uids = storedUIDs()
        let parts = max(1, min(parts, uids.count))
        let loaded = await withTaskGroup(of: [(Int, Result<Pod, RuntimeError>)].self) { group in
            for part in 0..<parts {
                group.addTask {
                    stride(from: part, to: uids.count, by: parts).compactMap { i in load(uid: uids[i]).map { (i, $0) } }
                }
            }
            var all: [(Int, Result<Pod, RuntimeError>)] = []
            for await some in group { all += some }
            return all
        }
        return loaded.sorted { $0.0 < $1.0 }.map { (uids[$0.0], $0.1) }
    }

    /// A pod's status checkpoint, nil when it has none (or an unreadable one: the monitor
    /// tells the rest).
    public func loadStatus(uid: String) -> JSONValue? {
        (try? FileSystem.read(directory(uid: uid) + "/status.json")).flatMap { try? JSONValue.parse($0) }
    }

    /// The pod conditions controllers set through its status (`PATCH .../status`), kept as
    /// the API server keeps them: written before the API answers, read back at a restart.
    public func saveConditions(uid: String, _ conditions: [PodCondition]) throws(OSError) {
        let path = directory(uid: uid) + "/conditions.json"
        if conditions.isEmpty {
            if unlink(path) != 0 && errno != ENOENT { throw OSError.last("unlink(\(path))") }
            return
        }
        try FileSystem.writeAtomically(path, JSONValue.array(conditions.map(\.json)).serialized())
    }

    /// The conditions `saveConditions` stored; empty when none (or unreadable).
    public func loadConditions(uid: String) -> [PodCondition] {
        guard let bytes = try? FileSystem.read(directory(uid: uid) + "/conditions.json"), let json = try? JSONValue.parse(bytes),
              let list = json.arrayValue else { return [] }
        return list.compactMap { try? PodCondition(json: $0) }
    }

    public func remove(uid: String) throws(OSError) {
        try FileSystem.removeTree(directory(uid: uid))
        try? FileSystem.syncDirectory(of: directory(uid: uid))
    }
}
