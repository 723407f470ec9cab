import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl label pod NAME KEY=VALUE... KEY-...`: kubectl label, by a merge patch of the pod.
    public struct Label: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Update the labels of pods.",
            discussion: """
                KEY=VALUE sets a label, KEY- removes one. A label that already has another value \
                is changed only with --overwrite. With --resource-version, the update is made only \
                if the pod is still at that version. Changing labels does not restart the pod.

                Examples:
                  podctl label pod web tier=front
                  podctl label pod web tier=back --overwrite
                  podctl label pod/web pod/db tier-
                  podctl label pods -l app=shop team=a
                  podctl label pod web --list
                """
        )

        @Argument(help: ArgumentHelp("pod NAME... (or pod/NAME...), then KEY=VALUE... and KEY-...", valueName: "type [name...] key=value..."))
        var arguments: [String] = []

        @Flag(name: .long, help: "Change a label that already has a value.")
        var overwrite = false

        @Flag(name: .long, help: "Every pod of the namespace.")
        var all = false

        @Option(name: [.customShort("l"), .long], help: ArgumentHelp("The pods with these labels (k=v, k!=v, k in (a,b), ...).", valueName: "selector"))
        var selector: String?

        @Flag(name: .long, help: "Print the labels of the pods instead of changing them.")
        var list = false

        @Option(name: .customLong("resource-version"), help: ArgumentHelp("Change the pod only if it is at this resourceVersion (one pod only).", valueName: "version"))
        var resourceVersion: String?

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Print the pods changed: json, yaml or name.", valueName: "format"))
        var output: OutputFormat?

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if output == .wide { throw ValidationError("--output wide is not supported by label (use json, yaml or name)") }
        }

        public func run() throws {
            var edit = MetadataMapEdit(field: .labels, overwrite: overwrite, resourceVersion: resourceVersion, output: output,
                                       namespace: namespaceOptions.namespaceOrDefault, client: connection.client)
            try edit.run(arguments, all: all, selector: selector, list: list)
        }
    }
}

/// What `label` and `annotate` share, as kubectl does them: the arguments (`TYPE NAME...`, then
/// `KEY=VALUE` and `KEY-`), the pods they name, the --overwrite check against the pod as it is,
/// and a merge patch (`application/merge-patch+json`) of `metadata.labels` or
/// `metadata.annotations`.
struct MetadataMapEdit {
    enum Field {
        case labels, annotations

        var key: String { self == .labels ? "labels" : "annotations" }
        var noun: String { self == .labels ? "label" : "annotation" }
        var verb: String { self == .labels ? "label" : "annotate" }
    }

    var field: Field
    var overwrite: Bool
    var resourceVersion: String?
    var output: OutputFormat?
    var namespace: String
    var client: PoddClient

    mutating func run(_ arguments: [String], all: Bool, selector: String?, list: Bool) throws {
        let (resourceArguments, pairs) = try Self.split(arguments, field: field)
        let (set, remove) = try Self.parse(pairs, field: field)
        if !list && set.isEmpty && remove.isEmpty {
            throw PodctlError("at least one \(field.noun) update is required")
        }
        if list && !(set.isEmpty && remove.isEmpty) {
            throw PodctlError("--list cannot be combined with \(field.noun) changes")
        }
        let pods = try targets(resourceArguments, all: all, selector: selector)
        if resourceVersion != nil && pods.count != 1 {
            throw PodctlError("--resource-version may only be used with a single resource")
        }
        var failure: Error?
        for name in pods {
            do {
                try update(name, set: set, remove: remove, list: list)
            } catch let error as APIStatusError {
                if let earlier = failure { Output.error(Self.line(earlier)) }
                failure = error
            } catch let error as PodctlError {
                if let earlier = failure { Output.error(Self.line(earlier)) }
                failure = error
            }
        }
        if let failure { throw failure }
    }

    /// The pods: named, or all of the namespace, or those a selector picks.
    private func targets(_ arguments: [String], all: Bool, selector: String?) throws -> [String] {
        let resource = try ResourceArguments.parse(arguments, verb: field.verb)
        if !resource.names.isEmpty {
            if all || selector != nil { throw PodctlError("names cannot be given together with --all or --selector") }
            return resource.names
        }
        guard all || selector != nil else {
            throw PodctlError("resource(s) were provided, but no name was specified")
        }
        let query = selector.map { [("labelSelector", $0)] } ?? []
        let pods = try client.json("GET", PoddClient.podsPath(namespace: namespace), query: query)["items"].array
        if pods.isEmpty { throw PodctlError("no objects passed to \(field.verb)") }
        return pods.map { $0["metadata"]["name"].string }
    }

    private func update(_ name: String, set: [(key: String, value: String)], remove: [String], list: Bool) throws {
        let path = PoddClient.podPath(namespace: namespace, name: name)
        let pod = try client.json("GET", path)
        let current = pod["metadata"][field.key].stringMap
        let value: (String) -> String? = { key in current.first(where: { $0.key == key })?.value }
        if list {
            Output.write("Listing \(field.key) for Pod.v1/\(name):\n")
            for (key, value) in current.sorted(by: { $0.key < $1.key }) { Output.write(" \(key)=\(value)\n") }
            return
        }
        if !overwrite {
            switch field {
            case .labels:
                let clashes = set.compactMap { pair in value(pair.key).flatMap { $0 == pair.value ? nil : "'\(pair.key)' already has a value (\($0)), and --overwrite is false" } }
                if !clashes.isEmpty { throw PodctlError(clashes.joined(separator: ", ")) }
            case .annotations:
                let clashes = set.compactMap { pair in value(pair.key).map { "'\(pair.key)' already has a value (\($0))" } }
                if !clashes.isEmpty {
                    throw PodctlError("--overwrite is false but found the following declared annotation(s): " + clashes.joined(separator: "; "))
                }
            }
        }
        for key in remove where value(key) == nil { Output.error("\(field.noun) \"\(key)\" not found.") }

        var changes = JSONObject()
        for (key, text) in set { changes[key] = .string(text) }
        for key in remove { changes[key] = JSONValue.null }
        var metadata = JSONObject([(key: field.key, value: .object(changes))])
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        let patch = JSONValue.object(JSONObject([(key: "metadata", value: .object(metadata))]))
        let patched = try client.json("PATCH", path, requestBody: .bytes(patch.compactBytes, contentType: "application/merge-patch+json"))

        if let output {
            Output.write(try ObjectPrinter(resource: .pods, format: output, withNamespace: false, noHeaders: false).render([patched], asList: false))
            return
        }
        let changed = set.contains { value($0.key) != $0.value } || remove.contains { value($0) != nil }
        let message: String
        switch field {
        case .labels:
            let onlyRemoved = set.allSatisfy { value($0.key) == $0.value }
            message = !changed ? "not labeled" : onlyRemoved ? "unlabeled" : "labeled"
        case .annotations:
            message = "annotated"
        }
        Output.write("pod/\(name) \(message)\n")
    }

    private static func line(_ error: Error) -> String {
        if let error = error as? APIStatusError { return error.description }
        if let error = error as? PodctlError { return error.line }
        return "error: \(error)"
    }

    /// kubectl's split: resources first, then the changes (`k=v`, `k-`).
    static func split(_ arguments: [String], field: Field) throws(PodctlError) -> (resources: [String], pairs: [String]) {
        var resources: [String] = []
        var pairs: [String] = []
        for argument in arguments {
            let isPair = (argument.contains("=") && !argument.hasPrefix("=")) || (argument.hasSuffix("-") && argument != "-")
            if isPair {
                pairs.append(argument)
            } else if pairs.isEmpty {
                resources.append(argument)
            } else {
                throw PodctlError("all resources must be specified before \(field.noun) changes: \(argument)")
            }
        }
        return (resources, pairs)
    }

    /// `k=v` to set (the value may contain `=`), `k-` to remove.
    static func parse(_ pairs: [String], field: Field) throws(PodctlError) -> (set: [(key: String, value: String)], remove: [String]) {
        var set: [(key: String, value: String)] = []
        var remove: [String] = []
        for pair in pairs {
            if let equals = pair.firstIndex(of: "="), equals != pair.startIndex {
                let key = String(pair[..<equals])
                let value = String(pair[pair.index(after: equals)...])
                if let i = set.firstIndex(where: { $0.key == key }) { set[i].value = value } else { set.append((key, value)) }
            } else if pair.hasSuffix("-") && pair != "-" {
                remove.append(String(pair.dropLast()))
            } else {
                throw PodctlError("invalid \(field.noun) format: \(pair)")
            }
        }
        if let both = remove.first(where: { key in set.contains { $0.key == key } }) {
            throw PodctlError("can not both modify and remove \(field == .labels ? "a label" : "an annotation") in the same command: \(both)")
        }
        return (set, remove)
    }
}
