/// Linux capabilities by name, and the set a container runs with: containerd's default set
/// changed by `capabilities.add` and `drop` the way containerd applies them.
public struct LinuxCapabilities: Sendable, Equatable {
    /// Bit N set: capability number N.
    public var mask: UInt64

    /// Creates the set of bits `mask`.
    public init(mask: UInt64) { self.mask = mask }

    /// Every capability by kernel number (index = number), without the `CAP_` prefix.
    public static let names = [
        "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID",
        "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW",
        "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT",
        "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD",
        "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG",
        "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF", "CHECKPOINT_RESTORE",
    ]

    /// The kernel number of `name` (any case, without `CAP_`), or nil.
    public static func number(_ name: String) -> Int? { names.firstIndex(of: name.uppercased()) }

    /// Every capability podd knows.
    public static let all = LinuxCapabilities(mask: (UInt64(1) << UInt64(names.count)) - 1)

    /// containerd's (and Docker's) default set.
    public static let runtimeDefault = LinuxCapabilities(named: [
        "CHOWN", "DAC_OVERRIDE", "FSETID", "FOWNER", "MKNOD", "NET_RAW", "SETGID", "SETUID", "SETFCAP",
        "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL", "AUDIT_WRITE",
    ])

    /// The set of the known names among `names`.
    public init(named names: [String]) {
        mask = 0
        for name in names { if let n = Self.number(name) { mask |= UInt64(1) << UInt64(n) } }
    }

    /// The default set with `add` and `drop` applied as containerd applies them: `ALL` first
    /// (add, then drop), then each named capability (add, then drop), so that `drop: [ALL],
    /// add: [NET_BIND_SERVICE]` keeps only NET_BIND_SERVICE and a capability both added and
    /// dropped is dropped.
    public static func resolve(_ capabilities: Capabilities?) -> LinuxCapabilities {
        var set = runtimeDefault
        guard let capabilities else { return set }
        if capabilities.add.contains(where: { $0.uppercased() == "ALL" }) { set = all }
        if capabilities.drop.contains(where: { $0.uppercased() == "ALL" }) { set.mask = 0 }
        set.mask |= LinuxCapabilities(named: capabilities.add).mask
        set.mask &= ~LinuxCapabilities(named: capabilities.drop).mask
        return set
    }

    /// Whether capability `name` is in the set.
    public func contains(_ name: String) -> Bool {
        guard let n = Self.number(name) else { return false }
        return mask & (UInt64(1) << UInt64(n)) != 0
    }

    /// The names in the set, by number.
    public var sortedNames: [String] {
        Self.names.indices.filter { mask & (UInt64(1) << UInt64($0)) != 0 }.map { Self.names[$0] }
    }
}
