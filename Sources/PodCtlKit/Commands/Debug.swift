import ArgumentParser
import Glibc

extension Podctl {
    /// `podctl debug POD -- CMD ...`: adds an ephemeral container to a pod (running or
    /// crashed: it joins the pod's namespaces) and runs CMD in it.
    public struct Debug: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run a command in a new ephemeral container inside a pod.",
            discussion: """
                The debug container shares the pod's network, IPC and UTS namespaces, and with \
                --target the process namespace of that container. podctl waits for the command, \
                relays its output (with -i, attached to podctl's stdin; -t for a terminal) and exits \
                with its exit status. Without --image, the target's (else the first container's) \
                image is used; without a command, sh.

                Examples:
                  podctl debug web -it --target app -- sh
                  podctl debug web --image busybox -- wget -qO- 127.0.0.1:8080
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after -- (default: sh).", valueName: "command"))
        var command: [String] = []

        @Option(name: .long, help: ArgumentHelp("The image of the debug container (default: the target's).", valueName: "image"))
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

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            for variable in env where !variable.contains("=") || variable.hasPrefix("=") {
                throw ValidationError("--env takes KEY=VALUE, not \"\(variable)\"")
            }
        }

        public func run() throws {
            let podName = try PodCtlKit.podName(pod, verb: "debug")
            let namespace = namespaceOptions.namespaceOrDefault
            let client = connection.client
            let path = PoddClient.podPath(namespace: namespace, name: podName)
            let current = try client.json("GET", path)

            let existing = Set(
                (current["spec"]["containers"].array + current["spec"]["initContainers"].array
                    + current["spec"]["ephemeralContainers"].array).map { $0["name"].string })
            var containerName = name ?? ""
            if containerName.isEmpty {
                repeat {
                    containerName = "debugger-" + String((0..<5).map { _ in "bcdfghjklmnpqrstvwxz2456789".randomElement()! })
                } while existing.contains(containerName)
                Output.error("Defaulting debug container name to \(containerName).")
            }
            let terminal = useTerminal(tty: tty, stdin: stdin)
            let container = ephemeralContainer(named: containerName, pod: current, tty: terminal)
            try addEphemeralContainer(container, to: current, path: path, client: client)

            guard try waitUntilStarted(containerName, path: path, client: client) else {
                // It ran and ended before it could be attached to: show what it wrote.
                try client.stream("GET", path + "/log", query: [("container", containerName)]) { Output.write($0) }
                throw ExitCode(try exitCode(of: containerName, path: path, client: client, wait: 0))
            }
            if stdin {
                if terminal { Output.error("If you don't see a command prompt, try pressing enter.") }
                let session = RemoteCommand(
                    client: client, namespace: namespace, pod: podName, container: containerName, stdin: true, tty: terminal)
                _ = try session.run(.attach)
                let status = try exitCode(of: containerName, path: path, client: client, wait: 3)
                if status != 0 { throw ExitCode(status) }
            } else {
                // The whole output, from the first line, until the container ends.
                try client.stream("GET", path + "/log", query: [("container", containerName), ("follow", "true")]) {
                    Output.write($0)
                }
                let status = try exitCode(of: containerName, path: path, client: client, wait: 10)
                if status != 0 { throw ExitCode(status) }
            }
        }

        private func ephemeralContainer(named containerName: String, pod: JSON, tty terminal: Bool) -> JSON {
            var container: JSON = ["name": .string(containerName)]
            var imageName = image ?? ""
            if imageName.isEmpty {
                let containers = pod["spec"]["containers"].array
                let targetContainer = containers.first { $0["name"].string == target } ?? containers.first
                imageName = targetContainer?["image"].string ?? ""
            }
            container["image"] = .string(imageName)
            container["command"] = .array((command.isEmpty ? ["sh"] : command).map { .string($0) })
            if !env.isEmpty {
                container["env"] = .array(env.map { variable in
                    let parts = variable.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                    return ["name": .string(String(parts[0])), "value": .string(parts.count > 1 ? String(parts[1]) : "")]
                })
            }
            if stdin { container["stdin"] = true }
            if terminal { container["tty"] = true }
            if let target { container["targetContainerName"] = .string(target) }
            return container
        }

        /// PATCH .../ephemeralcontainers with a strategic merge patch (ephemeral containers
        /// merge by name), as kubectl debug does; a server without PATCH gets the pod with the
        /// container appended by PUT.
        private func addEphemeralContainer(_ container: JSON, to pod: JSON, path: String, client: PoddClient) throws {
            let patch: JSON = ["spec": ["ephemeralContainers": [container]]]
            do {
                _ = try client.json(
                    "PATCH", path + "/ephemeralcontainers",
                    requestBody: .bytes(patch.compactBytes, contentType: "application/strategic-merge-patch+json"))
            } catch let error as APIStatusError where error.code == 405 || error.code == 415 {
                var updated = pod
                updated["spec"]["ephemeralContainers"] = .array(pod["spec"]["ephemeralContainers"].array + [container])
                _ = try client.json("PUT", path + "/ephemeralcontainers", body: updated)
            }
        }

        private static let failedToStart: Set<String> = [
            "ErrImageNeverPull", "ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerError",
            "CreateContainerConfigError", "RunContainerError", "StartError",
        ]

        /// Waits until the debug container runs (true) or has already ended (false).
        private func waitUntilStarted(_ containerName: String, path: String, client: PoddClient) throws -> Bool {
            let deadline = Clock.now() + 120
            while true {
                let pod = try client.json("GET", path)
                let status = pod["status"]["ephemeralContainerStatuses"].array.first { $0["name"].string == containerName }
                let state = status?["state"] ?? .null
                if state["running"].isObject { return true }
                if state["terminated"].isObject { return false }
                let reason = state["waiting"]["reason"].string
                if Self.failedToStart.contains(reason) {
                    let message = state["waiting"]["message"].string
                    throw PodctlError("the debug container \(containerName) could not start: \(reason)\(message.isEmpty ? "" : ": " + message)")
                }
                if Clock.now() > deadline {
                    throw PodctlError("timed out waiting for the debug container \(containerName) to start\(reason.isEmpty ? "" : " (\(reason))")")
                }
                pause(milliseconds: 100)
            }
        }

        /// The debug container's exit code, waiting up to `wait` seconds for it to end
        /// (0 if it still runs then: the user detached).
        private func exitCode(of containerName: String, path: String, client: PoddClient, wait: Double) throws -> Int32 {
            let deadline = Clock.now() + wait
            while true {
                let pod = try client.json("GET", path)
                let status = pod["status"]["ephemeralContainerStatuses"].array.first { $0["name"].string == containerName }
                let terminated = status?["state"]["terminated"] ?? .null
                if terminated.isObject { return Int32(truncatingIfNeeded: terminated["exitCode"].int) }
                if Clock.now() >= deadline { return 0 }
                pause(milliseconds: 100)
            }
        }
    }
}

func pause(milliseconds: Int) {
    var request = timespec(tv_sec: milliseconds / 1000, tv_nsec: (milliseconds % 1000) * 1_000_000)
    var remaining = timespec()
    while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
}
