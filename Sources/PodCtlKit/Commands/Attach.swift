import ArgumentParser

extension Podctl {
    /// `podctl attach POD`: connects to the main process of a running container.
    public struct Attach: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Attach to the running process of a container.",
            discussion: """
                Relays the container's output, and with -i podctl's stdin (the container must have \
                stdin: true). -t when the container has tty: true.

                Examples:
                  podctl attach web -c app
                  podctl attach debug-pod -it
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Option(name: [.short, .long], help: ArgumentHelp("The container (default: the only or the default one).", valueName: "container"))
        var container: String?

        @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass podctl's stdin to the container.")
        var stdin = false

        @Flag(name: [.short, .long], help: "The container has a terminal (stdin must be one).")
        var tty = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let name = try podName(pod, verb: "attach")
            let namespace = namespaceOptions.namespaceOrDefault
            let client = connection.client
            let terminal = useTerminal(tty: tty, stdin: stdin)
            if terminal { Output.error("If you don't see a command prompt, try pressing enter.") }
            var session = RemoteCommand(
                client: client, namespace: namespace, pod: name, container: container, stdin: stdin, tty: terminal)
            let status = try session.runChoosingContainer(.attach)
            if status != 0 { throw ExitCode(status) }
        }
    }
}
