import ArgumentParser
import Glibc

/// podctl, the command-line client of podd. Its verbs and flags are kubectl's where kubectl
/// has them; it talks to podd's Kubernetes-style API over podd's Unix socket.
public struct Podctl: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "podctl",
        abstract: "Drive podd, the single-machine pod supervisor, with kubectl's verbs.",
        discussion: """
            podctl talks to podd over its Unix socket (--socket, else $PODD_SOCKET, else \
            /run/podd/podd.sock). Manifests are Kubernetes core/v1 Pods in YAML or JSON.
            """,
        version: PodctlVersion.gitVersion,
        subcommands: [
            Apply.self, Get.self, Describe.self, Logs.self, Exec.self, Attach.self, Debug.self, Delete.self, Events.self,
            Label.self, Annotate.self, Image.self, PortForward.self, Version.self, Top.self, Create.self,
        ]
    )

    public init() {}

    /// Runs podctl with the process arguments and exits: 0 on success; 1 on any error, after
    /// one line on stderr (`error: ...`, or `Error from server (Reason): ...` from podd).
    public static func main() -> Never {
        main(Array(CommandLine.arguments.dropFirst()))
    }

    public static func main(_ arguments: [String]) -> Never {
        let arguments = moveLeadingGlobalOptions(normalizeBooleanFlags(arguments))
        do {
            // The usual forms of exec and debug skip ArgumentParser's start-up cost.
            if let request = QuickExec.parse(arguments) {
                try request.run()
            } else if let session = QuickDebug.parse(arguments) {
                try session.run()
            } else if let message = unknownCommandMessage(arguments) {
                Output.error(message)
                Glibc.exit(1)
            } else {
                var command = try parseAsRoot(arguments)
                try command.run()
            }
            Glibc.exit(0)
        } catch let error as PodctlError {
            Output.error(error.line)
            Glibc.exit(1)
        } catch let error as APIStatusError {
            Output.error(error.description)
            Glibc.exit(1)
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                // --help and --version.
                Output.write(fullMessage(for: error) + "\n")
                Glibc.exit(0)
            }
            if error is ExitCode {
                Glibc.exit(code.rawValue)
            }
            // A usage error: ArgumentParser's message, kubectl's "error:" and exit status 1.
            var message = fullMessage(for: error)
            if message.hasPrefix("Error: ") { message = "error: " + message.dropFirst("Error: ".count) }
            while message.hasSuffix("\n") { message.removeLast() }
            Output.error(message)
            Glibc.exit(1)
        }
    }

    /// The names podctl answers to as a verb: its subcommands, and ArgumentParser's `help`.
    /// Spelled out rather than asked of ArgumentParser, whose type-name reflection costs a
    /// millisecond at start; UnknownCommandTests check the two lists agree.
    static let verbs = [
        "apply", "get", "describe", "logs", "exec", "attach", "debug", "delete", "events", "label", "annotate", "image",
        "port-forward", "version", "top", "create", "help",
    ]

    /// kubectl's (cobra's) answer to a verb it does not have, or nil when the first argument
    /// is a verb or a flag:
    ///
    ///     error: unknown command "port-forward" for "podctl"
    ///     Run 'podctl --help' for usage.
    ///
    /// with cobra's "Did you mean this?" list of verbs within two edits or starting with it.
    static func unknownCommandMessage(_ arguments: [String]) -> String? {
        guard let verb = arguments.first, !verb.hasPrefix("-"), !verbs.contains(verb) else { return nil }
        var message = "error: unknown command \"\(verb)\" for \"podctl\""
        let suggestions = verbs.filter { $0 != "help" && (editDistance($0, verb.lowercased()) <= 2 || $0.hasPrefix(verb.lowercased())) }
        if !suggestions.isEmpty {
            message += "\n\nDid you mean this?\n" + suggestions.map { "\t" + $0 + "\n" }.joined()
        }
        return message + "\nRun 'podctl --help' for usage."
    }

    /// Levenshtein distance, as cobra's suggestions measure it.
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() {
                current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
            }
            previous = current
        }
        return previous[b.count]
    }

    /// kubectl takes its global flags before the verb too (`podctl --socket S get pods`);
    /// ArgumentParser reads a subcommand's options only after it. Moves leading `--socket`
    /// and `-n/--namespace` (with their values) behind the verb, before any `--`.
    static func moveLeadingGlobalOptions(_ arguments: [String]) -> [String] {
        var moved: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if argument.hasPrefix("--socket=") || argument.hasPrefix("--namespace=") {
                moved.append(argument)
                index += 1
            } else if ["--socket", "--namespace", "-n"].contains(argument), index + 1 < arguments.count {
                moved += [argument, arguments[index + 1]]
                index += 2
            } else {
                break
            }
        }
        guard !moved.isEmpty else { return arguments }
        var rest = Array(arguments[index...])
        let insertAt = rest.firstIndex(of: "--") ?? rest.endIndex
        rest.insert(contentsOf: moved, at: insertAt)
        return rest
    }

    /// kubectl accepts `--flag=true` and `--flag=false` for every boolean flag; ArgumentParser
    /// takes no value on a flag. Rewrites those forms of podctl's flags before parsing:
    /// `--wait=false` becomes `--no-wait`, `--follow=true` becomes `--follow`, and a false
    /// flag without a `--no-` form is dropped.
    static func normalizeBooleanFlags(_ arguments: [String]) -> [String] {
        // Arrays, not Sets: the first Set<String> makes the runtime scan every conformance of
        // podctl for String: Hashable, a tenth of an exec's start-up (QuickArguments).
        let invertible = ["wait"]
        let plain = [
            "watch", "follow", "previous", "timestamps", "all-namespaces", "ignore-not-found", "now", "force",
            "no-headers", "client", "stdin", "tty",
        ]
        var result: [String] = []
        var passThrough = false
        for argument in arguments {
            if passThrough || argument == "--" {
                passThrough = true
                result.append(argument)
                continue
            }
            guard argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") else {
                result.append(argument)
                continue
            }
            let name = String(argument[argument.index(argument.startIndex, offsetBy: 2)..<equals])
            let value = argument[argument.index(after: equals)...].lowercased()
            guard invertible.contains(name) || plain.contains(name), ["true", "false", "1", "0", "t", "f"].contains(value) else {
                result.append(argument)
                continue
            }
            let isTrue = ["true", "1", "t"].contains(value)
            if isTrue {
                result.append("--" + name)
            } else if invertible.contains(name) {
                result.append("--no-" + name)
            }
        }
        return result
    }
}

/// podctl's own version, printed by `podctl version` and sent as its User-Agent.
public enum PodctlVersion {
    public static let gitVersion = "v0.1.0"
}
