import Glibc
import PodImages
import PodModel
import PodOS

/// Turns a container of a pod spec into the monitor's `spawn` message: its image as the
/// overlay lower layer, a fresh writable layer, the pod's files and volumes, env, argv, cwd
/// and log file. Pure apart from preparing the directories it names.
struct ContainerLaunch {
    let pod: Pod
    let layout: PodLayout
    let images: ImageStore
    /// When the monitor rotates the container's log (config `logs:`).
    var logs = PoddConfig.LogRotation()
    /// seccompDefault and the Localhost profiles' directory (config).
    var security = PoddConfig.SecuritySettings()
    /// podd's state dir: the default home of Localhost seccomp profiles.
    var stateDir = "/var/lib/podd"
    /// Which hostPath volumes may be mounted (config), judged on the very path sent.
    var hostPaths: HostPathPolicy?

    enum LaunchError: Error {
        /// The image is not in the store (reported as ErrImageNeverPull, retried).
        case imageMissing(String)
        case noCommand(String)
        case io(OSError)
        /// The securityContext cannot be honoured (runAsNonRoot with a root image):
        /// CreateContainerConfigError, nothing started.
        case securityConfig(String)
        /// A Localhost seccomp profile missing or unreadable: CreateContainerError.
        case securityProfile(String)
    }

    /// The default PATH of container runtimes, used when the container sets none.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// The image the container's reference means in the store, nil when it is not there.
    private func storedImage(_ c: ContainerDefinition) -> StoredImage? {
        ImageName.parsed(c.image).flatMap { images.resolve($0) }
    }

    /// `containerID` goes into the journal fields when output is forwarded (JournalForwarding).
    /// `environment`: the container's resolved environment (ContainerEnvironment), when the
    /// controller made it; else the one `environment(_:)` makes. `security` is the message's
    /// securityContext keys (`securityFields`), which every exec into this run repeats.
    func message(for c: ContainerDefinition, run: Int, pidNamespace: String,
                 containerID: String? = nil, environment resolved: [String]? = nil)
        throws(LaunchError) -> (ControlMessage, logPath: String, security: [(String, String)]) {
        guard let image = storedImage(c) else { throw .imageMissing(c.image) }
        let defaults = image.configuration.config
        // The environment resolved when the container's ConfigMaps and Secrets were read
        // (PodController.prepareConfiguration), else the spec's own.
        let env = resolved ?? environment(c, image: defaults.env)
        var variables: [String: String] = [:]
        for entry in env {
            guard let eq = entry.firstIndex(of: "=") else { continue }
            variables[String(entry[..<eq])] = String(entry[entry.index(after: eq)...])
        }
        let argv: [String]
        do {
            argv = try ImageRunDefaults.argv(command: c.command, args: c.args, entrypoint: defaults.entrypoint, cmd: defaults.cmd,
                                             env: variables)
        } catch {
            throw .noCommand(c.name)
        }
        let securityFields = try self.securityFields(c, image: image)
        let dirs = layout.containerDirectories(c.name)
        let logPath = layout.logPath(container: c.name, run: run)
        do {
            // The pod's own dirs first, with their modes (the first spawn makes them, while
            // the store may be writing the pod's state dir beside it).
            try FileSystem.makeDirectories(layout.stateDirectory, mode: 0o700)
            try FileSystem.makeDirectories(layout.logDirectory, mode: 0o755)
            // A new run gets a new writable layer, as a new container does on Kubernetes.
            try FileSystem.removeTree(dirs.upper)
            try FileSystem.removeTree(dirs.work)
            for d in [dirs.upper, dirs.work, dirs.merged] { try FileSystem.makeDirectories(d) }
            try FileSystem.makeDirectories(FileSystem.parent(logPath), mode: 0o750)
            // Empty for this run; writable by whatever user the container runs as, as kubelet
            // makes it (the container's umask must not matter).
            let terminationLog = layout.terminationLog(c.name)
            try FileSystem.write(terminationLog, [], mode: 0o666)
            chmod(terminationLog, 0o666)
        } catch {
            throw .io(error)
        }
        var m = ControlMessage(op: "spawn")
        m.append("name", c.name)
        m.append("rootfs.lower", images.lowerDirectories(image).joined(separator: ":"))
        m.append("rootfs.upper", dirs.upper)
        m.append("rootfs.work", dirs.work)
        m.append("rootfs.merged", dirs.merged)
        m.append("pidns", pidNamespace)
        // Bind sources go with every symlink resolved: the monitor opens them refusing any
        // symlink, so one put in the path after this point fails the start instead of
        // redirecting the mount.
        func bind(resolved source: String, _ target: String, _ options: String) {
            m.append("mount.type", "bind")
            m.append("mount.source", source)
            m.append("mount.target", target)
            m.append("mount.options", options)
        }
        let mountPaths = Set(c.volumeMounts.map(\.mountPath))
        // The pod's etc dir resolved once: the files in it are podd's own, never symlinks.
        let etc = HostPathPolicy.resolve(layout.runDirectory + "/etc")
        for (file, target) in [("hosts", "/etc/hosts"), ("hostname", "/etc/hostname"), ("resolv.conf", "/etc/resolv.conf")]
            where !mountPaths.contains(target) {
            bind(resolved: etc + "/" + file, target, "")
        }
        if !mountPaths.contains(c.terminationMessagePath) {
            bind(resolved: HostPathPolicy.resolve(layout.terminationLog(c.name)), c.terminationMessagePath, "")
        }
        for vm in c.volumeMounts {
            guard let volume = pod.spec.volumes.first(where: { $0.name == vm.name }) else { continue }
            let source = HostPathPolicy.resolve(layout.volumeSource(volume))
            // A hostPath is checked here, on the very path sent (a symlink in it may have
            // changed since admission: a pod can write one into a directory another pod mounts).
            if case .hostPath = volume.source, let why = hostPaths?.refusal(source) {
                throw .securityConfig("hostPath volume \(volume.name) refused: \(why)")
            }
            bind(resolved: source, vm.mountPath, vm.readOnly || ConfigDataMounts.isReadOnly(volume) ? "ro" : "")
            if let subPath = ConfigDataMounts.subPath(vm, environment: env) { m.append("mount.subPath", subPath) }
        }
        for variable in env { m.append("env", variable) }
        for a in argv { m.append("arg", a) }
        m.append("cwd", ImageRunDefaults.workingDirectory(container: c.workingDir, image: defaults.workingDir))
        m.append("log", logPath)
        m.append("log.maxSize", String(logs.containerLogMaxSize))
        m.append("log.maxFiles", String(logs.containerLogMaxFiles))
        if c.stdin { m.append("stdin", "1") }
        if c.stdinOnce { m.append("stdinOnce", "1") }
        if c.tty { m.append("tty", "1") }
        for (k, v) in securityFields { m.append(k, v) }
        for (k, v) in JournalForwarding.spawnFields(pod: pod, container: c.name, containerID: containerID) { m.append(k, v) }
        return (m, logPath, securityFields)
    }

    /// The securityContext keys of the container's spawn, which every exec into it repeats.
    /// The user is the securityContext's, else the image's (its config `User`, resolved in its
    /// own /etc/passwd and /etc/group).
    func securityFields(_ c: ContainerDefinition, image: StoredImage? = nil) throws(LaunchError) -> [(String, String)] {
        let image = image ?? storedImage(c)
        let lowers = image.map { images.lowerDirectories($0) } ?? []
        do {
            return try ContainerSecurity(pod: pod, settings: security, stateDir: stateDir)
                .fields(for: c, lowerDirectories: lowers, imageUser: image?.configuration.config.user ?? "")
        } catch {
            switch error {
            case let .config(why): throw .securityConfig(why)
            case let .create(why): throw .securityProfile(why)
            }
        }
    }

    /// The container's environment as `KEY=VALUE`: the runtime's PATH and HOSTNAME, the
    /// image's Env over them, then the container's env in order (a later entry replaces an
    /// earlier one). exec uses it too, as the CRI runtimes give an exec the container's
    /// configured environment.
    func environment(_ c: ContainerDefinition, image: [String]? = nil) -> [String] {
        let imageEnv = image ?? storedImage(c)?.configuration.config.env ?? []
        return ImageRunDefaults.environment(defaults: [("PATH", Self.defaultPath), ("HOSTNAME", layout.hostname)], image: imageEnv,
                                            container: containerEnvironment(c)).map { "\($0.0)=\($0.1)" }
    }

    /// What the container's own env goes over: the runtime's PATH and HOSTNAME, and the
    /// image's Env over them.
    func baseEnvironment(_ c: ContainerDefinition) -> [(String, String)] {
        let imageEnv = storedImage(c)?.configuration.config.env ?? []
        return ImageRunDefaults.environment(defaults: [("PATH", Self.defaultPath), ("HOSTNAME", layout.hostname)], image: imageEnv,
                                            container: [])
    }

    /// The container's own env entries, resolved.
    func containerEnvironment(_ c: ContainerDefinition) -> [(String, String)] {
        c.env.map { e in (e.name, e.value ?? e.valueFrom?.fieldRef.map { resolveField($0.fieldPath) } ?? "") }
    }

    private func resolveField(_ path: String) -> String {
        switch path {
        case "metadata.name": return pod.metadata.name
        case "metadata.namespace": return pod.metadata.namespace
        case "metadata.uid": return pod.metadata.uid ?? ""
        default: return ""
        }
    }
}

/// The fields of a container podd launches, common to app, init and ephemeral containers.
struct ContainerDefinition {
    var name: String
    var image: String
    var command: [String]
    var args: [String]
    var env: [EnvVar]
    var envFrom: [EnvFromSource]
    var workingDir: String?
    var volumeMounts: [VolumeMount]
    var stdin: Bool
    var stdinOnce: Bool
    var tty: Bool
    var securityContext: SecurityContext?
    var terminationMessagePath: String
    var terminationMessagePolicy: TerminationMessagePolicy

    init(_ c: Container) {
        name = c.name
        image = c.image
        command = c.command
        args = c.args
        env = c.env
        envFrom = c.envFrom
        workingDir = c.workingDir
        volumeMounts = c.volumeMounts
        stdin = c.stdin
        stdinOnce = c.stdinOnce
        tty = c.tty
        securityContext = c.securityContext
        terminationMessagePath = c.terminationMessagePath
        terminationMessagePolicy = c.terminationMessagePolicy
    }
}

/// Where a pod's files live. Run-time files (gone at reboot, like the namespaces they go
/// with) under the run dir; writable layers, volumes and logs under the state dir.
public struct PodLayout: Sendable {
    public let uid: String
    public let hostname: String
    public let runDirectory: String
    public let stateDirectory: String
    public let logDirectory: String

    public init(uid: String, namespace: String, name: String, hostname: String, runDir: String, stateDir: String) {
        self.uid = uid
        self.hostname = hostname
        runDirectory = runDir + "/pods/" + uid
        stateDirectory = stateDir + "/pods/" + uid
        logDirectory = stateDir + "/logs/\(namespace)_\(name)_\(uid)"
    }

    public var shmDirectory: String { runDirectory + "/shm" }

    /// A container's writable layer and the overlay's work dir, on the state dir's disk (what
    /// the container writes can be large), and the mount point of its root, in the run dir: a
    /// mount point holds no data, a new inode on a disk file system costs its allocator (on
    /// ext4 without a journal, a scan of every inode freed in the last half minute, up to a
    /// millisecond where pods churn), and /run is emptied by a reboot that ends the mounts.
    func containerDirectories(_ name: String) -> (upper: String, work: String, merged: String) {
        let base = stateDirectory + "/containers/" + name
        return (base + "/upper", base + "/work", mountPointDirectory(name))
    }

    func mountPointDirectory(_ name: String) -> String { runDirectory + "/containers/" + name + "/rootfs" }

    /// The file bound at a container's terminationMessagePath (kubelet's per-container
    /// termination log), beside its writable layer: made empty at each run, read at its end.
    func terminationLog(_ name: String) -> String { stateDirectory + "/containers/" + name + "/termination-log" }

    public func logPath(container: String, run: Int) -> String { "\(logDirectory)/\(container)/\(run).log" }

    func volumeSource(_ v: Volume) -> String {
        switch v.source {
        case let .hostPath(h): return h.path
        case let .emptyDir(e) where e.medium == .memory: return runDirectory + "/volumes/" + v.name
        case .emptyDir: return stateDirectory + "/volumes/" + v.name
        case .configMap, .secret, .projected, .downwardAPI: return runDirectory + "/configdata/" + v.name
        }
    }
}
