import CPodShim

/// Group membership of a connected caller, read from /proc/PID/status (supplementary groups
/// included), so a user in the socket's group is let in even when it is not their primary one.
enum ProcessGroups {
    static func contains(pid: Int32, gid: UInt32) -> Bool { pod_process_in_group(pid, gid) == 1 }
}
