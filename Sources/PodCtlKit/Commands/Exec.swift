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
            try runExec(pod: pod, container: container, namespace: namespaceOptions.namespaceOrDefault,
                        client: connection.client, stdin: stdin, tty: tty, command: command)
        }
    }
}

/// `podctl exec`, whichever parser read its arguments.
func runExec(pod: String, container: String?, namespace: String, client: PoddClient, stdin: Bool, tty: Bool,
             command: [String]) throws {
    let name = try podName(pod, verb: "exec")
    var session = RemoteCommand(
        client: client, namespace: namespace, pod: name, container: container, command: command,
        stdin: stdin, tty: useTerminal(tty: tty, stdin: stdin))
    let status = try session.runChoosingContainer(.exec)
    if status != 0 { throw ExitCode(status) }
}

/// The arguments of the usual `podctl exec` read without ArgumentParser, whose reflection
/// costs a few milliseconds at every start: a good part of an exec's whole round trip.
/// Anything unusual (help, an unknown flag, a missing command) goes to ArgumentParser,
/// which also gives the error messages.
struct QuickExec {
    var pod = ""
    var container: String?
    var namespace: String?
    var socket: String?
    var stdin = false
    var tty = false
    var command: [String] = []

    /// `arguments` as Podctl.main has normalized them, starting with "exec".
    init?(_ arguments: [String]) {
        guard arguments.first == "exec" else { return nil }
        var index = 1
        /// The value of `--long=value`.
        func inline(_ argument: String, _ long: String) -> String? {
            argument.hasPrefix(long + "=") ? String(argument.dropFirst(long.count + 1)) : nil
        }
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if argument == "--" {
                command = Array(arguments[index...])
                break
            }
            func next() -> String? {
                guard index < arguments.count, arguments[index] != "--" else { return nil }
                index += 1
                return arguments[index - 1]
            }
            switch argument {
            case "-i", "--stdin": stdin = true
            case "-t", "--tty": tty = true
            case "-it", "-ti":
                stdin = true
                tty = true
            case "-c", "--container":
                guard let v = next() else { return nil }
                container = v
            case "-n", "--namespace":
                guard let v = next() else { return nil }
                namespace = v
            case "--socket":
                guard let v = next() else { return nil }
                socket = v
            default:
                if let v = inline(argument, "--container") {
                    container = v
                } else if let v = inline(argument, "--namespace") {
                    namespace = v
                } else if let v = inline(argument, "--socket") {
                    socket = v
                } else if argument.hasPrefix("-") || !pod.isEmpty {
                    return nil
                } else {
                    pod = argument
                }
            }
        }
        guard !pod.isEmpty, !command.isEmpty, container != "", namespace != "" else { return nil }
    }

    func run() throws {
        var connection = ConnectionOptions()
        connection.socket = socket
        try runExec(pod: pod, container: container, namespace: namespace ?? "default", client: connection.client,
                    stdin: stdin, tty: tty, command: command)
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
