import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl describe pod NAME`: a pod's spec, status and events as kubectl describes them.
    public struct Describe: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Show the details of a pod (containers, states, conditions, volumes, events), a configmap or a secret.",
            discussion: """
                Without a name, describes every pod of the namespace.

                Examples:
                  podctl describe pod web
                  podctl describe pod/web -n demo
                """
        )

        @Argument(help: ArgumentHelp("pod NAME..., or pod/NAME.", valueName: "type [name...]"))
        var arguments: [String] = []

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func run() throws {
            let resource = try ResourceArguments.parse(arguments, verb: "describe", allowed: [.pods, .configMaps, .secrets])
            let client = connection.client
            let namespace = namespaceOptions.namespaceOrDefault
            if resource.resource != .pods {
                try ConfigDataDescription.describe(resource, namespace: namespace, client: client)
                return
            }
            var pods: [JSONValue] = []
            if resource.names.isEmpty {
                pods = try client.json("GET", PoddClient.podsPath(namespace: namespace))["items"].array
                if pods.isEmpty {
                    Output.error("No resources found in \(namespace) namespace.")
                    return
                }
            } else {
                for name in resource.names {
                    pods.append(try client.json("GET", PoddClient.podPath(namespace: namespace, name: name)))
                }
            }
            for (index, pod) in pods.enumerated() {
                let events = Self.events(of: pod, client: client)
                let text = PodDescription.render(pod: pod, events: events)
                Output.write((index > 0 ? "\n\n" : "") + text)
            }
        }

        /// The pod's events, or nil when podd cannot list them. The field selector narrows the
        /// list on the server; the filter here keeps the answer right if podd ignores it.
        static func events(of pod: JSONValue, client: PoddClient) -> [JSONValue]? {
            let name = pod["metadata"]["name"].string
            let namespace = pod["metadata"]["namespace"].stringValue ?? "default"
            let uid = pod["metadata"]["uid"].string
            guard let list = try? client.json(
                "GET", PoddClient.eventsPath(namespace: namespace),
                query: [("fieldSelector", "involvedObject.name=\(name)")])
            else { return nil }
            return list["items"].array.filter { event in
                let object = event["involvedObject"]
                guard object["name"].string == name else { return false }
                let kind = object["kind"].string
                guard kind.isEmpty || kind == "Pod" else { return false }
                return uid.isEmpty || object["uid"].string.isEmpty || object["uid"].string == uid
            }
        }
    }
}
