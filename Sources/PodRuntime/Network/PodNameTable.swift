import Glibc
import PodNetwork
import PodOS
import Synchronization

/// The pods of this podd by name and address, kept in every networked pod's /etc/hosts so
/// that pods reach each other by name (`db`, or `db.NAMESPACE`), as podman's default network
/// resolves container names. A change is written to every pod's file shortly after (changes
/// close together are written once).
///
/// The file is bind-mounted into the pod's containers, so it is rewritten in place (a
/// rename would leave the containers with the old inode), in one write, and never made
/// shorter: a shorter text is padded with newlines (blank lines mean nothing in a hosts
/// file), so that a reader sees the whole old or the whole new table, not a cut one.
public final class PodNameTable: Sendable {
    struct Entry: Sendable {
        var file: HostsFile
        var path: String
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let flushPending = Mutex<Bool>(false)

    public init() {}

    /// The pods other than `uid`, as peers of a hosts file.
    func peers(except uid: String) -> [HostsFile.Peer] {
        entries.withLock { all in
            all.filter { $0.key != uid }.compactMap { _, e in
                e.file.podIPs.first.map { HostsFile.Peer(name: e.file.podName, namespace: e.file.namespace, ip: $0) }
            }
        }
    }

    /// Adds or updates a pod (its hosts file without peers, and where it lives); writes the
    /// pod's own file now, with the current peers, and the others' soon.
    func set(uid: String, file: HostsFile, path: String) {
        var mine = file
        mine.peers = peers(except: uid)
        Self.rewrite(path, mine.text)
        entries.withLock { $0[uid] = Entry(file: file, path: path) }
        scheduleFlush()
    }

    func remove(uid: String) {
        let removed = entries.withLock { $0.removeValue(forKey: uid) }
        if removed != nil { scheduleFlush() }
    }

    private func scheduleFlush() {
        let first = flushPending.withLock { pending in
            defer { pending = true }
            return !pending
        }
        guard first else { return }
        Task.detached { [self] in
            try? await Task.sleep(for: .milliseconds(20))
            flushPending.withLock { $0 = false }
            flush()
        }
    }

    private func flush() {
        let all = entries.withLock { $0 }
        for (uid, entry) in all {
            var file = entry.file
            file.peers = all.filter { $0.key != uid }.compactMap { _, e in
                e.file.podIPs.first.map { HostsFile.Peer(name: e.file.podName, namespace: e.file.namespace, ip: $0) }
            }
            Self.rewrite(entry.path, file.text)
        }
    }

    /// Writes `text` over the file in place, padded to its old length. Never creates it: a
    /// pod's file exists from its sandbox on, and one gone goes with its pod (a late write
    /// must not put a file back into a directory being removed).
    static func rewrite(_ path: String, _ text: String) {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        var bytes = Array(text.utf8)
        let old = Int(st.st_size)
        // Padding beyond a page would only grow: start afresh (one truncation) then.
        if old > bytes.count && old - bytes.count < 4096 {
            bytes += [UInt8](repeating: UInt8(ascii: "\n"), count: old - bytes.count)
        } else if old > bytes.count {
            ftruncate(fd, off_t(bytes.count))
        }
        _ = bytes.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
    }
}
