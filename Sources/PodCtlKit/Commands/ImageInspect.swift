import PodModel
import ArgumentParser

extension Podctl.Image {
    /// `podctl image inspect IMAGE...`: the images as JSON (Id, RepoTags, RepoDigests,
    /// Config, RootFS, Size, Architecture, Os, Created), a list as docker and podman print.
    public struct Inspect: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Show images' details as JSON.")

        @Argument(help: ArgumentHelp("Images: names or IDs.", valueName: "image"))
        var references: [String]

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if references.isEmpty { throw ValidationError("name at least one image to inspect") }
        }

        public func run() throws {
            let client = connection.client
            var items: [JSONValue] = []
            for text in references {
                var item = try client.json("GET", PoddClient.imagesPath + "/" + text.split(separator: "/").map { PoddClient.pathSegment(String($0)) }.joined(separator: "/"))
                item["apiVersion"] = nil
                item["kind"] = nil
                item["metadata"] = nil
                items.append(item)
            }
            Output.write(JSONValue.array(items).kubectlJSONText)
        }
    }

    /// `podctl image tag SOURCE TARGET`: another name for an image.
    public struct Tag: ParsableCommand {
        public static let configuration = CommandConfiguration(abstract: "Give an image another name.")

        @Argument(help: ArgumentHelp("The image: a name or an ID.", valueName: "source"))
        var source: String

        @Argument(help: ArgumentHelp("The new name ([REGISTRY/]NAME[:TAG]; without a registry: localhost/NAME).", valueName: "target"))
        var target: String

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            _ = try connection.client.json("POST", PoddClient.imagesPath + "/tag", query: [("source", source), ("target", target)])
        }
    }

    /// `podctl image prune [-a]`: removes images no pod uses.
    public struct Prune: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Remove unused images: untagged ones, or with --all every image no pod uses, with their unshared layers."
        )

        @Flag(name: [.short, .long], help: "Remove every image no pod uses, not only untagged ones.")
        var all = false

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let answer = try connection.client.json("POST", PoddClient.imagesPath + "/prune", query: all ? [("all", "true")] : [])
            for id in answer["deleted"].array { Output.write("\(id.string)\n") }
            Output.write("Total reclaimed space: \(humanSize(answer["spaceReclaimed"].lenientInt ?? 0))\n")
        }
    }
}
