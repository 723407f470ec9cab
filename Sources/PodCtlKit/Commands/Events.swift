import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl events`: the events of a namespace (or all), as `kubectl events` lists them.
    public struct Events: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "List events: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE.",
            discussion: """
                Examples:
                  podctl events
                  podctl events -A
                  podctl events --for pod/web -w
                """
        )

        @Flag(name: [.short, .long], help: "After listing, watch for new events.")
        var watch = false

        @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List the events of every namespace.")
        var allNamespaces = false

        @Option(name: .customLong("for"), help: ArgumentHelp("Only the events of this object (pod/NAME or NAME).", valueName: "object"))
        var forObject: String?

        @Flag(name: .customLong("no-headers"), help: "Print the table without its header.")
        var noHeaders = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let client = connection.client
            let namespace = allNamespaces ? nil : namespaceOptions.namespaceOrDefault
            let path = PoddClient.eventsPath(namespace: namespace)
            var query: [(String, String)] = []
            var objectName: String?
            if let forObject {
                let name = forObject.split(separator: "/", maxSplits: 1).last.map(String.init) ?? forObject
                objectName = name
                query.append(("fieldSelector", "involvedObject.name=\(name)"))
            }
            let matches: (JSONValue) -> Bool = { event in
                objectName == nil || event["involvedObject"]["name"].string == objectName
            }
            var table = TabWriter.table()
            var printedHeader = noHeaders
            func addRows(_ events: [JSONValue]) {
                guard !events.isEmpty else { return }
                if !printedHeader { table.row(EventFormat.headers(withNamespace: allNamespaces)) }
                printedHeader = true
                let now = Clock.now()
                for event in events { table.row(EventFormat.cells(event, withNamespace: allNamespaces, now: now)) }
            }

            if watch {
                // Rows are printed whenever podd pauses, so a burst of events is laid out together.
                try client.watch(path, query: query, onIdle: { Output.write(table.flush()) }) { event in
                    let type = event["type"].string
                    guard type == "ADDED" || type == "MODIFIED" else { return }
                    if let object = event["object"], matches(object) { addRows([object]) }
                }
                return
            }
            let events = EventFormat.sorted(try client.json("GET", path, query: query)["items"].array.filter(matches))
            if events.isEmpty {
                Output.error(namespace.map { "No events found in \($0) namespace." } ?? "No events found.")
                return
            }
            addRows(events)
            Output.write(table.flush())
        }
    }
}
