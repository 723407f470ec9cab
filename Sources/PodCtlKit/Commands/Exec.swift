import ArgumentParser
import Glibc

extension Podctl {
    /// `podctl exec POD -- CMD ...`: runs a command in a container of a running pod.
    public struct Exec: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Run a command in a container of a pod.",
            discussion: """
                Relays the command's output (and, with -i, podctl's stdin) and exits with the \
                command's exit status. -t gives it a terminal.

                Examples:
                  podctl exec web -- cat /etc/hostname
                  podctl exec web -c sidecar -it -- sh
                  echo hi | podctl exec -i web -- cat
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Argument(parsing: .postTerminator, help: ArgumentHelp("The command and its arguments, after --.", valueName: "command"))
        var command: [String] = []

        @Option(name: [.short, .long], help: ArgumentHelp("The container (default: the only or the default one).", valueName: "container"))
        var container: String?

        @Flag(name: [.customShort("i"), .customLong("stdin")], help: "Pass podctl's stdin to the command.")
        var stdin = false

        @Flag(name: [.short, .long], help: "Give the command a terminal (stdin must be one).")
        var tty = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if command.isEmpty {
                throw ValidationError("you must specify at least one command for the container, after -- (podctl exec POD -- COMMAND)")
            }
        }

        public func run() throws {
            try request.run()
        }

        /// What was asked, as the quick path reads it too.
        var request: ExecRequest {
            ExecRequest(pod: pod, container: container, namespace: namespaceOptions.namespaceOrDefault, socket: connection.socket,
                        stdin: stdin, tty: tty, command: command)
        }
    }
}

/// What `podctl exec` is asked to do, whichever parser read its arguments.
struct ExecRequest: Equatable {
    var pod: String
    var container: String?
    var namespace: String
    /// `--socket`, if given (else $PODD_SOCKET, else the default).
    var socket: String?
    var stdin: Bool
    var tty: Bool
    var command: [String]

    func run() throws {
        let name = try podName(pod, verb: "exec")
        var session = RemoteCommand(
            client: ConnectionOptions.client(socket: socket), namespace: namespace, pod: name, container: container,
            command: command, stdin: stdin, tty: useTerminal(tty: tty, stdin: stdin))
        let status = try session.runChoosingContainer(.exec)
        if status != 0 { throw ExitCode(status) }
    }
}

/// `podctl exec POD [-c C] [-i] [-t] [-n NS] [--socket S] -- CMD...` read without
/// ArgumentParser (QuickArguments); ArgumentParserAgreementTests check it reads every such
/// form as `Podctl.parseAsRoot` does.
enum QuickExec {
    /// `arguments` as Podctl.main has normalized them, starting with "exec"; nil for any
    /// other form, which ArgumentParser then reads.
    static func parse(_ arguments: [String]) -> ExecRequest? {
        guard arguments.first == "exec",
              let parsed = QuickArguments(arguments.dropFirst(),
                                          booleans: ["-i": "stdin", "--stdin": "stdin", "-t": "tty", "--tty": "tty"],
                                          options: ["-c": "container", "--container": "container"]),
              parsed.positionals.count == 1, !parsed.command.isEmpty else { return nil }
        let container = parsed.single("container"), namespace = parsed.single("namespace"), socket = parsed.single("socket")
        guard container.ok, namespace.ok, socket.ok else { return nil }
        return ExecRequest(pod: parsed.positionals[0], container: container.value, namespace: namespace.value ?? "default",
                           socket: socket.value, stdin: parsed.flags.contains("stdin"), tty: parsed.flags.contains("tty"),
                           command: parsed.command)
    }
}

/// Whether to ask for a terminal: kubectl gives one only when stdin is a terminal.
func useTerminal(tty: Bool, stdin: Bool) -> Bool {
    guard tty else { return false }
    if !stdin {
        Output.error("Unable to use a TTY - input is not connected to podctl (pass -i as well)")
        return false
    }
    if !Terminal.stdinIsTerminal {
        Output.error("Unable to use a TTY - input is not a terminal or the right kind of file")
        return false
    }
    return true
}
