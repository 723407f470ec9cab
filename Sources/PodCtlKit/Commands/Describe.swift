import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl describe pod NAME`: a pod's spec, status and events as kubectl describes them.
    public struct Describe: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the details of a pod (containers, states, conditions, volumes, events), a configmap, a secret, a serviceaccount, a poddisruptionbudget or a priorityclass.",
            discussion: """
                Without a name, describes every pod of the namespace.

                Examples:
                  podctl describe pod web
                  podctl describe pod/web -n demo
                  podctl describe pdb web-budget
                """
        )

        @Argument(help: ArgumentHelp("pod NAME..., or pod/NAME.", valueName: "type [name...]"))
        var arguments: [String] = []

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let resource = try ResourceArguments.parse(arguments, verb: "describe",
                                                       allowed: [.pods, .configMaps, .secrets, .podDisruptionBudgets, .priorityClasses, .serviceAccounts])
            let client = connection.client
            let namespace = namespaceOptions.namespaceOrDefault
            switch resource.resource {
            case .configMaps, .secrets:
                try ConfigDataDescription.describe(resource, namespace: namespace, client: client)
                return
            case .podDisruptionBudgets, .priorityClasses:
                try PolicyDescription.describe(resource, namespace: namespace, client: client)
                return
            case .serviceAccounts:
                try AccountDescription.describe(resource, namespace: namespace, client: client)
                return
            default:
                break
            }
            guard let pods = try Self.objects(resource, namespace: namespace, client: client) else { return }
            for (index, pod) in pods.enumerated() {
                let events = DescribedEvents.of(pod, kind: "Pod", client: client)
                let text = PodDescription.render(pod: pod, events: events)
                Output.write((index > 0 ? "\n\n" : "") + text)
            }
        }

        /// The objects named, or without names every one of the namespace (of the resource,
        /// when it has none); nil, with kubectl's message, when there are none.
        static func objects(_ resource: ResourceArguments, namespace: String, client: PoddClient) throws -> [JSONValue]? {
            guard resource.names.isEmpty else {
                return try resource.names.map { try client.json("GET", resource.resource.path(namespace: namespace, name: $0)) }
            }
            let objects = try client.json("GET", resource.resource.path(namespace: namespace))["items"].array
            if objects.isEmpty {
                Output.error(resource.resource.namespaced ? "No resources found in \(namespace) namespace." : "No resources found")
                return nil
            }
            return objects
        }
    }
}
