/// What a container runs with once its own `securityContext` and the pod's are merged, as
/// kubelet merges them (DetermineEffectiveSecurityContext): the container's runAsUser,
/// runAsGroup, runAsNonRoot, seccompProfile, appArmorProfile and seLinuxOptions override the
/// pod's; capabilities, privileged, readOnlyRootFilesystem, allowPrivilegeEscalation and
/// procMount are the container's alone; supplementary groups and fsGroup the pod's alone.
public struct EffectiveSecurityContext: Sendable, Equatable {
    /// nil: the image's user (root when the image says nothing).
    public var runAsUser: Int64?
    /// nil: the user's primary group (the image's /etc/passwd, else 0).
    public var runAsGroup: Int64?
    public var runAsNonRoot: Bool
    /// fsGroup first, then supplementalGroups, as kubelet lists them.
    public var supplementalGroups: [Int64]
    /// Strict: the image's /etc/group memberships of the user are not added.
    public var strictSupplementalGroups: Bool
    public var privileged: Bool
    /// The bounding set; `privileged` means every capability whatever this says.
    public var capabilities: LinuxCapabilities
    /// no_new_privs: only when allowPrivilegeEscalation is false, as kubelet sets it.
    public var noNewPrivileges: Bool
    public var readOnlyRootFilesystem: Bool
    /// Unmasked only by request; privileged containers are unmasked whatever this says.
    public var procMount: ProcMountType
    /// nil when neither the container nor the pod set one: podd's `seccompDefault` decides.
    public var seccompProfile: SeccompProfile?

    /// Merges the pod's context with the container's.
    public init(pod: PodSecurityContext?, container: SecurityContext?) {
        runAsUser = container?.runAsUser ?? pod?.runAsUser
        runAsGroup = container?.runAsGroup ?? pod?.runAsGroup
        runAsNonRoot = container?.runAsNonRoot ?? pod?.runAsNonRoot ?? false
        supplementalGroups = (pod?.fsGroup.map { [$0] } ?? []) + (pod?.supplementalGroups ?? [])
        strictSupplementalGroups = pod?.supplementalGroupsPolicy == .strict
        privileged = container?.privileged ?? false
        capabilities = privileged ? .all : LinuxCapabilities.resolve(container?.capabilities)
        noNewPrivileges = container?.allowPrivilegeEscalation == false
        readOnlyRootFilesystem = container?.readOnlyRootFilesystem ?? false
        procMount = container?.procMount ?? .default
        seccompProfile = container?.seccompProfile ?? pod?.seccompProfile
    }

    /// The same for container `c` of `spec`.
    public init(_ spec: PodSpec, _ c: Container) {
        self.init(pod: spec.securityContext, container: c.securityContext)
    }
}
