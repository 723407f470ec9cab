import ArgumentParser
import PodModel

extension Podctl {
    /// `podctl create configmap NAME --from-literal K=V --from-file [K=]PATH --from-env-file F`.
    struct CreateConfigMap: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "configmap",
            abstract: "Create a configmap from literals, files, directories or env files.",
            aliases: ["cm"]
        )

        @Argument(help: "The ConfigMap's name.")
        var name: String

        @Option(name: .customLong("from-literal"), help: ArgumentHelp("A key and value (repeatable).", valueName: "key=value"))
        var literals: [String] = []

        @Option(name: .customLong("from-file"), help: ArgumentHelp("A file (key: its name, or KEY=), or a directory's files (repeatable).", valueName: "[key=]path"))
        var files: [String] = []

        @Option(name: .customLong("from-env-file"), help: ArgumentHelp("KEY=VALUE lines (repeatable).", valueName: "file"))
        var envFiles: [String] = []

        @OptionGroup var options: CreateOutputOptions

        func run() throws {
            let entries = try ConfigDataSources.read(literals: literals, files: files, envFiles: envFiles, kind: "ConfigMap", name: name)
            var data: [(String, JSONValue)] = []
            var binary: [(String, JSONValue)] = []
            for (key, bytes) in entries {
                // Text that is not UTF-8 goes to binaryData, as kubectl puts it.
                if let text = String(validating: bytes, as: UTF8.self) {
                    data.append((key, .string(text)))
                } else {
                    binary.append((key, .string(PodModel.Base64.encode(bytes))))
                }
            }
            var object: JSONValue = [
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": .object(JSONObject([("name", .string(name))])),
            ]
            if !data.isEmpty { object["data"] = .object(JSONObject(data)) }
            if !binary.isEmpty { object["binaryData"] = .object(JSONObject(binary)) }
            try options.emit(object, resource: .configMaps)
        }
    }
}
