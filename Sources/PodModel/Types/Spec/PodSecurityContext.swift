/// The pod's `securityContext`: defaults for every container (user, group, seccomp) and
/// what only a pod has (supplementary groups, fsGroup, sysctls).
///
/// `windowsOptions` is refused; `seLinuxOptions` and `seLinuxChangePolicy` are kept and
/// change nothing (see `SecurityContext`).
public struct PodSecurityContext: JSONConvertible {
    public var seLinuxOptions: SELinuxOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    /// Groups every container's first process belongs to, besides its primary group.
    public var supplementalGroups: [Int64]
    /// Merge (default): the groups of the user in the image's /etc/group are added too;
    /// Strict: only runAsGroup, supplementalGroups and fsGroup.
    public var supplementalGroupsPolicy: SupplementalGroupsPolicy?
    /// Owner group of the pod's emptyDir volumes (setgid, group-writable), added to every
    /// container's groups.
    public var fsGroup: Int64?
    /// Namespaced kernel parameters set in the pod's namespaces.
    public var sysctls: [Sysctl]
    public var fsGroupChangePolicy: FSGroupChangePolicy?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?
    public var seLinuxChangePolicy: String?

    /// Creates a value from its fields; those left out are unset.
    public init(
        seLinuxOptions: SELinuxOptions? = nil,
        runAsUser: Int64? = nil,
        runAsGroup: Int64? = nil,
        runAsNonRoot: Bool? = nil,
        supplementalGroups: [Int64] = [],
        supplementalGroupsPolicy: SupplementalGroupsPolicy? = nil,
        fsGroup: Int64? = nil,
        sysctls: [Sysctl] = [],
        fsGroupChangePolicy: FSGroupChangePolicy? = nil,
        seccompProfile: SeccompProfile? = nil,
        appArmorProfile: AppArmorProfile? = nil,
        seLinuxChangePolicy: String? = nil
    ) {
        self.seLinuxOptions = seLinuxOptions
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
        self.runAsNonRoot = runAsNonRoot
        self.supplementalGroups = supplementalGroups
        self.supplementalGroupsPolicy = supplementalGroupsPolicy
        self.fsGroup = fsGroup
        self.sysctls = sysctls
        self.fsGroupChangePolicy = fsGroupChangePolicy
        self.seccompProfile = seccompProfile
        self.appArmorProfile = appArmorProfile
        self.seLinuxChangePolicy = seLinuxChangePolicy
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        var groups: [Int64] = []
        if let value = reader.value("supplementalGroups") {
            if case .array(let elements) = value {
                for (index, element) in elements.enumerated() {
                    if let number = element.intValue {
                        groups.append(number)
                    } else {
                        reader.malformed(.typeInvalid(path.child("supplementalGroups").index(index), element, "must be an integer"))
                    }
                }
            } else {
                reader.malformed(.typeInvalid(path.child("supplementalGroups"), value, "must be an array of integers"))
            }
        }
        self.init(
            seLinuxOptions: reader.decode("seLinuxOptions", as: SELinuxOptions.self),
            runAsUser: reader.int64("runAsUser"),
            runAsGroup: reader.int64("runAsGroup"),
            runAsNonRoot: reader.bool("runAsNonRoot"),
            supplementalGroups: groups,
            supplementalGroupsPolicy: reader.enumeration("supplementalGroupsPolicy", SupplementalGroupsPolicy.self),
            fsGroup: reader.int64("fsGroup"),
            sysctls: reader.list("sysctls", of: Sysctl.self),
            fsGroupChangePolicy: reader.enumeration("fsGroupChangePolicy", FSGroupChangePolicy.self),
            seccompProfile: reader.decode("seccompProfile", as: SeccompProfile.self),
            appArmorProfile: reader.decode("appArmorProfile", as: AppArmorProfile.self),
            seLinuxChangePolicy: reader.string("seLinuxChangePolicy")
        )
        reader.reject(["windowsOptions"])
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("seLinuxOptions", seLinuxOptions)
        writer.set("runAsUser", runAsUser)
        writer.set("runAsGroup", runAsGroup)
        writer.set("runAsNonRoot", runAsNonRoot)
        if !supplementalGroups.isEmpty { writer.set("supplementalGroups", .array(supplementalGroups.map(JSONValue.int))) }
        writer.set("supplementalGroupsPolicy", supplementalGroupsPolicy.map { JSONValue.string($0.rawValue) })
        writer.set("fsGroup", fsGroup)
        writer.set("sysctls", list: sysctls)
        writer.set("fsGroupChangePolicy", fsGroupChangePolicy.map { JSONValue.string($0.rawValue) })
        writer.set("seccompProfile", seccompProfile)
        writer.set("appArmorProfile", appArmorProfile)
        writer.set("seLinuxChangePolicy", seLinuxChangePolicy)
        return writer.json
    }
}

/// Whether the groups of the image's /etc/group are added to a container's groups.
public enum SupplementalGroupsPolicy: String, Sendable, CaseIterable {
    case merge = "Merge"
    case strict = "Strict"
}

/// When fsGroup ownership is applied to a volume: every time (`Always`), or only when the
/// volume's root does not already have it (`OnRootMismatch`).
public enum FSGroupChangePolicy: String, Sendable, CaseIterable {
    case onRootMismatch = "OnRootMismatch"
    case always = "Always"
}

/// One kernel parameter (`net.ipv4.ip_local_port_range`) and its value.
public struct Sysctl: JSONConvertible {
    public var name: String
    public var value: String

    /// Creates a value from its fields.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        self.init(name: reader.string("name") ?? "", value: reader.string("value") ?? "")
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("value", .string(value))
        return writer.json
    }
}
