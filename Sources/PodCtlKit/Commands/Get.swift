import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl get pods [NAME...]`: a table as kubectl prints it, or the objects.
    public struct Get: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Display one or many pods, configmaps or secrets.",
            discussion: """
                Prints a table of pods (NAME READY STATUS RESTARTS AGE, as kubectl), or the objects \
                with -o json|yaml, or pod/NAME with -o name. -o wide adds IP, NODE, NOMINATED NODE \
                and READINESS GATES. With -w, follows changes and prints a row per change.

                Examples:
                  podctl get pods
                  podctl get pod web -o yaml
                  podctl get pods -A -o wide
                  podctl get pods -w
                  podctl get configmaps
                  podctl get secret db-creds -o yaml
                """
        )

        @Argument(help: ArgumentHelp("The resource type (pods, po; configmaps, cm; secrets; events) and optional names, or TYPE/NAME.", valueName: "type [name...]"))
        var arguments: [String] = []

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Output format: wide, json, yaml or name.", valueName: "format"))
        var output: OutputFormat?

        @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "List the pods of every namespace.")
        var allNamespaces = false

        @Flag(name: [.short, .long], help: "After listing, watch for changes and print a row per change.")
        var watch = false

        @Flag(name: .customLong("no-headers"), help: "Print the table without its header.")
        var noHeaders = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let resource = try ResourceArguments.parse(arguments, verb: "get", allowed: [.pods, .events, .configMaps, .secrets])
            if allNamespaces && !resource.names.isEmpty {
                throw PodctlError("a resource cannot be retrieved by name across all namespaces")
            }
            let client = connection.client
            let namespace = allNamespaces ? nil : namespaceOptions.namespaceOrDefault
            let printer = ObjectPrinter(
                resource: resource.resource, format: output, withNamespace: allNamespaces, noHeaders: noHeaders)

            if watch {
                try watchObjects(client: client, resource: resource, namespace: namespace, printer: printer)
                return
            }

            if resource.names.isEmpty {
                let path = resource.resource.path(namespace: namespace)
                let list = try client.json("GET", path)
                var items = list["items"].array
                if resource.resource == .events { items = EventFormat.sorted(items) }
                if items.isEmpty && (output == nil || output == .wide || output == .name) {
                    Output.error(namespace.map { "No resources found in \($0) namespace." } ?? "No resources found")
                    return
                }
                Output.write(try printer.render(items, asList: true))
                return
            }

            // Named objects: print those found, then fail on the first that was not.
            var found: [JSONValue] = []
            var failure: Error?
            for name in resource.names {
                let path: String
                switch resource.resource {
                case .pods: path = PoddClient.podPath(namespace: namespace ?? "default", name: name)
                case .events: path = PoddClient.eventsPath(namespace: namespace) + "/" + PoddClient.pathSegment(name)
                case .configMaps, .secrets: path = resource.resource.path(namespace: namespace ?? "default", name: name)
                }
                do {
                    found.append(try client.json("GET", path))
                } catch let error as APIStatusError {
                    if failure == nil { failure = error }
                }
            }
            if !found.isEmpty {
                Output.write(try printer.render(found, asList: resource.names.count > 1))
            }
            if let failure { throw failure }
        }

        private func watchObjects(client: PoddClient, resource: ResourceArguments, namespace: String?, printer: ObjectPrinter) throws {
            var printer = printer
            let path = resource.resource.path(namespace: namespace)
            let names = Set(resource.names)
            // Rows are gathered while events keep arriving and printed when podd pauses, so
            // the first rows (the existing pods) are laid out together, as kubectl lists them.
            try client.watch(path, onIdle: { Output.write(printer.takeWatched()) }) { event in
                let type = event["type"].string
                guard type == "ADDED" || type == "MODIFIED" || type == "DELETED" else { return }
                guard let object = event["object"] else { return }
                if !names.isEmpty && !names.contains(object["metadata"]["name"].string) { return }
                try printer.addWatched(object)
            }
        }
    }
}

/// Prints pods (or events) in the format `-o` asks for.
struct ObjectPrinter {
    var resource: ResourceArguments.Resource
    var format: OutputFormat?
    var withNamespace: Bool
    var noHeaders: Bool
    private var table = TabWriter.table()
    private var printedHeader = false
    private var printedObjects = 0
    private var pending = ""

    init(resource: ResourceArguments.Resource, format: OutputFormat?, withNamespace: Bool, noHeaders: Bool) {
        self.resource = resource
        self.format = format
        self.withNamespace = withNamespace
        self.noHeaders = noHeaders
    }

    private var kind: String { resource.kind }

    /// Items as a whole answer: a table, or the objects (a `List` when `asList`, as kubectl
    /// prints a list or several names).
    func render(_ items: [JSONValue], asList: Bool) throws(PodctlError) -> String {
        switch format {
        case .json, .yaml:
            let value = asList ? list(items) : withKind(items[0])
            return format == .json ? value.sortedKeys.kubectlJSONText : try value.sortedKeys.kubectlYAMLText()
        case .name:
            return items.map { "\(resource.singular)/\($0["metadata"]["name"].string)\n" }.joined()
        case .wide, nil:
            var writer = TabWriter.table()
            if !noHeaders { writer.row(headers) }
            let now = Clock.now()
            for item in items { writer.row(cells(item, now: now)) }
            return writer.flush()
        }
    }

    /// Adds one object of a watch: a row (under a header printed once), or the object.
    mutating func addWatched(_ object: JSONValue) throws(PodctlError) {
        defer { printedObjects += 1 }
        switch format {
        case .json:
            pending += withKind(object).sortedKeys.kubectlJSONText
        case .yaml:
            pending += (printedObjects > 0 ? "---\n" : "") + (try withKind(object).sortedKeys.kubectlYAMLText())
        case .name:
            pending += "\(resource.singular)/\(object["metadata"]["name"].string)\n"
        case .wide, nil:
            if !printedHeader && !noHeaders { table.row(headers) }
            printedHeader = true
            table.row(cells(object, now: Clock.now()))
        }
    }

    /// What the watched objects added so far print as.
    mutating func takeWatched() -> String {
        defer { pending = "" }
        return pending + table.flush()
    }

    private var headers: [String] {
        switch resource {
        case .pods:
            return (withNamespace ? ["NAMESPACE"] : []) + PodRow.headers + (format == .wide ? PodRow.wideHeaders : [])
        case .events:
            return EventFormat.headers(withNamespace: withNamespace)
        case .configMaps, .secrets:
            return ConfigDataRow.headers(resource, withNamespace: withNamespace)
        }
    }

    private func cells(_ object: JSONValue, now: Double) -> [String] {
        switch resource {
        case .pods: return PodRow(pod: object, now: now).cells(wide: format == .wide, withNamespace: withNamespace)
        case .events: return EventFormat.cells(object, withNamespace: withNamespace, now: now)
        case .configMaps, .secrets: return ConfigDataRow.cells(object, resource: resource, withNamespace: withNamespace, now: now)
        }
    }

    /// Items of a list carry no kind; kubectl adds it when it prints them.
    private func withKind(_ object: JSONValue) -> JSONValue {
        var object = object
        if object["kind"].isNull { object["kind"] = .string(kind) }
        if object["apiVersion"].isNull { object["apiVersion"] = "v1" }
        return object
    }

    private func list(_ items: [JSONValue]) -> JSONValue {
        [
            "apiVersion": "v1",
            "items": .array(items.map(withKind)),
            "kind": "List",
            "metadata": ["resourceVersion": ""],
        ]
    }
}
