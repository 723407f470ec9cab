import ArgumentParser

extension Podctl.Image {
    /// `podctl image rm NAME[:TAG]...`: removes images from podd's store.
    public struct Remove: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "rm",
            abstract: "Remove images.",
            aliases: ["remove"]
        )

        @Argument(help: ArgumentHelp("The images to remove (the tag defaults to latest).", valueName: "name[:tag]"))
        var references: [String]

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if references.isEmpty { throw ValidationError("name at least one image to remove") }
        }

        public func run() throws {
            let client = connection.client
            var failure: Error?
            for text in references {
                let image = try ImageReference(parsing: text)
                do {
                    _ = try client.json("DELETE", PoddClient.imagesPath + "/" + image.description.split(separator: "/").map { PoddClient.pathSegment(String($0)) }.joined(separator: "/"))
                    Output.write("image/\(image.description) removed\n")
                } catch let error as APIStatusError {
                    if let earlier = failure as? APIStatusError { Output.error(earlier.description) }
                    failure = error
                }
            }
            if let failure { throw failure }
        }
    }
}
