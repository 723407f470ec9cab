import PodModel
import ArgumentParser
import Glibc

extension Podctl.Image {
    /// `podctl image import NAME[:TAG] ROOTFS.tar|DIR|-`: adds a root filesystem to podd's store.
    public struct Import: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Import a root filesystem (tarball, gzip tarball or directory) as an image.",
            discussion: """
                A tarball (plain or gzip; podd recognizes which) is sent as is; a directory is packed \
                on the fly with tar --numeric-owner; - reads a tarball from stdin. The tag defaults \
                to latest.

                Examples:
                  podctl image import busybox rootfs.tar
                  podctl image import app:1.2 ./rootfs/
                  docker export $(docker create alpine) | podctl image import alpine -
                """
        )

        @Argument(help: ArgumentHelp("The image name and optional tag.", valueName: "name[:tag]"))
        var reference: String

        @Argument(help: ArgumentHelp("A rootfs tarball, a directory, or - for stdin.", valueName: "rootfs"))
        var source: String

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let image = try ImageReference(parsing: reference)
            try Self.importImage(image, from: source, client: connection.client)
            Output.write("image/\(image.description) imported\n")
        }

        static func importImage(_ image: ImageReference, from source: String, client: PoddClient) throws {
            _ = try upload(source, to: PoddClient.imagesPath, query: [("name", image.name), ("tag", image.tag)], client: client)
        }

        /// POSTs `source` (a file, a directory sent as a tar stream, or - for stdin) to `path`.
        static func upload(_ source: String, to path: String, query: [(String, String)], client: PoddClient) throws -> JSONValue {
            let contentType = "application/x-tar"
            if source == "-" {
                let body = HTTPRequestBody.stream(fd: 0, contentType: contentType, beforeEnd: {})
                return try client.json("POST", path, query: query, requestBody: body)
            }
            switch FileSystem.kind(of: source) {
            case nil:
                throw PodctlError("the path \"\(source)\" does not exist")
            case .directory:
                let tar = try TarProcess(directory: source)
                do {
                    let body = HTTPRequestBody.stream(fd: tar.output, contentType: contentType, beforeEnd: { () throws(PodctlError) in
                        try tar.finish()
                    })
                    let answer = try client.json("POST", path, query: query, requestBody: body)
                    tar.abandon()
                    return answer
                } catch {
                    tar.abandon()
                    throw error
                }
            case .other:
                let fd = open(source, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw PodctlError("cannot read \(source): \(errorText(errno))") }
                defer { close(fd) }
                var info = stat()
                guard fstat(fd, &info) == 0 else { throw PodctlError("cannot read \(source): \(errorText(errno))") }
                let body: HTTPRequestBody
                if (info.st_mode & S_IFMT) == S_IFREG {
                    body = .file(fd: fd, length: Int(info.st_size), contentType: contentType)
                } else {
                    // A pipe or a device: its size is unknown until it ends.
                    body = .stream(fd: fd, contentType: contentType, beforeEnd: {})
                }
                return try client.json("POST", path, query: query, requestBody: body)
            }
        }
    }
}
