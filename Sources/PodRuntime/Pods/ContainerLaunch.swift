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

    enum LaunchError: Error {
        /// The image is not in the store (reported as ErrImageNeverPull, retried).
        case imageMissing(String)
        case noCommand(String)
        case io(OSError)
    }

    /// The default PATH of container runtimes, used when the container sets none.
    static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    /// `containerID` goes into the journal fields when output is forwarded (JournalForwarding).
    /// `environment`: the container's resolved environment (ContainerEnvironment), when the
    /// controller made it; else the one `environment(_:)` makes.
    func message(for c: ContainerDefinition, run: Int, pidNamespace: String,
                 containerID: String? = nil, environment resolved: [String]? = nil) throws(LaunchError) -> (ControlMessage, logPath: String) {
        guard let ref = ImageReference(c.image), let lower = images.rootfs(ref) else { throw .imageMissing(c.image) }
        let env = resolved ?? environment(c)
        let argv = ConfigDataMounts.expandArguments(c.command + c.args, environment: env)
        guard !argv.isEmpty else { throw .noCommand(c.name) }
        let dirs = layout.containerDirectories(c.name)
        let logPath = layout.logPath(container: c.name, run: run)
        do {
            // A new run gets a new writable layer, as a new container does on Kubernetes.
            try FileSystem.removeTree(dirs.upper)
            try FileSystem.removeTree(dirs.work)
            for d in [dirs.upper, dirs.work, dirs.merged] { try FileSystem.makeDirectories(d) }
            try FileSystem.makeDirectories(FileSystem.parent(logPath), mode: 0o750)
        } catch {
            throw .io(error)
        }
        var m = ControlMessage(op: "spawn")
        m.append("name", c.name)
        m.append("rootfs.lower", lower)
        m.append("rootfs.upper", dirs.upper)
        m.append("rootfs.work", dirs.work)
        m.append("rootfs.merged", dirs.merged)
        m.append("pidns", pidNamespace)
        func mount(_ type: String, _ source: String, _ target: String, _ options: String) {
            m.append("mount.type", type)
            m.append("mount.source", source)
            m.append("mount.target", target)
            m.append("mount.options", options)
        }
        let mountPaths = Set(c.volumeMounts.map(\.mountPath))
        for (file, target) in [("hosts", "/etc/hosts"), ("hostname", "/etc/hostname"), ("resolv.conf", "/etc/resolv.conf")]
            where !mountPaths.contains(target) {
            mount("bind", layout.runDirectory + "/etc/" + file, target, "")
        }
        for vm in c.volumeMounts {
            guard let volume = pod.spec.volumes.first(where: { $0.name == vm.name }) else { continue }
            mount("bind", layout.volumeSource(volume), vm.mountPath, vm.readOnly || ConfigDataMounts.isReadOnly(volume) ? "ro" : "")
            if let subPath = ConfigDataMounts.subPath(vm, environment: env) { m.append("mount.subPath", subPath) }
        }
        for variable in env { m.append("env", variable) }
        for a in argv { m.append("arg", a) }
        m.append("cwd", c.workingDir ?? "/")
        m.append("log", logPath)
        m.append("log.maxSize", String(logs.containerLogMaxSize))
        m.append("log.maxFiles", String(logs.containerLogMaxFiles))
        if c.stdin { m.append("stdin", "1") }
        if c.stdinOnce { m.append("stdinOnce", "1") }
        if c.tty { m.append("tty", "1") }
        for (k, v) in JournalForwarding.spawnFields(pod: pod, container: c.name, containerID: containerID) { m.append(k, v) }
        return (m, logPath)
    }

    /// The container's environment as `KEY=VALUE`: the runtime's PATH and HOSTNAME, then its
    /// env in order (a later entry replaces an earlier one). exec uses it too, as the CRI
    /// runtimes give an exec the container's configured environment.
    func environment(_ c: ContainerDefinition) -> [String] {
        var env: [(String, String)] = [("PATH", Self.defaultPath), ("HOSTNAME", layout.hostname)]
        for e in c.env {
            let value = e.value ?? e.valueFrom?.fieldRef.map { resolveField($0.fieldPath) } ?? ""
            if let i = env.firstIndex(where: { $0.0 == e.name }) { env[i].1 = value } else { env.append((e.name, value)) }
        }
        return env.map { "\($0.0)=\($0.1)" }
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

    func containerDirectories(_ name: String) -> (upper: String, work: String, merged: String) {
        let base = stateDirectory + "/containers/" + name
        return (base + "/upper", base + "/work", base + "/rootfs")
    }

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
