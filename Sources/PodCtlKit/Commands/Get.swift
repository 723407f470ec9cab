import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl get TYPE[,TYPE...] [NAME...]` or `podctl get TYPE/NAME...`: tables as kubectl
    /// prints them, or the objects.
    public struct Get: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Display one or many pods, configmaps, secrets, serviceaccounts, poddisruptionbudgets, priorityclasses or events.",
            discussion: """
                Prints a table of pods (NAME READY STATUS RESTARTS AGE, as kubectl), or the objects \
                with -o json|yaml, or pod/NAME with -o name. -o wide adds IP, NODE, NOMINATED NODE \
                and READINESS GATES. With -w, follows changes and prints a row per change.

                Several types, comma-separated (cm,secrets), or TYPE/NAME pairs of mixed types \
                print a table per type, each with its header, a blank line between them, and \
                names as TYPE/NAME when more than one type is shown (as kubectl); -o json|yaml \
                prints them as one List. Names after comma-separated types are looked up in \
                each type. -w watches one type at a time.

                Examples:
                  podctl get pods
                  podctl get pod web -o yaml
                  podctl get pods -A -o wide
                  podctl get pods -w
                  podctl get configmaps
                  podctl get secret db-creds -o yaml
                  podctl get cm,secrets
                  podctl get pod/web configmap/app
                """
        )

        @Argument(help: ArgumentHelp("The resource types (pods, po; configmaps, cm; secrets; serviceaccounts, sa; poddisruptionbudgets, pdb; priorityclasses, pc; events), comma-separated, and optional names; or TYPE/NAME pairs.", valueName: "type[,type...] [name...]"))
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
            let request = try GetTargets.parse(arguments, allowed: [.pods, .events, .configMaps, .secrets, .podDisruptionBudgets, .priorityClasses,
                                                                    .serviceAccounts])
            let names = request.targets.compactMap { target -> String? in
                if case let .object(_, name) = target { return name }
                return nil
            }
            if allNamespaces && !names.isEmpty {
                throw PodctlError("a resource cannot be retrieved by name across all namespaces")
            }
            let client = connection.client
            let namespace = allNamespaces ? nil : namespaceOptions.namespaceOrDefault

            if watch {
                let resources = request.resources
                guard resources.count == 1 else {
                    throw PodctlError("watch is only supported on individual resources and resource collections, but \(resources.count) resource types were given (\(resources.map(\.plural).joined(separator: ", "))): watch one at a time")
                }
                let printer = ObjectPrinter(resource: resources[0], format: output, withNamespace: allNamespaces, noHeaders: noHeaders)
                try watchObjects(client: client, resource: resources[0], names: Set(names), namespace: namespace, printer: printer)
                return
            }

            // Each target in the order given; what is found is printed, then the first
            // failure of a named object fails the command (the others on stderr), as kubectl.
            var sections: [Section] = []
            var failures: [APIStatusError] = []
            for target in request.targets {
                var items: [JSONValue]
                switch target {
                case let .collection(resource):
                    items = try client.json("GET", resource.path(namespace: namespace))["items"].array
                    if resource == .events { items = EventFormat.sorted(items) }
                case let .object(resource, name):
                    do {
                        items = [try client.json("GET", Self.objectPath(resource, namespace: namespace ?? "default", name: name))]
                    } catch let error as APIStatusError {
                        failures.append(error)
                        continue
                    }
                }
                // A list's items carry no kind: each gets its own (a List of several types).
                items = items.map { ObjectPrinter.withKind($0, kind: target.resource.kind) }
                if let last = sections.last, last.resource == target.resource {
                    sections[sections.count - 1].items += items
                } else if !items.isEmpty {
                    sections.append(Section(resource: target.resource, items: items))
                }
            }
            if sections.isEmpty && failures.isEmpty && (output == nil || output == .wide || output == .name) {
                Output.error(namespace.map { "No resources found in \($0) namespace." } ?? "No resources found")
                return
            }
            // An empty List for -o json|yaml of collections; nothing when every name failed.
            if !sections.isEmpty || failures.isEmpty {
                Output.write(try render(sections, singleObject: request.singleObject))
            }
            guard let failure = failures.last else { return }
            for earlier in failures.dropLast() { Output.error(earlier.description) }
            throw failure
        }

        /// The objects of one type found one after another: a table of their own, as kubectl
        /// prints a section per resource type.
        struct Section {
            var resource: ResourceArguments.Resource
            var items: [JSONValue]
        }

        /// The sections as `-o` asks: tables, one per section with its own header and a blank
        /// line between them, NAME cells as `TYPE/NAME` when more than one type was found (as
        /// kubectl); names; or the objects (a List unless one object was asked for).
        func render(_ sections: [Section], singleObject: Bool) throws(PodctlError) -> String {
            func printer(_ resource: ResourceArguments.Resource, kindPrefix: Bool = false) -> ObjectPrinter {
                var printer = ObjectPrinter(resource: resource, format: output, withNamespace: allNamespaces, noHeaders: noHeaders)
                printer.kindPrefix = kindPrefix
                return printer
            }
            switch output {
            case .json, .yaml:
                return try printer(sections.first?.resource ?? .pods).render(sections.flatMap(\.items), asList: !singleObject)
            case .name:
                var text = ""
                for section in sections { text += try printer(section.resource).render(section.items, asList: true) }
                return text
            case .wide, nil:
                var types: [ResourceArguments.Resource] = []
                for section in sections where !types.contains(section.resource) { types.append(section.resource) }
                var tables: [String] = []
                for section in sections {
                    tables.append(try printer(section.resource, kindPrefix: types.count > 1).render(section.items, asList: true))
                }
                return tables.joined(separator: noHeaders ? "" : "\n")
            }
        }

        static func objectPath(_ resource: ResourceArguments.Resource, namespace: String, name: String) -> String {
            switch resource {
            case .pods: return PoddClient.podPath(namespace: namespace, name: name)
            case .events: return PoddClient.eventsPath(namespace: namespace) + "/" + PoddClient.pathSegment(name)
            case .configMaps, .secrets, .podDisruptionBudgets, .priorityClasses, .serviceAccounts:
                return resource.path(namespace: namespace, name: name)
            }
        }

        private func watchObjects(client: PoddClient, resource: ResourceArguments.Resource, names: Set<String>, namespace: String?,
                                  printer: ObjectPrinter) throws {
            var printer = printer
            let path = resource.path(namespace: namespace)
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
    /// NAME cells as `TYPE/NAME` (`configmap/app`): kubectl's rows when one answer holds
    /// objects of several types.
    var kindPrefix = false
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
        case .podDisruptionBudgets:
            return DisruptionBudgetRow.headers(withNamespace: withNamespace)
        case .priorityClasses:
            return ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"]
        case .serviceAccounts:
            return (withNamespace ? ["NAMESPACE"] : []) + ["NAME", "SECRETS", "AGE"]
        }
    }

    private func cells(_ object: JSONValue, now: Double) -> [String] {
        var cells: [String]
        switch resource {
        case .pods: cells = PodRow(pod: object, now: now).cells(wide: format == .wide, withNamespace: withNamespace)
        // An event's row has no NAME column but with -o wide, and not first: no prefix.
        case .events: return EventFormat.cells(object, withNamespace: withNamespace, now: now)
        case .configMaps, .secrets: cells = ConfigDataRow.cells(object, resource: resource, withNamespace: withNamespace, now: now)
        case .podDisruptionBudgets: cells = DisruptionBudgetRow.cells(object, withNamespace: withNamespace, now: now)
        case .priorityClasses:
            cells = [object["metadata"]["name"].string, String(object["value"]?.intValue ?? 0),
                     String(object["globalDefault"]?.boolValue ?? false), Clock.age(since: object["metadata"]["creationTimestamp"].string, now: now),
                     object["preemptionPolicy"].string]
        case .serviceAccounts:
            cells = (withNamespace ? [object["metadata"]["namespace"].string] : [])
                + [object["metadata"]["name"].string, String(object["secrets"].array.count),
                   Clock.age(since: object["metadata"]["creationTimestamp"].string, now: now)]
        }
        let nameColumn = withNamespace ? 1 : 0
        if kindPrefix, cells.indices.contains(nameColumn) { cells[nameColumn] = resource.singular + "/" + cells[nameColumn] }
        return cells
    }

    private func withKind(_ object: JSONValue) -> JSONValue { Self.withKind(object, kind: kind) }

    /// Items of a list carry no kind; kubectl adds it when it prints them.
    static func withKind(_ object: JSONValue, kind: String) -> JSONValue {
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
