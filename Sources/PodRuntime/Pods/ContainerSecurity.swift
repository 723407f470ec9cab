import Glibc
import PodModel
import PodOS

/// A container's securityContext, merged with the pod's (EffectiveSecurityContext), turned
/// into the monitor's keys: user, group, groups, caps, privileged, noNewPrivs, readOnlyRoot,
/// procMount and seccomp (docs/monitor-protocol.md). The same keys go with every exec into
/// the container, which runs as the container does.
struct ContainerSecurity {
    let pod: Pod
    let settings: PoddConfig.SecuritySettings
    let stateDir: String

    enum Failure: Error {
        /// kubelet's CreateContainerConfigError (runAsNonRoot, ...): nothing started.
        case config(String)
        /// CreateContainerError (a Localhost profile missing or unreadable).
        case create(String)
    }

    /// kubelet's format.Pod, quoted as kubelet's %q prints it: `"name_namespace(uid)"`.
    var podDescription: String { "\"\(pod.metadata.name)_\(pod.metadata.namespace)(\(pod.metadata.uid ?? ""))\"" }

    /// `lowerDirectories`: the image's layers, top first; `imageUser`: its config `User`.
    func fields(for c: ContainerDefinition, lowerDirectories: [String], imageUser: String) throws(Failure) -> [(String, String)] {
        let effective = EffectiveSecurityContext(pod: pod.spec.securityContext, container: c.securityContext)
        try verifyRunAsNonRoot(effective, container: c.name, imageUser: imageUser)
        let user: ContainerUser
        do {
            user = try ContainerUser.resolve(lowerDirectories: lowerDirectories, runAsUser: effective.runAsUser,
                                             runAsGroup: effective.runAsGroup, imageUser: imageUser)
        } catch {
            throw .create(error.description)
        }
        var groups = effective.strictSupplementalGroups ? [] : user.groups
        for g in effective.supplementalGroups {
            let id = UInt32(clamping: g)
            if !groups.contains(id) { groups.append(id) }
        }
        var out: [(String, String)] = [
            ("user", String(user.uid)), ("group", String(user.gid)),
            ("groups", groups.map(String.init).joined(separator: ",")),
        ]
        if effective.privileged {
            out.append(("privileged", "1"))
        } else {
            out.append(("caps", String(effective.capabilities.mask)))
        }
        if effective.noNewPrivileges { out.append(("noNewPrivs", "1")) }
        if effective.readOnlyRootFilesystem { out.append(("readOnlyRoot", "1")) }
        if effective.procMount == .unmasked { out.append(("procMount", "unmasked")) }
        out += try seccompFields(effective)
        // Not podd's -999, which the monitor that forks it runs at.
        out.append(("oomScoreAdj", String(OOMScoreAdjust.container(named: c.name, of: pod.spec, memoryCapacity: Self.memoryCapacity))))
        return out
    }

    /// The machine's memory, what kubelet's memory capacity is for the OOM score.
    static let memoryCapacity = Int64(sysconf(Int32(_SC_PHYS_PAGES))) * Int64(sysconf(Int32(_SC_PAGESIZE)))

    /// kubelet's verifyRunAsNonRoot, with its messages.
    func verifyRunAsNonRoot(_ effective: EffectiveSecurityContext, container: String, imageUser: String?) throws(Failure) {
        guard effective.runAsNonRoot else { return }
        if let uid = effective.runAsUser {
            if uid == 0 {
                throw .config("container's runAsUser breaks non-root policy (pod: \(podDescription), container: \(container))")
            }
            return
        }
        let user = (imageUser ?? "").split(separator: ":", maxSplits: 1).first.map(String.init) ?? ""
        if user.isEmpty || UInt32(user) == 0 {
            // No user in the image config: the runtime runs it as root (uid 0).
            throw .config("container has runAsNonRoot and image will run as root (pod: \(podDescription), container: \(container))")
        }
        if UInt32(user) == nil {
            throw .config("container has runAsNonRoot and image has non-numeric user (\(user)), cannot verify user is non-root (pod: \(podDescription), container: \(container))")
        }
    }

    /// The container's profile, else the pod's, else `seccompDefault` (RuntimeDefault when
    /// on, Unconfined when off, as kubelet's --seccomp-default). Privileged containers run
    /// unconfined, as containerd runs them.
    func seccompFields(_ effective: EffectiveSecurityContext) throws(Failure) -> [(String, String)] {
        if effective.privileged { return [("seccomp", "unconfined")] }
        let type = effective.seccompProfile?.type ?? (settings.seccompDefault ? .runtimeDefault : .unconfined)
        switch type {
        case .runtimeDefault: return [("seccomp", "runtime-default")]
        case .unconfined: return [("seccomp", "unconfined")]
        case .localhost:
            let root = settings.seccompProfileRoot ?? stateDir + "/seccomp"
            let path = root + "/" + (effective.seccompProfile?.localhostProfile ?? "")
            do {
                return try SeccompProfileFile.fields(path: path, caps: effective.capabilities)
            } catch {
                throw .create("failed to generate seccomp spec opts: \(error.description)")
            }
        }
    }
}
