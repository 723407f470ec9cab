import ArgumentParser
import PodModel

extension Podctl {
    /// `podctl create serviceaccount NAME`, as kubectl's generator makes one (a name, nothing
    /// else).
    struct CreateServiceAccount: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "serviceaccount",
            abstract: "Create a serviceaccount.",
            aliases: ["sa"]
        )

        @Argument(help: "The ServiceAccount's name.")
        var name: String

        @OptionGroup var options: CreateOutputOptions

        func run() throws {
            let object: JSONValue = [
                "apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": .object(JSONObject([("name", .string(name))])),
            ]
            try options.emit(object, resource: .serviceAccounts)
        }
    }
}
