import PodModel
import ArgumentParser

extension Podctl.Image {
    /// `podctl image ls`: the images in podd's store, one row per name, as `podman images`.
    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List images: REPOSITORY, TAG, IMAGE ID, CREATED, SIZE.",
            aliases: ["list"]
        )

        @Flag(name: .long, help: "Show each image's digest (the manifest or index it was resolved to).")
        var digests = false

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output format: json, yaml or name.", valueName: "format"))
        var output: String?

        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if let output, !["json", "yaml", "name"].contains(output) {
                throw ValidationError("--output must be json, yaml or name")
            }
        }

        public func run() throws {
            let list = try connection.client.json("GET", PoddClient.imagesPath)
            let items = list["items"].array
            switch output {
            case "json":
                Output.write(list.sortedKeys.kubectlJSONText)
            case "yaml":
                Output.write(try list.sortedKeys.kubectlYAMLText())
            case "name":
                for item in items { for row in ImageRow.rows(item) { Output.write("image/\(row.reference)\n") } }
            default:
                var table = TabWriter.table()
                table.row(digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                                  : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
                let now = Clock.now()
                for item in items {
                    for row in ImageRow.rows(item) {
                        var cells = [row.repository, row.tag]
                        if digests { cells.append(row.digest) }
                        cells += [row.shortID, row.created(now: now), row.size]
                        table.row(cells)
                    }
                }
                Output.write(table.flush())
            }
        }
    }
}

/// One row of `image ls`: one name of an image (or `<none>` for an image without one).
struct ImageRow {
    var repository: String
    var tag: String
    var id: String
    var digest: String
    var sizeBytes: Int?
    var createdAt: String

    static func rows(_ item: JSONValue) -> [ImageRow] {
        let tags = item["RepoTags"].array.map(\.string)
        let names: [(String, String)] = tags.isEmpty ? [("<none>", "<none>")] : tags.map { tag in
            // The tag follows the last ':' after the last '/' (a registry's port stays).
            if let colon = tag.lastIndex(of: ":"), !tag[colon...].contains("/") {
                return (String(tag[..<colon]), String(tag[tag.index(after: colon)...]))
            }
            return (tag, "<none>")
        }
        return names.map { repository, tag in
            ImageRow(repository: repository, tag: tag, id: item["Id"].string, digest: item["Digest"].string,
                     sizeBytes: item["Size"].lenientInt, createdAt: item["Created"].string)
        }
    }

    var reference: String { tag == "<none>" ? shortID : "\(repository):\(tag)" }

    /// The first 12 hex digits of the config digest, as docker and podman show image IDs.
    var shortID: String {
        let hex = id.hasPrefix("sha256:") ? String(id.dropFirst(7)) : id
        return String(hex.prefix(12))
    }

    /// podman's SIZE: three significant digits, SI units, a space before the unit.
    var size: String {
        guard let sizeBytes else { return "<unknown>" }
        return imageSize(sizeBytes)
    }

    func created(now: Double) -> String {
        guard let then = Clock.parseRFC3339(createdAt) else { return "<unknown>" }
        return dockerHumanDuration(now - then) + " ago"
    }
}

/// docker's "About an hour" style (go-units HumanDuration), for the CREATED column.
func dockerHumanDuration(_ seconds: Double) -> String {
    let whole = Int(seconds)
    if whole < 1 { return "Less than a second" }
    if whole == 1 { return "1 second" }
    if whole < 60 { return "\(whole) seconds" }
    let minutes = whole / 60
    if minutes == 1 { return "About a minute" }
    if minutes < 60 { return "\(minutes) minutes" }
    let hours = Int(seconds / 3600 + 0.5)
    if hours == 1 { return "About an hour" }
    if hours < 48 { return "\(hours) hours" }
    if hours < 24 * 7 * 2 { return "\(hours / 24) days" }
    if hours < 24 * 30 * 2 { return "\(hours / 24 / 7) weeks" }
    if hours < 24 * 365 * 2 { return "\(hours / 24 / 30) months" }
    return "\(Int(seconds / 3600) / 24 / 365) years"
}
