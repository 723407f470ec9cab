import ArgumentParser

extension Podctl {
    /// `podctl logs POD`: a container's output, streamed as podd sends it.
    public struct Logs: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Print the logs of a container in a pod.",
            discussion: """
                Without -c, a pod with one container shows that one; with several, the container \
                named by the kubectl.kubernetes.io/default-container annotation, else the first.

                Examples:
                  podctl logs web
                  podctl logs web -c sidecar -f
                  podctl logs web --tail 20 --timestamps
                  podctl logs web -p            # the previous instance, after a restart
                  podctl logs web --since 5m
                """
        )

        @Argument(help: ArgumentHelp("The pod (NAME or pod/NAME).", valueName: "pod"))
        var pod: String

        @Option(name: [.short, .long], help: ArgumentHelp("The container to show.", valueName: "container"))
        var container: String?

        @Flag(name: [.short, .long], help: "Keep streaming new output until the container ends or Ctrl-C.")
        var follow = false

        @Flag(name: [.short, .long], help: "Show the previous instance of the container (before its last restart).")
        var previous = false

        @Option(name: .long, help: ArgumentHelp("Show only the last N lines (-1: all).", valueName: "N"))
        var tail: Int = -1

        @Flag(name: .long, help: "Prefix each line with its RFC 3339 timestamp.")
        var timestamps = false

        @Option(name: .long, help: ArgumentHelp("Show only output newer than this duration (5s, 2m, 3h).", valueName: "duration"))
        var since: String?

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if let since, parseGoDuration(since) == nil {
                throw ValidationError("invalid argument \"\(since)\" for \"--since\" flag: time: invalid duration \"\(since)\"")
            }
            if tail < -1 { throw ValidationError("--tail must be -1 (all) or a count of lines") }
        }

        public func run() throws {
            let name = try Self.podName(pod)
            let namespace = namespaceOptions.namespaceOrDefault
            let client = connection.client
            let path = PoddClient.podPath(namespace: namespace, name: name)
            var query: [(String, String)] = []
            if let container {
                query.append(("container", container))
            } else {
                let object = try client.json("GET", path)
                if let chosen = defaultContainer(of: object) { query.append(("container", chosen)) }
            }
            if follow { query.append(("follow", "true")) }
            if previous { query.append(("previous", "true")) }
            if tail >= 0 { query.append(("tailLines", String(tail))) }
            if timestamps { query.append(("timestamps", "true")) }
            if let since, let seconds = parseGoDuration(since) {
                // kubectl rounds up to whole seconds.
                query.append(("sinceSeconds", String(max(1, Int(seconds.rounded(.up))))))
            }
            try client.stream("GET", path + "/log", query: query) { chunk in
                Output.write(chunk)
            }
        }

        static func podName(_ argument: String) throws(PodctlError) -> String {
            try PodCtlKit.podName(argument, verb: "logs")
        }
    }
}
