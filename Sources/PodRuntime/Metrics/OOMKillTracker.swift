import PodOS

/// Tells whether a container's run was ended by the OOM killer, from the oom_kill counter of
/// its memory cgroup (v2 memory.events, v1 memory.oom_control), read when the run's exit is
/// reported: a kill counted since the last look is this run's. A container without a
/// memory group of its own is judged by the pod's. Reading at the exit costs nothing while
/// pods run (no eventfd, no wake-up).
struct OOMKillTracker {
    private var seen: [String: Int64] = [:]

    /// Whether the run of `container` that ended with `exitCode`/`signal` was OOM-killed.
    mutating func killed(container: String, uid: String, cgroups: CgroupHierarchy?, exitCode: Int32, signal: Int32) -> Bool {
        guard let cgroups else { return false }
        var key = container
        var count = cgroups.oomKills(uid: uid, container: container)
        if count == nil {
            key = ""
            count = cgroups.oomKills(uid: uid, container: nil)
        }
        guard let count else { return false }
        let before = seen[key] ?? 0
        seen[key] = count
        // The OOM killer sends SIGKILL: a run that ended otherwise was not its victim.
        return count > before && (signal == 9 || exitCode == 137)
    }
}
