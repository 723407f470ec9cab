/// Validation of `securityContext` (pod and container), `hostPID`, `hostIPC`, `hostUsers` and
/// sysctls: the API server's rules and messages (ValidatePodSecurityContext,
/// ValidateSecurityContext, validateSeccompProfileField, validateSysctls, validateHostUsers),
/// kubelet's admission of sysctls (only its safe, namespaced set) and podd's own rules
/// (capability names it knows, AppArmor other than Unconfined refused).
public enum SecurityContextValidation {
    /// The largest user and group ID Kubernetes accepts.
    static let maxID: Int64 = 2_147_483_647
    static let idRangeMessage = "must be between 0 and 2147483647, inclusive"

    /// kubelet's safe sysctls: namespaced, and with no effect on other pods (pkg/kubelet/sysctl).
    public static let safeSysctls: Set<String> = [
        "kernel.shm_rmid_forced",
        "net.ipv4.ip_local_port_range",
        "net.ipv4.tcp_syncookies",
        "net.ipv4.ping_group_range",
        "net.ipv4.ip_unprivileged_port_start",
        "net.ipv4.ip_local_reserved_ports",
        "net.ipv4.tcp_keepalive_time",
        "net.ipv4.tcp_fin_timeout",
        "net.ipv4.tcp_keepalive_intvl",
        "net.ipv4.tcp_keepalive_probes",
        "net.ipv4.tcp_rmem",
        "net.ipv4.tcp_wmem",
    ]

    static let sysctlPattern = #"^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"#

    /// `name` with '/' as separator turned into '.', as kubelet normalises it
    /// (`net/ipv4/tcp_syncookies` is `net.ipv4.tcp_syncookies`; with '/', a '.' inside a
    /// segment stays as it is, so it becomes '/').
    public static func normalizedSysctl(_ name: String) -> String {
        guard let firstSeparator = name.firstIndex(where: { $0 == "." || $0 == "/" }), name[firstSeparator] == "/" else { return name }
        return String(name.map { $0 == "/" ? "." : $0 == "." ? "/" : $0 })
    }

    // MARK: - Pod

    /// Every problem of the pod-level fields: `spec.securityContext`, hostPID, hostIPC,
    /// hostUsers and shareProcessNamespace, then each container's `securityContext`.
    public static func validate(_ spec: PodSpec, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let hostUsers = spec.hostUsers ?? true
        if let sc = spec.securityContext {
            errors += validatePod(sc, hostIPC: spec.hostIPC, path: path.child("securityContext"))
        }
        if spec.shareProcessNamespace && spec.hostPID {
            errors.append(.invalid(path.child("shareProcessNamespace"), .bool(true), "ShareProcessNamespace and HostPID cannot both be enabled"))
        }
        if !hostUsers {
            if spec.hostPID { errors.append(.forbidden(path.child("hostPID"), "when `pod.Spec.HostUsers` is false")) }
            if spec.hostIPC { errors.append(.forbidden(path.child("hostIPC"), "when `pod.Spec.HostUsers` is false")) }
        }
        let lists: [(String, [Container])] = [
            ("initContainers", spec.initContainers), ("containers", spec.containers),
            ("ephemeralContainers", spec.ephemeralContainers.map(\.common)),
        ]
        for (label, containers) in lists {
            for (index, container) in containers.enumerated() {
                guard let sc = container.securityContext else { continue }
                errors += validateContainer(sc, hostUsers: hostUsers, path: path.child(label).index(index).child("securityContext"))
            }
        }
        return errors
    }

    static func validatePod(_ sc: PodSecurityContext, hostIPC: Bool, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        errors += idErrors(sc.runAsUser, path: path.child("runAsUser"))
        errors += idErrors(sc.runAsGroup, path: path.child("runAsGroup"))
        errors += idErrors(sc.fsGroup, path: path.child("fsGroup"))
        for (index, group) in sc.supplementalGroups.enumerated() {
            errors += idErrors(group, path: path.child("supplementalGroups").index(index))
        }
        errors += sysctlErrors(sc.sysctls, hostIPC: hostIPC, path: path.child("sysctls"))
        errors += seccompErrors(sc.seccompProfile, path: path.child("seccompProfile"))
        errors += appArmorErrors(sc.appArmorProfile, path: path.child("appArmorProfile"))
        if let policy = sc.seLinuxChangePolicy, policy != "Recursive", policy != "MountOption" {
            errors.append(.notSupported(path.child("seLinuxChangePolicy"), .string(policy), supported: ["MountOption", "Recursive"]))
        }
        return errors
    }

    static func idErrors(_ id: Int64?, path: FieldPath) -> [FieldError] {
        guard let id, id < 0 || id > maxID else { return [] }
        return [.invalid(path, .int(id), idRangeMessage)]
    }

    /// The API server's name rules, then kubelet's allowlist (which refuses the pod at
    /// admission with reason SysctlForbidden; podd refuses it on create).
    static func sysctlErrors(_ sysctls: [Sysctl], hostIPC: Bool, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        var names = Set<String>()
        for (index, sysctl) in sysctls.enumerated() {
            let namePath = path.index(index).child("name")
            let name = sysctl.name
            if name.isEmpty {
                errors.append(.required(namePath))
                continue
            }
            if name.utf8.count > 253 || !matchesSysctlPattern(name) {
                errors.append(.invalid(namePath, .string(name), "must have at most 253 characters and match regex \(sysctlPattern)"))
                continue
            }
            if names.contains(name) {
                errors.append(.duplicate(namePath, .string(name)))
                continue
            }
            names.insert(name)
            let normalized = normalizedSysctl(name)
            if hostIPC && isIPCNamespaced(normalized) {
                errors.append(.invalid(namePath, .string(name), "sysctl not allowed with host ipc enabled"))
            } else if !safeSysctls.contains(normalized) {
                errors.append(.forbidden(namePath, "forbidden sysctl: \(FieldError.goQuoted(normalized)) not allowlisted"))
            }
        }
        return errors
    }

    /// `sysctlPattern`: segments of [a-z0-9], '-' and '_' inside, separated by '.' or '/'.
    static func matchesSysctlPattern(_ name: String) -> Bool {
        let segments = name.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "." || $0 == "/" })
        return segments.allSatisfy { segment in
            guard let first = segment.first, let last = segment.last else { return false }
            func alphanumeric(_ c: Character) -> Bool { c.isASCII && (c.isLowercase || c.isNumber) }
            return alphanumeric(first) && alphanumeric(last) && segment.allSatisfy { alphanumeric($0) || $0 == "-" || $0 == "_" }
        }
    }

    /// kubelet's namespaceOf: the sysctls of the IPC namespace.
    static func isIPCNamespaced(_ name: String) -> Bool {
        name == "kernel.sem" || name.hasPrefix("kernel.shm") || name.hasPrefix("kernel.msg") || name.hasPrefix("fs.mqueue.")
    }

    // MARK: - Container

    static func validateContainer(_ sc: SecurityContext, hostUsers: Bool, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        errors += idErrors(sc.runAsUser, path: path.child("runAsUser"))
        errors += idErrors(sc.runAsGroup, path: path.child("runAsGroup"))
        if sc.procMount == .unmasked && hostUsers {
            errors.append(.invalid(path.child("procMount"), .string(ProcMountType.unmasked.rawValue), "`hostUsers` must be false to use `Unmasked`"))
        }
        errors += seccompErrors(sc.seccompProfile, path: path.child("seccompProfile"))
        if let capabilities = sc.capabilities {
            errors += capabilityErrors(capabilities.add, path: path.child("capabilities", "add"))
            errors += capabilityErrors(capabilities.drop, path: path.child("capabilities", "drop"))
        }
        if sc.allowPrivilegeEscalation == false {
            if sc.privileged == true {
                errors.append(.invalid(path, sc.json, "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
            }
            let adds = sc.capabilities?.add.map { $0.uppercased() } ?? []
            if adds.contains("SYS_ADMIN") || adds.contains("CAP_SYS_ADMIN") {
                errors.append(.invalid(path, sc.json, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
            }
        }
        errors += appArmorErrors(sc.appArmorProfile, path: path.child("appArmorProfile"))
        return errors
    }

    /// podd's rule (containerd would fail the container at start instead): every name is a
    /// capability this kernel interface knows, written as Kubernetes writes them, without
    /// `CAP_` (containerd adds the prefix itself, so `CAP_NET_RAW` would be `CAP_CAP_NET_RAW`).
    static func capabilityErrors(_ names: [String], path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        for (index, name) in names.enumerated() {
            let upper = name.uppercased()
            if upper == "ALL" || LinuxCapabilities.number(upper) != nil { continue }
            if upper.hasPrefix("CAP_"), LinuxCapabilities.number(String(upper.dropFirst(4))) != nil {
                errors.append(.invalid(path.index(index), .string(name),
                                       "capabilities are named without the \"CAP_\" prefix: \(FieldError.goQuoted(String(name.dropFirst(4))))"))
            } else {
                errors.append(.notSupported(path.index(index), .string(name), supported: ["ALL"] + LinuxCapabilities.names))
            }
        }
        return errors
    }

    static func seccompErrors(_ profile: SeccompProfile?, path: FieldPath) -> [FieldError] {
        guard let profile else { return [] }
        var errors: [FieldError] = []
        // A missing or unknown type was reported while decoding.
        if profile.type == .localhost {
            if let file = profile.localhostProfile, !file.isEmpty {
                errors += localDescendingPathErrors(file, path: path.child("localhostProfile"))
            } else {
                errors.append(.required(path.child("localhostProfile"), "must be set when seccomp type is Localhost"))
            }
        } else if profile.localhostProfile != nil && profile.type != nil {
            errors.append(.invalid(path.child("localhostProfile"), profile.json, "can only be set when seccomp type is Localhost"))
        }
        return errors
    }

    /// validateLocalDescendingPath: relative, without `..`.
    static func localDescendingPathErrors(_ value: String, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if value.hasPrefix("/") { errors.append(.invalid(path, .string(value), "must be a relative path")) }
        errors += PathRules.noBacksteps(value, path: path)
        return errors
    }

    static func appArmorErrors(_ profile: AppArmorProfile?, path: FieldPath) -> [FieldError] {
        guard let profile else { return [] }
        var errors: [FieldError] = []
        switch profile.type {
        case .some(.runtimeDefault), .some(.localhost):
            errors.append(.forbidden(path.child("type"), "not supported by podd: podd loads no AppArmor profile; use Unconfined or leave appArmorProfile out"))
        default:
            break
        }
        if profile.localhostProfile != nil && profile.type != .localhost && profile.type != nil {
            errors.append(.invalid(path.child("localhostProfile"), profile.json, "can only be set when AppArmor type is Localhost"))
        }
        return errors
    }
}
