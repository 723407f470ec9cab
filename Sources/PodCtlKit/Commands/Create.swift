import ArgumentParser
import Glibc
import PodModel

extension Podctl {
    /// `podctl create configmap|secret|serviceaccount ...`: kubectl's generators for those objects.
    public struct Create: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Create a configmap or a secret from literals, files or env files, or a serviceaccount.",
            discussion: """
                Examples:
                  podctl create configmap app --from-literal mode=fast --from-file app.conf
                  podctl create secret generic db --from-literal password=s3cret
                  podctl create secret tls web --cert tls.crt --key tls.key
                  podctl create secret docker-registry pull --docker-server registry.example --docker-username u --docker-password p
                  podctl create configmap app --from-env-file app.env --dry-run=client -o yaml
                  podctl create serviceaccount builder
                """,
            subcommands: [CreateConfigMap.self, CreateSecret.self, CreateServiceAccount.self]
        )

        public init() {}
    }
}

/// The options every `create` generator shares: where the object goes and how it is shown.
public struct CreateOutputOptions: ParsableArguments {
    @Option(name: .customLong("dry-run"), help: ArgumentHelp("none (default), client (print, do not send) or server.", valueName: "strategy"))
    var dryRun: String = "none"

    @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output format: json, yaml or name.", valueName: "format"))
    var output: OutputFormat?

    @OptionGroup var namespaceOptions: NamespaceOptions
    @OptionGroup var connection: ConnectionOptions

    public init() {}

    public func validate() throws {
        guard ["none", "client", "server", "true", "false"].contains(dryRun) else {
            throw ValidationError("Invalid dry-run value (\(dryRun)). Must be \"none\", \"server\", or \"client\".")
        }
        if output == .wide { throw ValidationError("unable to match a printer suitable for the output format \"wide\"") }
    }

    /// Sends (or with --dry-run=client, only prints) `object`, kubectl's way.
    func emit(_ object: JSONValue, resource: ResourceArguments.Resource) throws {
        var object = object
        if let namespace = namespaceOptions.namespace { object["metadata"]["namespace"] = .string(namespace) }
        let name = object["metadata"]["name"].string
        let clientOnly = dryRun == "client" || dryRun == "true"
        var shown = object
        if !clientOnly {
            let namespace = namespaceOptions.namespaceOrDefault
            let query: [(String, String)] = dryRun == "server" ? [("dryRun", "All")] : []
            shown = try connection.client.json("POST", resource.path(namespace: namespace), query: query, body: object)
        } else {
            // What kubectl's generators print: a creationTimestamp of null.
            shown["metadata"]["creationTimestamp"] = .null
        }
        switch output {
        case .json: Output.write(shown.sortedKeys.kubectlJSONText)
        case .yaml: Output.write(try shown.sortedKeys.kubectlYAMLText())
        case .name: Output.write("\(resource.singular)/\(name)\n")
        case .wide, nil:
            Output.write("\(resource.singular)/\(name) created\(clientOnly ? " (dry run)" : dryRun == "server" ? " (server dry run)" : "")\n")
        }
    }
}

/// Reads `--from-literal`, `--from-file` and `--from-env-file` as kubectl does.
enum ConfigDataSources {
    /// The keys and bytes of the sources, in kubectl's order (env files, files, literals);
    /// a key given twice is an error naming it.
    static func read(literals: [String], files: [String], envFiles: [String], kind: String, name: String) throws -> [(String, [UInt8])] {
        var entries: [(String, [UInt8])] = []
        func add(_ key: String, _ value: [UInt8]) throws(PodctlError) {
            let problems = ConfigDataValidation.keyErrors(key)
            if !problems.isEmpty { throw PodctlError("\(key) is not a valid key name for a \(kind): \(problems.joined(separator: "; "))") }
            if entries.contains(where: { $0.0 == key }) {
                throw PodctlError("cannot add key \(key), another key by that name already exists in Data for \(kind) \"\(name)\"")
            }
            entries.append((key, value))
        }
        for path in envFiles {
            let text = String(decoding: try FileSystem.readFile(path), as: UTF8.self)
            for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                var line = Substring(raw)
                if number == 0, line.hasPrefix("\u{FEFF}") { line = line.dropFirst() }
                let trimmed = line.drop { $0 == " " || $0 == "\t" }
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                if let eq = trimmed.firstIndex(of: "=") {
                    let key = String(trimmed[..<eq])
                    guard EnvironmentVariableName.isValid(key) else {
                        throw PodctlError("\"\(key)\" is not a valid key name: a valid environment variable name must consist only of printable ASCII characters other than '='")
                    }
                    try add(key, Array(trimmed[trimmed.index(after: eq)...].utf8))
                } else if let value = getenv(String(trimmed)) {
                    // A bare name takes its value from podctl's environment, as kubectl does.
                    try add(String(trimmed), Array(String(cString: value).utf8))
                }
            }
        }
        for source in files {
            var key: String?
            var path = source
            if let eq = source.firstIndex(of: "=") {
                key = String(source[..<eq])
                path = String(source[source.index(after: eq)...])
                if key?.isEmpty ?? true || path.isEmpty { throw PodctlError("key names or file paths cannot be empty: \(source)") }
            }
            switch FileSystem.kind(of: path) {
            case nil:
                throw PodctlError("error reading \(path): no such file or directory")
            case .directory?:
                if key != nil { throw PodctlError("cannot give a key name for a directory path") }
                for entry in try FileSystem.listDirectory(path).sorted() {
                    let file = FileSystem.join(path, entry)
                    // Regular files whose names are valid keys; the rest is skipped, as kubectl does.
                    guard FileSystem.kind(of: file) == .other, ConfigDataValidation.keyErrors(entry).isEmpty else { continue }
                    try add(entry, try FileSystem.readFile(file))
                }
            case .other?:
                let base = String(path.split(separator: "/").last ?? Substring(path))
                try add(key ?? base, try FileSystem.readFile(path))
            }
        }
        for literal in literals {
            guard let eq = literal.firstIndex(of: "="), eq != literal.startIndex else {
                throw PodctlError("invalid literal source \(literal), expected key=value")
            }
            try add(String(literal[..<eq]), Array(literal[literal.index(after: eq)...].utf8))
        }
        return entries
    }
}
