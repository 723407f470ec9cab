/// A container's `securityContext`: who it runs as and what it may do. Where a field is also
/// set on the pod (`PodSecurityContext`), the container's value wins (`EffectiveSecurityContext`).
///
/// `windowsOptions` is refused (podd runs Linux containers). `seLinuxOptions` is read and kept
/// but changes nothing: podd never labels, as containerd does on a host without SELinux.
/// `appArmorProfile` is accepted with type `Unconfined` only, which is what podd runs.
public struct SecurityContext: JSONConvertible {
    public var capabilities: Capabilities?
    /// All capabilities, every host device, no masked paths, a writable /sys.
    public var privileged: Bool?
    public var seLinuxOptions: SELinuxOptions?
    public var runAsUser: Int64?
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool?
    public var readOnlyRootFilesystem: Bool?
    /// false sets no_new_privs on the container's process.
    public var allowPrivilegeEscalation: Bool?
    public var procMount: ProcMountType?
    public var seccompProfile: SeccompProfile?
    public var appArmorProfile: AppArmorProfile?

    /// Creates a value from its fields; those left out are unset.
    public init(
        capabilities: Capabilities? = nil,
        privileged: Bool? = nil,
        seLinuxOptions: SELinuxOptions? = nil,
        runAsUser: Int64? = nil,
        runAsGroup: Int64? = nil,
        runAsNonRoot: Bool? = nil,
        readOnlyRootFilesystem: Bool? = nil,
        allowPrivilegeEscalation: Bool? = nil,
        procMount: ProcMountType? = nil,
        seccompProfile: SeccompProfile? = nil,
        appArmorProfile: AppArmorProfile? = nil
    ) {
        self.capabilities = capabilities
        self.privileged = privileged
        self.seLinuxOptions = seLinuxOptions
        self.runAsUser = runAsUser
        self.runAsGroup = runAsGroup
        self.runAsNonRoot = runAsNonRoot
        self.readOnlyRootFilesystem = readOnlyRootFilesystem
        self.allowPrivilegeEscalation = allowPrivilegeEscalation
        self.procMount = procMount
        self.seccompProfile = seccompProfile
        self.appArmorProfile = appArmorProfile
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        self.init(
            capabilities: reader.decode("capabilities", as: Capabilities.self),
            privileged: reader.bool("privileged"),
            seLinuxOptions: reader.decode("seLinuxOptions", as: SELinuxOptions.self),
            runAsUser: reader.int64("runAsUser"),
            runAsGroup: reader.int64("runAsGroup"),
            runAsNonRoot: reader.bool("runAsNonRoot"),
            readOnlyRootFilesystem: reader.bool("readOnlyRootFilesystem"),
            allowPrivilegeEscalation: reader.bool("allowPrivilegeEscalation"),
            procMount: reader.enumeration("procMount", ProcMountType.self),
            seccompProfile: reader.decode("seccompProfile", as: SeccompProfile.self),
            appArmorProfile: reader.decode("appArmorProfile", as: AppArmorProfile.self)
        )
        reader.reject(["windowsOptions"])
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("capabilities", capabilities)
        writer.set("privileged", privileged)
        writer.set("seLinuxOptions", seLinuxOptions)
        writer.set("runAsUser", runAsUser)
        writer.set("runAsGroup", runAsGroup)
        writer.set("runAsNonRoot", runAsNonRoot)
        writer.set("readOnlyRootFilesystem", readOnlyRootFilesystem)
        writer.set("allowPrivilegeEscalation", allowPrivilegeEscalation)
        writer.set("procMount", procMount.map { JSONValue.string($0.rawValue) })
        writer.set("seccompProfile", seccompProfile)
        writer.set("appArmorProfile", appArmorProfile)
        return writer.json
    }
}

/// Capabilities added to and dropped from the runtime's default set, named without the
/// `CAP_` prefix (`NET_ADMIN`), or `ALL`.
public struct Capabilities: JSONConvertible {
    public var add: [String]
    public var drop: [String]

    /// Creates a value from its fields.
    public init(add: [String] = [], drop: [String] = []) {
        self.add = add
        self.drop = drop
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        self.init(add: reader.strings("add"), drop: reader.strings("drop"))
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("add", strings: add)
        writer.set("drop", strings: drop)
        return writer.json
    }
}

/// Which /proc a container sees: `Default` masks and makes read-only the paths that leak or
/// change host state; `Unmasked` leaves them (only in a user namespace, `hostUsers: false`).
public enum ProcMountType: String, Sendable, CaseIterable {
    case `default` = "Default"
    case unmasked = "Unmasked"
}

/// Which security profile a `SecurityProfile` names: its field name, for messages.
public protocol SecurityProfileKind: Sendable {
    /// The manifest field that holds it (`seccompProfile`, `appArmorProfile`).
    static var field: String { get }
}

/// The seccomp filter of a container: RuntimeDefault (containerd's filter), Unconfined, or
/// Localhost (a file under podd's `seccompProfileRoot`).
public enum SeccompKind: SecurityProfileKind { public static let field = "seccompProfile" }

/// An AppArmor profile. podd does not load AppArmor profiles: only `Unconfined` (what every
/// podd container runs) is accepted; validation refuses the others.
public enum AppArmorKind: SecurityProfileKind { public static let field = "appArmorProfile" }

public typealias SeccompProfile = SecurityProfile<SeccompKind>
public typealias AppArmorProfile = SecurityProfile<AppArmorKind>

/// A seccomp or AppArmor profile: Kubernetes gives both the same two fields and the same
/// three types, and checks them alike.
public struct SecurityProfile<Kind: SecurityProfileKind>: JSONConvertible {
    public enum ProfileType: String, Sendable, CaseIterable {
        /// The runtime's default profile.
        case runtimeDefault = "RuntimeDefault"
        /// No profile.
        case unconfined = "Unconfined"
        /// A profile from a file of the host.
        case localhost = "Localhost"
    }

    /// nil when the manifest left it out or gave a value outside the enumeration (validation
    /// reports it).
    public var type: ProfileType?
    /// The profile's file; only with type Localhost.
    public var localhostProfile: String?

    /// Creates a value from its fields.
    public init(type: ProfileType?, localhostProfile: String? = nil) {
        self.type = type
        self.localhostProfile = localhostProfile
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        if !reader.has("type") { reader.invalid(.required(path.child("type"), "type is required when \(Kind.field) is set")) }
        let type = reader.enumeration("type", ProfileType.self, order: [.localhost, .runtimeDefault, .unconfined])
        self.init(type: type, localhostProfile: reader.string("localhostProfile"))
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("type", type.map { JSONValue.string($0.rawValue) })
        writer.set("localhostProfile", localhostProfile)
        return writer.json
    }
}

/// SELinux labels. Kept so that manifests round-trip, never applied: podd does not label
/// processes or files, as containerd does not on a host without SELinux.
public struct SELinuxOptions: JSONConvertible {
    public var user: String?
    public var role: String?
    public var type: String?
    public var level: String?

    /// Creates a value from its fields.
    public init(user: String? = nil, role: String? = nil, type: String? = nil, level: String? = nil) {
        self.user = user
        self.role = role
        self.type = type
        self.level = level
    }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        self.init(user: reader.string("user"), role: reader.string("role"), type: reader.string("type"),
                  level: reader.string("level"))
        try reader.finish()
    }

    public var json: JSONValue {
        var writer = ObjectWriter()
        writer.set("user", nonEmpty: user)
        writer.set("role", nonEmpty: role)
        writer.set("type", nonEmpty: type)
        writer.set("level", nonEmpty: level)
        return writer.json
    }
}
