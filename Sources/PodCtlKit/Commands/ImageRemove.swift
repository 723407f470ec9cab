import ArgumentParser

extension Podctl.Image {
    /// `podctl image rm IMAGE...`: untags images (an image goes with its last name).
    public struct Remove: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove images (by name or ID); the last name of an image a pod uses only with --force.",
            discussion: """
                As docker and podman rmi: a name of an image that has other names just goes \
                (untagged), whatever pods use the image; the image goes with its last name. \
                Removing the last name of an image a pod uses, or the image by ID, is refused \
                unless --force.
                """,
            aliases: ["remove"]
        )

        @Argument(help: ArgumentHelp("The images to remove: names (the tag defaults to latest) or IDs.", valueName: "image"))
        var references: [String]

        @Flag(name: [.short, .long], help: "Untag an image's last name (or all, by ID) even when a pod uses it (it stays until no pod does).")
        var force = false

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if references.isEmpty { throw ValidationError("name at least one image to remove") }
        }

        public func run() throws {
            let client = connection.client
            var failure: Error?
            for text in references {
                do {
                    let answer = try client.json("DELETE", PoddClient.imagesPath + "/" + text.split(separator: "/").map { PoddClient.pathSegment(String($0)) }.joined(separator: "/"),
                                                 query: force ? [("force", "true")] : [])
                    for name in answer["untagged"].array { Output.write("Untagged: \(name.string)\n") }
                    for id in answer["deleted"].array { Output.write("Deleted: \(id.string)\n") }
                } catch let error as APIStatusError {
                    if let earlier = failure as? APIStatusError { Output.error(earlier.description) }
                    failure = error
                }
            }
            if let failure { throw failure }
        }
    }
}
