import ArgumentParser

extension Podctl {
    /// `podctl annotate pod NAME KEY=VALUE... KEY-...`: kubectl annotate, by a merge patch of
    /// the pod.
    public struct Annotate: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Update the annotations of pods.",
            discussion: """
                KEY=VALUE sets an annotation, KEY- removes one. An annotation that already has a \
                value is changed only with --overwrite. With --resource-version, the update is made \
                only if the pod is still at that version. Changing annotations does not restart the pod.

                Examples:
                  podctl annotate pod web description='the shop front'
                  podctl annotate pod web description='the shop' --overwrite
                  podctl annotate pod/web description-
                  podctl annotate pods --all owner=team-a
                """
        )

        @Argument(help: ArgumentHelp("pod NAME... (or pod/NAME...), then KEY=VALUE... and KEY-...", valueName: "type [name...] key=value..."))
        var arguments: [String] = []

        @Flag(name: .long, help: "Change an annotation that already has a value.")
        var overwrite = false

        @Flag(name: .long, help: "Every pod of the namespace.")
        var all = false

        @Option(name: [.customShort("l"), .long], help: ArgumentHelp("The pods with these labels (k=v, k!=v, k in (a,b), ...).", valueName: "selector"))
        var selector: String?

        @Option(name: .customLong("resource-version"), help: ArgumentHelp("Change the pod only if it is at this resourceVersion (one pod only).", valueName: "version"))
        var resourceVersion: String?

        @Option(name: [.short, .customLong("output")], help: ArgumentHelp("Print the pods changed: json, yaml or name.", valueName: "format"))
        var output: OutputFormat?

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if output == .wide { throw ValidationError("--output wide is not supported by annotate (use json, yaml or name)") }
        }

        public func run() throws {
            var edit = MetadataMapEdit(field: .annotations, overwrite: overwrite, resourceVersion: resourceVersion, output: output,
                                       namespace: namespaceOptions.namespaceOrDefault, client: connection.client)
            try edit.run(arguments, all: all, selector: selector, list: false)
        }
    }
}
