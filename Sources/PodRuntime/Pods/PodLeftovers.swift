import Glibc
import PodOS

/// What pods podd no longer has left on the machine, found and removed at podd's start
/// (after recovery, before the API serves): a create cut short by podd's death after the
/// pod's sandbox was begun but before its desired state was stored (never acknowledged, so
/// never a pod), or a teardown cut short after the stored state went. Such a pod's run
/// directory, log directory, cgroups and monitor have no owner any more: nothing else would
/// ever remove them. (Saved CNI attachments have their own sweep: Daemon+Network.)
public struct PodLeftovers: Sendable {
    public let runDir: String
    public let stateDir: String
    public let cgroups: CgroupHierarchy?

    public init(runDir: String, stateDir: String, cgroups: CgroupHierarchy?) {
        self.runDir = runDir
        self.stateDir = stateDir
        self.cgroups = cgroups
    }

    /// A pod's leftovers: its uid and where they are.
    public struct Found: Sendable, Equatable {
        public var uid: String
        public var runDirectory: String?
        public var logDirectories: [String] = []
        public var hasCgroup = false
    }

    /// The leftovers of pods whose uid is not in `known`. Only names shaped as podd's uids
    /// count: anything else in those directories is not podd's to remove.
    public func find(known: Set<String>) -> [Found] {
        var found: [String: Found] = [:]
        for uid in FileSystem.listDirectory(runDir + "/pods") where Self.isUID(uid) && !known.contains(uid) {
            found[uid, default: Found(uid: uid)].runDirectory = runDir + "/pods/" + uid
        }
        // Log directories are NAMESPACE_NAME_UID (names hold no underscore: DNS labels).
        for entry in FileSystem.listDirectory(stateDir + "/logs") {
            guard let cut = entry.lastIndex(of: "_") else { continue }
            let uid = String(entry[entry.index(after: cut)...])
            guard Self.isUID(uid), !known.contains(uid) else { continue }
            found[uid, default: Found(uid: uid)].logDirectories.append(stateDir + "/logs/" + entry)
        }
        // A pod's groups count only beside its directories: podd's cgroup base may be shared
        // (several podds with the same cgroupParent, as the tests run them), and a group
        // alone does not say whose pod it is.
        if let cgroups {
            for uid in found.keys {
                let groups = [cgroups.podGroup(uid: uid)] + Array(cgroups.podGroupsV1(uid: uid).values)
                found[uid]?.hasCgroup = groups.contains(where: FileSystem.isDirectory)
            }
        }
        return found.values.sorted { $0.uid < $1.uid }
    }

    /// Kills what still runs of `leftover` (its cgroups' processes, its monitor) and removes
    /// its groups and directories. Returns the errors, as sentences.
    public func remove(_ leftover: Found) -> [String] {
        var errors: [String] = []
        if let dir = leftover.runDirectory, let pid = Self.monitorPID(runDirectory: dir) {
            kill(pid, SIGKILL)
        }
        if leftover.hasCgroup, let cgroups {
            do throws(OSError) { try cgroups.killAndRemovePod(uid: leftover.uid) } catch {
                errors.append("removing the cgroup of gone pod \(leftover.uid): \(error)")
            }
        }
        for dir in [leftover.runDirectory].compactMap({ $0 }) + leftover.logDirectories {
            do throws(OSError) { try FileSystem.removeTree(dir) } catch {
                errors.append("removing \(dir), left by gone pod \(leftover.uid): \(error)")
            }
        }
        return errors
    }

    /// The pid in the run directory's monitor.pid ("PID STARTTIME"), when that process is
    /// still the one that wrote it (its start time says so: a recorded pid may be reused).
    static func monitorPID(runDirectory: String) -> pid_t? {
        let fields = (FileSystem.readString(runDirectory + "/monitor.pid") ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard fields.count >= 2, let pid = pid_t(fields[0]), pid > 0, let start = UInt64(fields[1]),
              ProcessControl.startTime(of: pid) == start else { return nil }
        return pid
    }

    /// The shape of the uids podd gives pods (PodRegistry.newUID): 8-4-4-4-12 lowercase hex.
    static func isUID(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.map(\.count) == [8, 4, 4, 4, 12] else { return false }
        return parts.allSatisfy { $0.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) } }
    }
}
