import Glibc

/// podd's cgroups, on the cgroup v2 (unified) hierarchy when the machine has one mounted,
/// whether alone (/sys/fs/cgroup) or beside v1 (/sys/fs/cgroup/unified). Each pod gets
/// `<root>/podd/<pod uid>` and each container a child group named after it, created by the
/// monitor. Used to find and kill every process of a pod (cgroup.kill) and to prove that none
/// is left. Without cgroup v2, pods still run; teardown then relies on the monitor alone.
public struct CgroupHierarchy: Sendable {
    /// The cgroup2 mount point.
    public let mountPoint: String
    /// The directory under which pod groups are made.
    public let base: String
    /// The controllers the pod groups have on v2 (CgroupControllers.swift).
    public var unifiedControllers: Set<String> = []
    /// Controllers v2 lacks, on their v1 hierarchies: controller to podd's base directory.
    public var v1: [String: String] = [:]

    public init(mountPoint: String, base: String) {
        self.mountPoint = mountPoint
        self.base = base
    }

    /// Finds the cgroup2 mount in /proc/self/mountinfo, and where each resource controller
    /// is (v2 first, else v1). Under a systemd service the base is inside the service's own
    /// group (its delegated subtree, Delegate=yes); elsewhere at the hierarchy's root.
    public static func detect(name: String = "podd") -> CgroupHierarchy? {
        guard let info = FileSystem.readString("/proc/self/mountinfo") else { return nil }
        for line in info.split(separator: "\n") {
            // Fields: id parent major:minor root mountpoint options ... - fstype source superopts
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 1 < parts.count, parts[dash + 1] == "cgroup2",
                  parts.count > 4 else { continue }
            let mountPoint = String(parts[4])
            guard access(mountPoint, W_OK) == 0 else { continue }
            let own = ownGroups()[""] ?? ""
            var hierarchy = CgroupHierarchy(mountPoint: mountPoint, base: mountPoint + (own.hasSuffix(".service") ? own : "") + "/" + name)
            hierarchy.unifiedControllers = enableV2(mountPoint: mountPoint, base: hierarchy.base)
            hierarchy.v1 = detectV1(name: name, missing: Set(wantedControllers).subtracting(hierarchy.unifiedControllers))
            return hierarchy
        }
        return nil
    }

    public func podGroup(uid: String) -> String { base + "/" + uid }

    public func createPodGroup(uid: String) throws(OSError) -> String {
        try FileSystem.makeDirectories(base)
        let path = podGroup(uid: uid)
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw OSError.last("mkdir(\(path))") }
        return path
    }

    /// The pids in a group and all its children.
    public static func processes(in group: String) -> [Int32] {
        var pids: [Int32] = []
        if let procs = FileSystem.readString(group + "/cgroup.procs") {
            pids += procs.split(separator: "\n").compactMap { Int32($0) }
        }
        for child in FileSystem.listSubdirectories(group) {
            pids += processes(in: group + "/" + child)
        }
        return pids
    }

    /// SIGKILLs every process in the group and its children (cgroup.kill, kernel 5.14+), or one
    /// by one where cgroup.kill is missing.
    public static func killAll(in group: String) {
        if FileSystem.exists(group + "/cgroup.kill") {
            let fd = open(group + "/cgroup.kill", O_WRONLY | O_CLOEXEC)
            if fd >= 0 {
                _ = write(fd, "1", 1)
                close(fd)
                return
            }
        }
        for pid in processes(in: group) { kill(pid, SIGKILL) }
    }

    /// SIGKILLs, one by one, the processes in the group and its children now: unlike
    /// cgroup.kill, it cannot reach a process that joins the group right after (a pod's
    /// next monitor, started at once when the last one died).
    public static func killEach(in group: String) {
        for pid in processes(in: group) { kill(pid, SIGKILL) }
    }

    /// Kills what is left in the group and its children, waiting (bounded, about a second)
    /// for them to empty, then removes them: the end of a pod's teardown, whether its monitor
    /// still ran or died before (then nothing else would ever remove the group).
    public static func killAndRemove(_ group: String) throws(OSError) {
        guard FileSystem.isDirectory(group) else { return }
        for _ in 0..<50 {
            if processes(in: group).isEmpty { break }
            killAll(in: group)
            usleep(20_000)
        }
        try remove(group)
    }

    /// Removes the group and its children, bottom up; a group still holding processes stays
    /// (EBUSY) and the error is returned.
    public static func remove(_ group: String) throws(OSError) {
        guard FileSystem.isDirectory(group) else { return }
        for child in FileSystem.listSubdirectories(group) {
            try remove(group + "/" + child)
        }
        if rmdir(group) != 0 && errno != ENOENT { throw OSError.last("rmdir(\(group))") }
    }
}
