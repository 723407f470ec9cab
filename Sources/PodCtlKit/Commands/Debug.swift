import PodModel
import ArgumentParser
import Glibc

extension Podctl {
    /// `podctl debug POD -- CMD ...`: adds an ephemeral container to a pod (running or
    /// crash-looping: it joins the pod's namespaces) and runs CMD in it; `podctl debug prune
    /// POD` removes the ones that have ended.
    public struct Debug: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run a command in a new ephemeral container inside a pod.",
            usage: """
                podctl debug POD [--image IMAGE] [--target CONTAINER] [--name NAME] [-i] [-t] [--env KEY=VALUE]... [--rm] [-- COMMAND [ARG...]]
                podctl debug prune POD [-c NAME]
                """,
            discussion: """
                The debug container shares the pod's network, IPC and UTS namespaces and its \
                volumes, and with --target the process namespace of that container (its files are \
                then under /proc/PID/root). podctl relays the command's output (with -i, attached \
                to podctl's stdin; -t for a terminal) and exits with its exit status. Without \
                --image, podd's debug image (config debugImage, busybox out of the box); without a \
                command, sh. --rm removes the container when the command has ended; `podctl debug \
                prune POD` removes every one that has ended.

                Options of a debug session:
                  --image IMAGE            the debug container's image
                  --target CONTAINER       share the process namespace of this container
                  -c, --name NAME          the debug container's name (default: debugger-XXXXX)
                  -i, --stdin              attach podctl's stdin (closed for it when podctl ends)
                  -t, --tty                give it a terminal (with -i)
                  --env KEY=VALUE          an environment variable (repeatable)
                  --rm                     remove the container when its command has ended
                  -n, --namespace NS       the pod's namespace
                  --socket PATH            podd's API socket

                Examples:
                  podctl debug web -it --target app -- sh
                  podctl debug web --image busybox -- wget -qO- 127.0.0.1:8080
                  podctl debug web --rm -- cat /proc/1/root/etc/app.conf
                  podctl debug prune web
                """,
            subcommands: [Session.self, Prune.self],
            defaultSubcommand: Session.self
        )

        public init() {}
    }
}

extension Podctl.Debug {
    /// The debug session itself (the default: `podctl debug POD ...`).
    public struct Session: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "session",
            abstract: "Run a command in a new ephemeral container (the default of podctl debug).",
            shouldDisplay: false
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after -- (default: sh).", valueName: "command"))
        var command: [String] = []

        @Option(name: .long, help: ArgumentHelp("The image of the debug container (default: podd's debugImage).", valueName: "image"))
        var image: String?

        @Option(name: .long, help: ArgumentHelp("Share the process namespace of this container.", valueName: "container"))
        var target: String?

        @Option(name: [.customShort("c"), .customLong("name"), .customLong("container")], help: ArgumentHelp("The debug container's name (default: debugger-XXXXX).", valueName: "name"))
        var name: String?

        @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Attach podctl's stdin to the debug container.")
        var stdin = false

        @Flag(name: [.short, .long], help: "Give the debug container a terminal (with -i).")
        var tty = false

        @Option(name: .long, help: ArgumentHelp("An environment variable for the debug container (repeatable).", valueName: "key=value"))
        var env: [String] = []

        @Flag(name: .customLong("rm"), help: "Remove the debug container from the pod when its command has ended.")
        var remove = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            for variable in env where !variable.contains("=") || variable.hasPrefix("=") {
                throw ValidationError("--env takes KEY=VALUE, not \"\(variable)\"")
            }
        }

        public func run() throws {
            try session.run()
        }

        /// What was asked, as the quick path reads it too.
        var session: DebugSession {
            DebugSession(pod: pod, command: command, image: image, target: target, name: name, stdin: stdin, tty: tty,
                         env: env, remove: remove, namespace: namespaceOptions.namespaceOrDefault, socket: connection.socket)
        }
    }

    /// `podctl debug prune POD`: removes the pod's ephemeral containers that have ended.
    public struct Prune: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Remove the ephemeral containers of a pod that have ended (podd's extension).",
            discussion: """
                Kubernetes keeps every ephemeral container in the pod's spec for good; podd removes \
                the ones that have ended, with their logs, when asked.

                Examples:
                  podctl debug prune web
                  podctl debug prune web -c debugger-x7k2p
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Option(name: [.customShort("c"), .customLong("container")], help: ArgumentHelp("Only this ephemeral container.", valueName: "name"))
        var container: String?

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let podName = try PodCtlKit.podName(pod, verb: "debug prune")
            let namespace = namespaceOptions.namespaceOrDefault
            let client = connection.client
            let before = try client.json("GET", PoddClient.podPath(namespace: namespace, name: podName))
            var path = PoddClient.ephemeralContainersPath(namespace: namespace, pod: podName)
            if let container { path += "/" + PoddClient.pathSegment(container) }
            let after = try client.json("DELETE", path)
            let left = Set(after["spec"]["ephemeralContainers"].array.map { $0["name"].string })
            let pruned = before["spec"]["ephemeralContainers"].array.map { $0["name"].string }.filter { !left.contains($0) }
            for name in pruned { Output.write("ephemeral container \(name) pruned\n") }
            if pruned.isEmpty { Output.write("pod/\(podName): no ephemeral container to prune\n") }
            let running = after["spec"]["ephemeralContainers"].array.map { $0["name"].string }
            if container == nil && !running.isEmpty {
                Output.error("still running, not pruned: \(running.joined(separator: ", "))")
            }
        }
    }
}

func pause(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}

/// One `podctl debug` session, whichever parser read its arguments.
struct DebugSession: Equatable {
    var pod: String
    var command: [String]
    var image: String?
    var target: String?
    var name: String?
    var stdin: Bool
    var tty: Bool
    var env: [String]
    var remove: Bool
    var namespace: String
    /// `--socket`, if given (else $PODD_SOCKET, else the default).
    var socket: String?

    func run() throws {
        let client = ConnectionOptions.client(socket: socket)
        let podName = try PodCtlKit.podName(pod, verb: "debug")
        let path = PoddClient.podPath(namespace: namespace, name: podName)
        let terminal = useTerminal(tty: tty, stdin: stdin)
        // The pod's changes as they happen, from its state before or after the container is
        // added (either shows the container's start): asked first, so that podd sets the
        // watch up while it adds the container, instead of one round trip after.
        let requestedWatch = try client.requestWatch(
            PoddClient.podsPath(namespace: namespace), query: [("fieldSelector", "metadata.name=\(podName)")])
        let containerName = try addContainer(path: path, client: client, tty: terminal)
        let watch = try requestedWatch.stream()
        let started = try watch.wait(what: "the debug container \(containerName) to start") {
            try Self.startState(of: containerName, in: $0)
        }

        var status: Int32?
        if case let .ended(exitCode) = started { status = exitCode }
        if stdin && started == .running {
            if terminal { Output.error("If you don't see a command prompt, try pressing enter.") }
            let session = RemoteCommand(
                client: client, namespace: namespace, pod: podName, container: containerName, stdin: true, tty: terminal)
            do {
                status = try session.session(.attach, quiet: true)
            } catch let error as APIStatusError where error.code == 400 && error.message.contains("is not running") {
                // It ended before the attach: its output is in its log.
                try followLogs(containerName, path: path, client: client)
            }
        } else {
            // The whole output from the first line, stdout and stderr apart, until it ends.
            try followLogs(containerName, path: path, client: client)
        }
        if status == nil {
            // A session the user left may leave the command running: wait a little.
            status = try waitForExit(containerName, watch: watch, wait: stdin ? 3 : 30)
        }
        if remove {
            if status != nil {
                _ = try client.json("DELETE", PoddClient.ephemeralContainersPath(namespace: namespace, pod: podName) + "/" + PoddClient.pathSegment(containerName))
            } else {
                Output.error("debug container \(containerName) is still running: not removed; prune it once it has ended (podctl debug prune \(podName))")
            }
        }
        if let status, status != 0 { throw ExitCode(status) }
    }

    enum StartState: Equatable {
        case running
        /// It has run already, with this exit code.
        case ended(Int32)
    }

    /// Whether the container in `pod` runs or has ended (nil: not yet); throws when it
    /// could not start.
    static func startState(of name: String, in pod: JSONValue) throws -> StartState? {
        guard let status = pod["status"]["ephemeralContainerStatuses"].array.first(where: { $0["name"].string == name }) else {
            return nil
        }
        let state = status["state"]
        if state["running"].isObject { return .running }
        if state["terminated"].isObject {
            if state["terminated"]["reason"].string == "StartError" {
                throw PodctlError("the debug container \(name) could not start: \(state["terminated"]["message"].string)")
            }
            return .ended(Int32(truncatingIfNeeded: state["terminated"]["exitCode"].int))
        }
        let reason = state["waiting"]["reason"].string
        if failedToStart.contains(reason) {
            let message = state["waiting"]["message"].string
            throw PodctlError("the debug container \(name) could not start: \(reason)\(message.isEmpty ? "" : ": " + message)")
        }
        return nil
    }

    private static let failedToStart: Set<String> = [
        "ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerError",
        "CreateContainerConfigError", "RunContainerError", "StartError",
    ]

    /// Adds the container with a strategic merge patch (ephemeral containers merge by name),
    /// as kubectl debug does. Returns its name; a generated one that collides is drawn again.
    private func addContainer(path: String, client: PoddClient, tty terminal: Bool) throws -> String {
        if let name {
            // The same spec again would be a valid (empty) patch: say that the name is taken.
            let pod = try client.json("GET", path)
            if pod["spec"]["ephemeralContainers"].array.contains(where: { $0["name"].string == name }) {
                throw PodctlError("ephemeral container \"\(name)\" already exists in pod \"\(pod["metadata"]["name"].string)\"; choose another --name, or remove it first (podctl debug prune \(pod["metadata"]["name"].string))")
            }
        }
        for attempt in 0..<3 {
            let containerName = name ?? "debugger-" + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
            let patch: JSONValue = ["spec": ["ephemeralContainers": [ephemeralContainer(named: containerName, tty: terminal)]]]
            do {
                _ = try client.json(
                    "PATCH", path + "/ephemeralcontainers",
                    requestBody: .bytes(patch.compactBytes, contentType: "application/strategic-merge-patch+json"))
                if name == nil { Output.error("Defaulting debug container name to \(containerName).") }
                return containerName
            } catch let error as APIStatusError where name == nil && attempt < 2 && error.code == 422
                && (error.message.contains("Duplicate value") || error.message.contains("may not be changed")) {
                continue
            }
        }
        throw PodctlError("could not find a free name for the debug container; name one with --name")
    }

    private func ephemeralContainer(named containerName: String, tty terminal: Bool) -> JSONValue {
        var container: JSONValue = ["name": .string(containerName)]
        // No image: podd gives its debug image.
        if let image, !image.isEmpty { container["image"] = .string(image) }
        container["command"] = .array((command.isEmpty ? ["sh"] : command).map { .string($0) })
        if !env.isEmpty {
            container["env"] = .array(env.map { variable in
                let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                return ["name": .string(String(parts[0])), "value": .string(parts.count > 1 ? String(parts[1]) : "")]
            })
        }
        if stdin {
            container["stdin"] = true
            // The session's end closes its stdin (a terminal hangs up): a shell left by its
            // user ends, and nothing keeps running in the pod.
            container["stdinOnce"] = true
        }
        if terminal { container["tty"] = true }
        if let target { container["targetContainerName"] = .string(target) }
        return container
    }

    private func followLogs(_ containerName: String, path: String, client: PoddClient) throws {
        let query: [(String, String)] = [("container", containerName), ("follow", "true")]
        try concurrently([
            { try client.stream("GET", path + "/log", query: query + [("stream", "Stdout")]) { Output.write($0) } },
            { try client.stream("GET", path + "/log", query: query + [("stream", "Stderr")]) { Output.writeAll(fd: 2, $0) } },
        ])
    }

    /// The container's exit code once it has ended; nil if it still runs after `wait` s.
    private func waitForExit(_ containerName: String, watch: WatchStream, wait: Double) throws -> Int32? {
        let deadline = Clock.now() + wait
        while true {
            guard let event = try watch.next(timeout: max(0, deadline - Clock.now())) else { return nil }
            let status = event["object"]["status"]["ephemeralContainerStatuses"].array.first { $0["name"].string == containerName }
            let terminated = status?["state"]["terminated"] ?? .null
            if terminated.isObject { return Int32(truncatingIfNeeded: terminated["exitCode"].int) }
        }
    }
}

/// `podctl debug POD [--image I] [--target C] [--name N] [-i] [-t] [--env K=V]... [--rm]
/// [-n NS] [--socket S] [-- CMD...]` read without ArgumentParser (QuickArguments), tested to
/// agree with `Podctl.parseAsRoot` (ArgumentParserAgreementTests).
enum QuickDebug {
    /// `arguments` as Podctl.main has normalized them, starting with "debug"; nil for any
    /// other form, which ArgumentParser then reads.
    static func parse(_ arguments: [String]) -> DebugSession? {
        guard arguments.first == "debug",
              let parsed = QuickArguments(
                arguments.dropFirst(),
                booleans: ["-i": "stdin", "--stdin": "stdin", "-t": "tty", "--tty": "tty", "--rm": "rm"],
                options: ["--image": "image", "--target": "target", "-c": "name", "--name": "name", "--container": "name",
                          "--env": "env"]),
              parsed.positionals.count == 1,
              // The subcommands' names (a pod called so is written pod/NAME).
              !["prune", "session", "help"].contains(parsed.positionals[0]) else { return nil }
        let image = parsed.single("image"), target = parsed.single("target"), name = parsed.single("name")
        let namespace = parsed.single("namespace"), socket = parsed.single("socket")
        let env = parsed.values("env")
        guard image.ok, target.ok, name.ok, namespace.ok, socket.ok,
              env.allSatisfy({ $0.contains("=") && !$0.hasPrefix("=") }) else { return nil }
        return DebugSession(
            pod: parsed.positionals[0], command: parsed.command, image: image.value, target: target.value, name: name.value,
            stdin: parsed.flags.contains("stdin"), tty: parsed.flags.contains("tty"), env: env, remove: parsed.flags.contains("rm"),
            namespace: namespace.value ?? "default", socket: socket.value)
    }
}
