import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl top pod [NAME]`: CPU and memory of pods (or their containers), as `kubectl
    /// top pod` prints them, from podd's metrics.k8s.io API.
    public struct Top: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show CPU (millicores) and memory (working set) of pods.",
            discussion: """
                CPU is the rate over the window since the previous look (the first look: since the \
                container started); memory is the working set (usage minus inactive file pages), \
                as metrics-server reports them.

                Examples:
                  podctl top pod
                  podctl top pod web --containers
                  podctl top pod -A
                """
        )

        @Argument(help: ArgumentHelp("The resource: pod (pods, po).", valueName: "resource"))
        var resource: String

        @Argument(help: ArgumentHelp("A pod's name; all pods without it.", valueName: "name"))
        var name: String?

        @Flag(name: .long, help: "Show each container's figures.")
        var containers = false

        @Flag(name: [.customShort("A"), .customLong("all-namespaces")], help: "Pods of every namespace.")
        var allNamespaces = false

        @Flag(name: .customLong("no-headers"), help: "Print the table without its header.")
        var noHeaders = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            guard ["pod", "pods", "po"].contains(resource) else {
                throw PodctlError("podctl top supports pods only (podctl top pod [NAME]), not \"\(resource)\"")
            }
            let client = connection.client
            let namespace = allNamespaces ? nil : namespaceOptions.namespaceOrDefault
            let base = namespace.map { "/apis/metrics.k8s.io/v1beta1/namespaces/\($0)/pods" } ?? "/apis/metrics.k8s.io/v1beta1/pods"
            let items: [JSONValue]
            if let name {
                guard let item = try client.getIfPresent(base + "/" + name) else {
                    throw PodctlError("metrics not available yet for pod \(namespace ?? "default")/\(name)")
                }
                items = [item]
            } else {
                items = try client.json("GET", base)["items"].array
                if items.isEmpty { throw PodctlError("metrics not available yet") }
            }
            Output.write(Self.table(items, containers: containers, withNamespace: allNamespaces, headers: !noHeaders))
        }

        /// kubectl's columns: [NAMESPACE] [POD] NAME CPU(cores) MEMORY(bytes).
        static func table(_ items: [JSONValue], containers: Bool, withNamespace: Bool, headers: Bool) -> String {
            var table = TabWriter.table()
            if headers {
                table.row((withNamespace ? ["NAMESPACE"] : []) + (containers ? ["POD", "NAME"] : ["NAME"]) + ["CPU(cores)", "MEMORY(bytes)"])
            }
            for item in items {
                let row = PodMetricsRow(item)
                let prefix = withNamespace ? [row.namespace] : []
                if containers {
                    for c in row.containers { table.row(prefix + [row.name, c.name, c.cpu, c.memory]) }
                } else {
                    table.row(prefix + [row.name, row.cpu, row.memory])
                }
            }
            return table.flush()
        }
    }
}
