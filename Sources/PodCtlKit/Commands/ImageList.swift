import PodModel
import ArgumentParser

extension Podctl.Image {
    /// `podctl image ls`: the images in podd's store.
    public struct List: ParsableCommand {
        public static let configuration = CommandConfiguration(
            commandName: "ls",
            abstract: "List images: REPOSITORY, TAG, SIZE, CREATED.",
            aliases: ["list"]
        )

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
                for item in items { Output.write("image/\(ImageRow(item).reference)\n") }
            default:
                var table = TabWriter.table()
                table.row(["REPOSITORY", "TAG", "SIZE", "CREATED"])
                let now = Clock.now()
                for item in items {
                    let row = ImageRow(item)
                    table.row([row.name, row.tag, row.size, row.created(now: now)])
                }
                Output.write(table.flush())
            }
        }
    }
}

/// One image of `image ls`.
struct ImageRow {
    var name: String
    var tag: String
    var sizeBytes: Int?
    var creationTimestamp: String

    init(_ item: JSONValue) {
        var name = item["name"].string
        var tag = item["tag"].string
        // Fall back on metadata.name (NAME:TAG) for a server that sends only that.
        if name.isEmpty, let reference = try? ImageReference(parsing: item["metadata"]["name"].string) {
            name = reference.name
            if tag.isEmpty { tag = reference.tag }
        }
        self.name = name
        self.tag = tag.isEmpty ? "<none>" : tag
        sizeBytes = item["size"].lenientInt
        creationTimestamp = item["metadata"]["creationTimestamp"].string
    }

    var reference: String { "\(name):\(tag)" }

    var size: String { sizeBytes.map(humanSize) ?? "<unknown>" }

    func created(now: Double) -> String {
        guard let then = Clock.parseRFC3339(creationTimestamp) else { return "<unknown>" }
        return dockerHumanDuration(now - then) + " ago"
    }
}

/// A size in SI units with three significant digits, as `docker images` prints it
/// (go-units HumanSizeWithPrecision(size, 3)): `980B`, `4.27MB`, `1.2GB`.
func humanSize(_ bytes: Int) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"]
    var size = Double(bytes)
    var unit = 0
    while size >= 1000, unit < units.count - 1 {
        size /= 1000
        unit += 1
    }
    return formatSignificant(size, digits: 3) + units[unit]
}

/// `%.Ng` for values below 1000: N significant digits, trailing zeros dropped.
func formatSignificant(_ value: Double, digits: Int) -> String {
    guard value != 0 else { return "0" }
    var magnitude = 0
    var probe = abs(value)
    while probe >= 10 { probe /= 10; magnitude += 1 }
    while probe < 1 { probe *= 10; magnitude -= 1 }
    let decimals = max(0, digits - 1 - magnitude)
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let rounded = (value * scale).rounded() / scale
    var text = decimals == 0 ? String(Int(rounded)) : String(rounded)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return text
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
