/// A container of a pod (app or init container), the fields podd implements.
///
/// Kubernetes fields podd does not implement (volumeDevices, resizePolicy, ...) are refused
/// on decoding with their path.
public struct Container: JSONConvertible {
    public var name: String
    /// The name of an image in podd's local store.
    public var image: String
    /// Replaces the image's entrypoint.
    public var command: [String]
    /// Replaces the image's cmd.
    public var args: [String]
    public var workingDir: String?
    public var ports: [ContainerPort]
    public var env: [EnvVar]
    public var envFrom: [EnvFromSource] = []
    public var volumeMounts: [VolumeMount]
    public var imagePullPolicy: ImagePullPolicy?
    /// Only on an init container, and only Always: a native sidecar.
    public var restartPolicy: ContainerRestartPolicy?
    public var livenessProbe: Probe?
    public var readinessProbe: Probe?
    public var startupProbe: Probe?
    public var lifecycle: Lifecycle?
    public var stdin: Bool
    public var stdinOnce: Bool
    public var tty: Bool
    /// Who the container runs as and what it may do (over the pod's securityContext).
    public var securityContext: SecurityContext?
    public var resources = ResourceRequirements()
    /// Where the container may write why it ended: what is there when it exits (at most
    /// 4 KiB) becomes its terminated state's message, as kubelet reads it.
    public var terminationMessagePath = Container.defaultTerminationMessagePath
    public var terminationMessagePolicy = TerminationMessagePolicy.file

    public static let defaultTerminationMessagePath = "/dev/termination-log"

    /// Creates a value from its fields; those left out take Kubernetes' defaults.
    public init(
        name: String,
        image: String,
        command: [String] = [],
        args: [String] = [],
        workingDir: String? = nil,
        ports: [ContainerPort] = [],
        env: [EnvVar] = [],
        volumeMounts: [VolumeMount] = [],
        imagePullPolicy: ImagePullPolicy? = nil,
        restartPolicy: ContainerRestartPolicy? = nil,
        livenessProbe: Probe? = nil,
        readinessProbe: Probe? = nil,
        startupProbe: Probe? = nil,
        lifecycle: Lifecycle? = nil,
        stdin: Bool = false,
        stdinOnce: Bool = false,
        tty: Bool = false,
        securityContext: SecurityContext? = nil
    ) {
        self.name = name
        self.image = image
        self.command = command
        self.args = args
        self.workingDir = workingDir
        self.ports = ports
        self.env = env
        self.volumeMounts = volumeMounts
        self.imagePullPolicy = imagePullPolicy
        self.restartPolicy = restartPolicy
        self.livenessProbe = livenessProbe
        self.readinessProbe = readinessProbe
        self.startupProbe = startupProbe
        self.lifecycle = lifecycle
        self.stdin = stdin
        self.stdinOnce = stdinOnce
        self.tty = tty
        self.securityContext = securityContext
    }

    /// Whether this, as an init container, is a native sidecar (restartPolicy Always).
    public var isSidecar: Bool { restartPolicy == .always }

    public init(json: JSONValue, path: FieldPath) throws(ManifestError) {
        var reader = try ObjectReader(json, path: path)
        let container = Self.read(&reader)
        try reader.finish()
        self = container
    }

    /// Reads the container members of `reader` (shared with ephemeral containers, whose
    /// object is a container plus targetContainerName).
    static func read(_ reader: inout ObjectReader) -> Container {
        var container = Container(
            name: reader.string("name") ?? "",
            image: reader.string("image") ?? "",
            command: reader.strings("command"),
            args: reader.strings("args"),
            workingDir: reader.string("workingDir"),
            ports: reader.list("ports", of: ContainerPort.self),
            env: reader.list("env", of: EnvVar.self),
            volumeMounts: reader.list("volumeMounts", of: VolumeMount.self),
            imagePullPolicy: reader.enumeration("imagePullPolicy", ImagePullPolicy.self, order: [.always, .ifNotPresent, .never]),
            restartPolicy: reader.enumeration("restartPolicy", ContainerRestartPolicy.self),
            livenessProbe: reader.decode("livenessProbe", as: Probe.self),
            readinessProbe: reader.decode("readinessProbe", as: Probe.self),
            startupProbe: reader.decode("startupProbe", as: Probe.self),
            lifecycle: reader.decode("lifecycle", as: Lifecycle.self),
            stdin: reader.bool("stdin") ?? false,
            stdinOnce: reader.bool("stdinOnce") ?? false,
            tty: reader.bool("tty") ?? false,
            securityContext: reader.decode("securityContext", as: SecurityContext.self)
        )
        container.resources = reader.decode("resources", as: ResourceRequirements.self) ?? ResourceRequirements()
        container.envFrom = reader.list("envFrom", of: EnvFromSource.self)
        if let path = reader.string("terminationMessagePath"), !path.isEmpty { container.terminationMessagePath = path }
        container.terminationMessagePolicy = reader.enumeration("terminationMessagePolicy", TerminationMessagePolicy.self) ?? .file
        reader.reject(["resizePolicy", "restartPolicyRules", "volumeDevices"])
        return container
    }

    public var json: JSONValue { writer().json }

    /// The container members in Kubernetes' order (ephemeral containers append theirs).
    func writer() -> ObjectWriter {
        var writer = ObjectWriter()
        writer.set("name", .string(name))
        writer.set("image", nonEmpty: image)
        writer.set("command", strings: command)
        writer.set("args", strings: args)
        writer.set("workingDir", nonEmpty: workingDir)
        writer.set("ports", list: ports)
        writer.set("envFrom", list: envFrom)
        writer.set("env", list: env)
        writer.set("restartPolicy", restartPolicy.map { JSONValue.string($0.rawValue) })
        writer.set("resources", resources.isEmpty ? nil : resources)
        writer.set("volumeMounts", list: volumeMounts)
        writer.set("livenessProbe", livenessProbe)
        writer.set("readinessProbe", readinessProbe)
        writer.set("startupProbe", startupProbe)
        writer.set("lifecycle", lifecycle)
        if terminationMessagePath != Self.defaultTerminationMessagePath {
            writer.set("terminationMessagePath", .string(terminationMessagePath))
        }
        if terminationMessagePolicy != .file {
            writer.set("terminationMessagePolicy", .string(terminationMessagePolicy.rawValue))
        }
        writer.set("imagePullPolicy", imagePullPolicy.map { JSONValue.string($0.rawValue) })
        writer.set("stdin", ifTrue: stdin)
        writer.set("stdinOnce", ifTrue: stdinOnce)
        writer.set("tty", ifTrue: tty)
        writer.set("securityContext", securityContext)
        return writer
    }
}

/// When to pull an image. podd has no registry access and uses its local store whatever the
/// policy; the field is kept so manifests stay valid for Kubernetes.
public enum ImagePullPolicy: String, Sendable, CaseIterable {
    case always = "Always"
    case ifNotPresent = "IfNotPresent"
    case never = "Never"
}

/// What a terminated container's message is: the file at terminationMessagePath (File), or,
/// when that is empty and the container failed, the end of its log (FallbackToLogsOnError:
/// its last 80 lines, at most 2 KiB, as kubelet takes them).
public enum TerminationMessagePolicy: String, Sendable, CaseIterable {
    case file = "File"
    case fallbackToLogsOnError = "FallbackToLogsOnError"
}

/// A container's own restart policy: only Always, only on init containers (native sidecars).
public enum ContainerRestartPolicy: String, Sendable, CaseIterable {
    case always = "Always"
}
