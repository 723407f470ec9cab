import Glibc
import PodModel

/// The resource controllers podd uses (memory, cpu, cpuacct, pids, hugetlb) and where each
/// one lives on this machine: the cgroup v2 hierarchy when its pod groups can have it, else
/// that controller's v1 hierarchy (a hybrid machine, such as one with v1 controllers and an
/// empty cgroup2 mount beside them). Limits, usage and OOM kills are read and written here.
extension CgroupHierarchy {
    /// The controllers podd sets limits with or reads usage from.
    public static let wantedControllers = ["memory", "cpu", "pids", "hugetlb"]
    /// v1 controllers podd uses when v2 lacks them (cpuacct for cpu usage: v2 has cpu.stat).
    static let v1Controllers = ["memory", "cpu", "cpuacct", "pids", "hugetlb"]

    /// Finds the v1 hierarchies of the controllers the v2 pod groups lack, and makes podd's
    /// base group on each. Under a systemd service (Delegate=yes) the base is inside the
    /// service's own group of that hierarchy, as on v2.
    static func detectV1(name: String, missing: Set<String>) -> [String: String] {
        guard let info = FileSystem.readString("/proc/self/mountinfo") else { return [:] }
        let own = ownGroups()
        var result: [String: String] = [:]
        for line in info.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard let dash = parts.firstIndex(of: "-"), dash + 3 < parts.count, parts[dash + 1] == "cgroup", parts.count > 4 else { continue }
            let mountPoint = String(parts[4])
            let options = parts[dash + 3].split(separator: ",").map(String.init)
            for controller in v1Controllers where options.contains(controller) && result[controller] == nil {
                guard missing.contains(controller) || (controller == "cpuacct" && missing.contains("cpu")) else { continue }
                guard access(mountPoint, W_OK) == 0 else { continue }
                let parent = own[controller].flatMap { $0.hasSuffix(".service") ? $0 : nil } ?? ""
                let base = mountPoint + parent + "/" + name
                guard (try? FileSystem.makeDirectories(base)) != nil else { continue }
                result[controller] = base
            }
        }
        return result
    }

    /// podd's own group on each hierarchy, from /proc/self/cgroup ("" is v2's, "0::PATH").
    static func ownGroups() -> [String: String] {
        var groups: [String: String] = [:]
        for line in (FileSystem.readString("/proc/self/cgroup") ?? "").split(separator: "\n") {
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3 else { continue }
            let path = fields[2] == "/" ? "" : String(fields[2])
            if fields[1].isEmpty { groups[""] = path }
            for controller in fields[1].split(separator: ",") { groups[String(controller)] = path }
        }
        return groups
    }

    /// Enables `wanted` controllers from the first group below the v2 root down to `base`,
    /// where the root already delegates them (podd never changes the root's own settings).
    /// A group holding podd itself (its systemd service) cannot give controllers to its
    /// children while it has processes: podd moves itself into a `daemon` leaf first.
    /// Returns the controllers `base`'s children (the pod groups) have.
    static func enableV2(mountPoint: String, base: String) -> Set<String> {
        let rootOffers = Set(words(FileSystem.readString(mountPoint + "/cgroup.subtree_control")))
        var usable = Set(wantedControllers).intersection(rootOffers)
        guard !usable.isEmpty, base.hasPrefix(mountPoint + "/") else { return [] }
        var dir = mountPoint
        for component in base.dropFirst(mountPoint.count + 1).split(separator: "/") {
            dir += "/" + component
            if !FileSystem.isDirectory(dir) { _ = mkdir(dir, 0o755) }
            usable.formIntersection(words(FileSystem.readString(dir + "/cgroup.controllers")))
            let line = usable.sorted().map { "+" + $0 }.joined(separator: " ")
            guard !line.isEmpty else { return [] }
            if writeControl(line, to: dir + "/cgroup.subtree_control") != 0 && errno == EBUSY {
                // Processes here (podd in its service's group): move them into a leaf.
                let leaf = dir + "/daemon"
                _ = mkdir(leaf, 0o755)
                for pid in (FileSystem.readString(dir + "/cgroup.procs") ?? "").split(separator: "\n") {
                    _ = writeControl(String(pid), to: leaf + "/cgroup.procs")
                }
                _ = writeControl(line, to: dir + "/cgroup.subtree_control")
            }
            usable.formIntersection(words(FileSystem.readString(dir + "/cgroup.subtree_control")))
        }
        return usable
    }

    private static func words(_ text: String?) -> Set<String> {
        Set((text ?? "").split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
    }

    /// Writes `value` to a control file; 0, or -1 with errno set.
    @discardableResult
    public static func writeControl(_ value: String, to path: String) -> Int32 {
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        let n = value.withCString { Glibc.write(fd, $0, strlen($0)) }
        let saved = errno
        close(fd)
        errno = saved
        return n < 0 ? -1 : 0
    }

    // MARK: Pod and container groups

    /// The pod's groups on the v1 hierarchies (controller to directory).
    public func podGroupsV1(uid: String) -> [String: String] {
        v1.mapValues { $0 + "/" + uid }
    }

    /// Whether the pod's containers can have limits of their own on v2 (memory or cpu given
    /// to pod groups' children): the monitor then lives in a leaf of the pod group, since a
    /// v2 group that gives controllers to its children may hold no process itself.
    public var containerLimitsOnV2: Bool { !unifiedControllers.isDisjoint(with: ["memory", "cpu"]) }

    /// The leaf of the pod group the monitor runs in when `containerLimitsOnV2`.
    public static let monitorLeaf = "_monitor"

    /// Makes the pod's v1 groups and sets the pod-level limits on v2 and v1. Returns the v1
    /// directories the pod's containers join (the monitor stays out of them: see
    /// cgroup.h), and what could not be set (the pod runs anyway).
    public func preparePod(uid: String, group: String?, limits: CgroupLimits) -> (v1: [String], problems: [String]) {
        var problems: [String] = []
        var v1Dirs: [String] = []
        for (controller, dir) in podGroupsV1(uid: uid).sorted(by: { $0.key < $1.key }) {
            if mkdir(dir, 0o755) != 0 && errno != EEXIST {
                problems.append("mkdir \(dir): \(String(cString: strerror(errno)))")
                continue
            }
            if controller == "memory" { Self.writeControl("1", to: dir + "/memory.use_hierarchy") }
            v1Dirs.append(dir)
        }
        if let group, containerLimitsOnV2 {
            if mkdir(group + "/" + Self.monitorLeaf, 0o755) != 0 && errno != EEXIST {
                problems.append("mkdir \(group)/\(Self.monitorLeaf): \(String(cString: strerror(errno)))")
            }
            let line = unifiedControllers.intersection(["memory", "cpu", "pids", "hugetlb"]).sorted().map { "+" + $0 }.joined(separator: " ")
            if Self.writeControl(line, to: group + "/cgroup.subtree_control") != 0 {
                problems.append("enable \(line) in \(group): \(String(cString: strerror(errno)))")
            }
        }
        problems += apply(limits, v2: group, v1: podGroupsV1(uid: uid))
        return (v1Dirs, problems)
    }

    /// Makes a container's v1 groups (where v1 holds a controller) with its limits, before
    /// the monitor starts it: the container joins the v1 ones that exist. Its v2 group is the
    /// monitor's to make (anew at every start: see `containerSettingsV2`). Nothing is made for
    /// a container without resources: it joins the pod's groups on v1.
    public func prepareContainer(uid: String, name: String, limits: CgroupLimits) -> [String] {
        guard !limits.isEmpty else { return [] }
        var v1Dirs: [String: String] = [:]
        for (controller, dir) in podGroupsV1(uid: uid) where controller != "pids" {
            let child = dir + "/" + name
            if mkdir(child, 0o755) == 0 || errno == EEXIST { v1Dirs[controller] = child }
        }
        return apply(limits, v2: nil, v1: v1Dirs)
    }

    /// The files of a container's v2 group and what to write in them for `limits`, for the
    /// monitor to write (spawn's `cgroup.set`): the monitor makes that group anew at every
    /// start (a group an earlier run was killed in kills whatever is cloned into it), so
    /// limits podd wrote there beforehand would be lost. Empty when v2 holds none of the
    /// controllers.
    public func containerSettingsV2(_ limits: CgroupLimits) -> [(file: String, value: String)] {
        guard containerLimitsOnV2 else { return [] }
        return Self.v2Settings(limits, controllers: unifiedControllers)
    }

    /// `limits` as v2 control files, for the controllers given.
    static func v2Settings(_ limits: CgroupLimits, controllers: Set<String>) -> [(file: String, value: String)] {
        var out: [(file: String, value: String)] = []
        if let memory = limits.memoryBytes, controllers.contains("memory") {
            out.append(("memory.max", String(memory)))
            // No swap, as kubelet's default (NoSwap): the limit is the limit.
            out.append(("memory.swap.max", "0"))
        }
        if limits.cpuQuotaMicros != nil, controllers.contains("cpu") { out.append(("cpu.max", limits.cpuMax)) }
        if let shares = limits.cpuShares, controllers.contains("cpu") {
            out.append(("cpu.weight", String(CgroupLimits.weight(shares: shares))))
        }
        if let pids = limits.pidsMax, controllers.contains("pids") { out.append(("pids.max", String(pids))) }
        if controllers.contains("hugetlb") {
            for page in limits.hugepages {
                out.append(("hugetlb.\(CgroupLimits.hugetlbSizeName(page.pageSize)).max", String(page.bytes)))
            }
        }
        return out
    }

    /// Writes `limits` into the groups given; returns what failed.
    func apply(_ limits: CgroupLimits, v2: String?, v1: [String: String]) -> [String] {
        var problems: [String] = []
        func set(_ dir: String?, _ file: String, _ value: String) {
            guard let dir else { return }
            if Self.writeControl(value, to: dir + "/" + file) != 0 {
                problems.append("\(dir)/\(file) = \(value): \(String(cString: strerror(errno)))")
            }
        }
        if let v2 {
            for (file, value) in Self.v2Settings(limits, controllers: unifiedControllers) { set(v2, file, value) }
        }
        if let memory = limits.memoryBytes {
            set(v1["memory"], "memory.limit_in_bytes", String(memory))
            if let dir = v1["memory"], FileSystem.exists(dir + "/memory.memsw.limit_in_bytes") {
                set(dir, "memory.memsw.limit_in_bytes", String(memory))
            }
        }
        if let quota = limits.cpuQuotaMicros {
            set(v1["cpu"], "cpu.cfs_period_us", String(CgroupLimits.cpuPeriodMicros))
            set(v1["cpu"], "cpu.cfs_quota_us", String(quota))
        }
        if let shares = limits.cpuShares {
            set(v1["cpu"], "cpu.shares", String(shares))
        }
        if let pids = limits.pidsMax {
            set(v1["pids"], "pids.max", String(pids))
        }
        // (A container's v2 group gets them from the monitor: containerSettingsV2.)
        let v2Hugetlb = unifiedControllers.contains("hugetlb") && (v2 != nil || containerLimitsOnV2)
        if !limits.hugepages.isEmpty && !v2Hugetlb && v1["hugetlb"] == nil {
            problems.append("no hugetlb controller podd can use (cgroup v2 root does not delegate it, no v1 hierarchy): hugepages limits do not apply")
        }
        for page in limits.hugepages {
            set(v1["hugetlb"], "hugetlb.\(CgroupLimits.hugetlbSizeName(page.pageSize)).limit_in_bytes", String(page.bytes))
        }
        return problems
    }

    /// Kills what is left in the pod's groups (v2 and v1) and removes them: the end of a
    /// pod's teardown, whichever path it takes.
    /// Returns what could not be released, for the log: a v1 memory group that still holds
    /// page cache once emptied stays in the kernel (dying) after its removal.
    @discardableResult
    public func killAndRemovePod(uid: String) throws(OSError) -> String? {
        try Self.killAndRemove(podGroup(uid: uid))
        var kept: String?
        for (controller, dir) in podGroupsV1(uid: uid) where FileSystem.isDirectory(dir) {
            for pid in Self.processes(in: dir) { kill(pid, SIGKILL) }
            for _ in 0..<50 where !Self.processes(in: dir).isEmpty { usleep(20_000) }
            if controller == "memory" { kept = Self.releaseMemoryCharges(dir) }
            try Self.remove(dir)
        }
        return kept
    }

    /// Has the kernel reclaim what is still charged to a v1 memory group and its children
    /// (`memory.force_empty`) before they are removed. Page cache a pod brought in (the
    /// directory and inode blocks of the files it read, image files it read first)
    /// stays charged to its group after the rmdir, which keeps the group in the kernel as
    /// a dying memory cgroup: here 1,000 pods created and deleted left 1,000 of them, and
    /// each one made every later pod creation slower (141 pods/s with about 3,000 dying, 212
    /// once they were dropped), until the 65,535 memory cgroup IDs run out and no group can be
    /// made at all. Best effort: a group that cannot be emptied is removed all the same.
    /// (v2's counterpart, `memory.reclaim`, is not written: no machine here has the memory
    /// controller on v2 to show what it does for a removed group.)
    ///
    /// Returns what stayed charged (page cache, dirty, under writeback, mapped by processes
    /// outside the pod), or nil once nothing did. A few KiB usually do: file-system metadata
    /// the pod dirtied stays pinned by the file system (here even after a sync), which no
    /// retry undoes, so there is none.
    static func releaseMemoryCharges(_ dir: String) -> String? {
        for child in FileSystem.listSubdirectories(dir) { _ = releaseMemoryCharges(dir + "/" + child) }
        _ = writeControl("0", to: dir + "/memory.force_empty")
        let keys: [StaticString] = ["total_cache", "total_dirty", "total_writeback", "total_mapped_file"]
        let values = CgroupStatReader(maxOpenFiles: 0).fields("memory.stat", in: dir, pod: dir, keys) ?? []
        let kib = values.map { "\(($0 ?? 0) >> 10) KiB" }
        guard let cache = values.first ?? nil, cache > 0 else { return nil }
        return "its v1 memory group still held \(kib[0]) of page cache after memory.force_empty "
            + "(dirty \(kib[1]), under writeback \(kib[2]), mapped \(kib[3])): "
            + "the kernel keeps the removed group until those pages are reclaimed"
    }

    // MARK: Usage

    /// What a pod's or container's groups say it uses now.
    public struct Usage: Sendable, Equatable {
        /// CPU time used, nanoseconds (cumulative).
        public var cpuNanoseconds: UInt64?
        /// Memory working set: usage minus inactive file pages, as cAdvisor computes it.
        public var memoryWorkingSetBytes: Int64?
        /// Processes killed by the OOM killer in the group (cumulative).
        public var oomKills: Int64?
    }

    /// The usage of the pod (`container` nil) or one of its containers. A container without
    /// a v1 group of its own reads nil for what v1 holds.
    public func usage(uid: String, container: String?) -> Usage {
        usage(uid: uid, container: container, reader: CgroupStatReader(maxOpenFiles: 0))
    }

    /// The OOM kills of the pod's (`container` nil) or a container's memory group, as
    /// `usage` reads them, alone: one file where `usage` reads four (podd asks at every
    /// container exit, before it decides what follows).
    public func oomKills(uid: String, container: String?) -> Int64? {
        let reader = CgroupStatReader(maxOpenFiles: 0)
        let pod = "/" + uid
        let file = container.map { name in { name + "/" + $0 } } ?? { $0 }
        if let memory = v1["memory"], let kills = reader.field(file("memory.oom_control"), in: memory + pod, pod: uid, "oom_kill") {
            return kills
        }
        return unifiedControllers.contains("memory") ? reader.field(file("memory.events"), in: base + pod, pod: uid, "oom_kill") : nil
    }

    /// The same, read with `reader` (the metrics': its files stay open between scrapes).
    public func usage(uid: String, container: String?, reader: CgroupStatReader) -> Usage {
        let pod = "/" + uid
        let file = container.map { name in { name + "/" + $0 } } ?? { $0 }
        let v2Dir = base + pod
        var usage = Usage()
        if let cpuacct = v1["cpuacct"], let nanoseconds = reader.integer(file("cpuacct.usage"), in: cpuacct + pod, pod: uid) {
            usage.cpuNanoseconds = UInt64(max(nanoseconds, 0))
        } else if let micros = reader.field(file("cpu.stat"), in: v2Dir, pod: uid, "usage_usec") {
            usage.cpuNanoseconds = UInt64(max(micros, 0)) * 1000
        }
        if let memory = v1["memory"], let used = reader.integer(file("memory.usage_in_bytes"), in: memory + pod, pod: uid) {
            let inactive = reader.field(file("memory.stat"), in: memory + pod, pod: uid, "total_inactive_file") ?? 0
            usage.memoryWorkingSetBytes = max(used - inactive, 0)
            usage.oomKills = reader.field(file("memory.oom_control"), in: memory + pod, pod: uid, "oom_kill")
        } else if unifiedControllers.contains("memory"), let used = reader.integer(file("memory.current"), in: v2Dir, pod: uid) {
            let inactive = reader.field(file("memory.stat"), in: v2Dir, pod: uid, "inactive_file") ?? 0
            usage.memoryWorkingSetBytes = max(used - inactive, 0)
            usage.oomKills = reader.field(file("memory.events"), in: v2Dir, pod: uid, "oom_kill")
        }
        return usage
    }
}
