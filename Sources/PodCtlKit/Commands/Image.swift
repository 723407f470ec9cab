import ArgumentParser

extension Podctl {
    /// `podctl image ...`: podd's local image store.
    public struct Image: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Manage podd's images: pull, import, load, list, inspect, tag, remove, prune.",
            subcommands: [Import.self, Load.self, Pull.self, List.self, Inspect.self, Tag.self, Remove.self, Prune.self]
        )

        public init() {}
    }
}

/// An image reference as podctl takes it: `NAME[:TAG]`, the tag `latest` when absent.
struct ImageReference: Equatable {
    var name: String
    var tag: String

    /// Splits at the last `:` after the last `/`, so `registry:5000/app` keeps its port.
    init(parsing text: String) throws(PodctlError) {
        var name = Substring(text)
        var tag = "latest"
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
            name = text[..<colon]
            tag = String(text[text.index(after: colon)...])
        }
        guard !name.isEmpty, !tag.isEmpty, !text.contains("@") else {
            throw PodctlError("invalid image reference \"\(text)\": expected NAME[:TAG]")
        }
        self.name = String(name)
        self.tag = tag
    }

    var description: String { "\(name):\(tag)" }
}
