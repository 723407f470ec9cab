import ArgumentParser

extension Podctl.Image {
    /// `podctl image load -i ARCHIVE --name NAME[:TAG]`: for now, a rootfs tarball import.
    public struct Load: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Load an image from an archive (for now: a rootfs tarball, with --name).",
            discussion: """
                Not supported yet: `docker save` and OCI image archives (layers, manifests). \
                For now, load imports ARCHIVE as a root filesystem tarball (plain or gzip) under \
                the name given with --name, exactly as `podctl image import NAME[:TAG] ARCHIVE` does.

                Example:
                  podctl image load -i rootfs.tar.gz --name busybox:1.36
                """
        )

        @Option(name: [.short, .customLong("input")], help: ArgumentHelp("The archive: a rootfs tarball (plain or gzip), or - for stdin.", valueName: "archive"))
        var input: String

        @Option(name: .long, help: ArgumentHelp("The name and tag to import it as (required for now).", valueName: "name[:tag]"))
        var name: String?

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            guard let name else {
                throw PodctlError("podctl image load cannot read docker save or OCI archives yet; to import \(input) as a root filesystem tarball, pass --name NAME[:TAG]")
            }
            let image = try ImageReference(parsing: name)
            try Import.importImage(image, from: input, client: connection.client)
            Output.write("image/\(image.description) imported\n")
        }
    }
}
