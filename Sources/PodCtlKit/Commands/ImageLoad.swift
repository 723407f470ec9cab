import PodModel
import ArgumentParser

extension Podctl.Image {
    /// `podctl image load -i ARCHIVE|OCI-DIR`: loads the images of a docker-archive,
    /// oci-archive or OCI layout directory.
    public struct Load: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Load images from a docker-archive, an oci-archive or an OCI layout directory.",
            discussion: """
                ARCHIVE is what `docker save`, `podman save` or `skopeo copy ... docker-archive:` / \
                `oci-archive:` write, plain or gzip'd; a directory is an OCI image layout (sent as \
                a tar stream); - reads an archive from stdin. Every image of the archive is loaded \
                with its tags; names without a registry become localhost/NAME:TAG.

                With --name, ARCHIVE is a root filesystem tarball imported as that image, exactly as \
                `podctl image import NAME[:TAG] ARCHIVE` does.

                Examples:
                  docker save nginx:1.27 | podctl image load -i -
                  podctl image load -i app.tar.gz
                  podctl image load -i ./oci-layout/
                """
        )

        @Option(name: [.short, .customLong("input")], help: ArgumentHelp("The archive, an OCI layout directory, or - for stdin.", valueName: "archive"))
        var input: String

        @Option(name: .long, help: ArgumentHelp("Import ARCHIVE as a root filesystem under this name instead.", valueName: "name[:tag]"))
        var name: String?

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            if let name {
                let image = try ImageReference(parsing: name)
                try Import.importImage(image, from: input, client: connection.client)
                Output.write("image/\(image.description) imported\n")
                return
            }
            let answer = try Import.upload(input, to: PoddClient.imagesPath + "/load", query: [], client: connection.client)
            for item in answer["items"].array {
                let tags = item["RepoTags"].array.map(\.string)
                if tags.isEmpty {
                    Output.write("Loaded image: \(item["Id"].string)\n")
                } else {
                    for tag in tags { Output.write("Loaded image: \(tag)\n") }
                }
            }
        }
    }
}
