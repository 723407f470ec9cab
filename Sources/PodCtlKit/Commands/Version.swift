import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl version`: podctl's version and podd's (GET /version).
    public struct Version: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Print the client and server versions."
        )

        @Flag(name: .long, help: "Print the client version only.")
        var client = false

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output format: json or yaml.", valueName: "format"))
        var output: String?

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if let output, output != "json" && output != "yaml" {
                throw ValidationError("--output must be 'yaml' or 'json'")
            }
        }

        public func run() throws {
            let clientInfo: JSONValue = ["gitVersion": .string(PodctlVersion.gitVersion), "platform": .string("linux/\(Self.architecture)")]
            var serverInfo: JSONValue?
            var failure: Error?
            if !client {
                do {
                    serverInfo = try connection.client.json("GET", "/version")
                } catch {
                    failure = error
                }
            }
            if let output {
                var document: JSONValue = ["clientVersion": clientInfo]
                if let serverInfo { document["serverVersion"] = serverInfo }
                Output.write(output == "json" ? document.kubectlJSONText : try document.kubectlYAMLText())
            } else {
                Output.write("Client Version: \(PodctlVersion.gitVersion)\n")
                if let serverInfo { Output.write("Server Version: \(serverInfo["gitVersion"].string)\n") }
            }
            if let failure { throw failure }
        }

        static var architecture: String {
            #if arch(x86_64)
            return "amd64"
            #elseif arch(arm64)
            return "arm64"
            #else
            return "unknown"
            #endif
        }
    }
}
