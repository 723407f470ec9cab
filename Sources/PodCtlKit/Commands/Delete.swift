import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl delete pod NAME...` or `podctl delete -f FILE`: stops and removes pods.
    public struct Delete: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Delete pods, configmaps, secrets, serviceaccounts, poddisruptionbudgets or priorityclasses by name or by manifest.",
            discussion: """
                podd stops the pod's containers (SIGTERM, then SIGKILL after the grace period) and \
                removes it. As kubectl, podctl waits until the pod is gone; --wait=false returns at once.

                Examples:
                  podctl delete pod web
                  podctl delete pod/web pod/db --grace-period 0
                  podctl delete -f pod.yaml --wait=false
                """
        )

        @Argument(help: ArgumentHelp("pod NAME..., or pod/NAME...", valueName: "type [name...]"))
        var arguments: [String] = []

        @Option(name: [.short, .customLong("filename")], help: ArgumentHelp("Delete the pods of a manifest file, directory or - (repeatable).", valueName: "file"))
        var filenames: [String] = []

        @Option(name: .customLong("grace-period"), help: ArgumentHelp("Seconds to let the pod stop before it is killed (-1: the pod's own).", valueName: "seconds"))
        var gracePeriod: Int = -1

        @Flag(name: .long, help: "Stop at once (grace period 1).")
        var now = false

        @Flag(name: .customLong("wait"), inversion: .prefixedNo, help: "Wait until the pod is gone (default; --wait=false to return at once).")
        var wait = true

        @Option(name: .long, help: ArgumentHelp("Give up waiting after this long (0: no limit).", valueName: "duration"))
        var timeout: String = "0s"

        @Flag(name: .customLong("ignore-not-found"), help: "A pod that does not exist is not an error.")
        var ignoreNotFound = false

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if filenames.isEmpty && arguments.isEmpty {
                throw ValidationError("you must provide one or more resources by argument or filename")
            }
            if !filenames.isEmpty && !arguments.isEmpty {
                throw ValidationError("names cannot be given together with -f")
            }
            if parseGoDuration(timeout) == nil { throw ValidationError("invalid --timeout \"\(timeout)\"") }
            if now && gracePeriod >= 0 { throw ValidationError("--now and --grace-period cannot be specified together") }
        }

        public func run() throws {
            var targets: [(namespace: String, name: String, resource: ResourceArguments.Resource)] = []
            if filenames.isEmpty {
                let resource = try ResourceArguments.parse(arguments, verb: "delete", allowed: [.pods, .configMaps, .secrets, .podDisruptionBudgets, .priorityClasses,
                                                                                                   .serviceAccounts])
                if resource.names.isEmpty {
                    throw PodctlError("resource(s) were provided, but no name was specified")
                }
                targets = resource.names.map { (namespaceOptions.namespaceOrDefault, $0, resource.resource) }
            } else {
                for object in try ManifestReader.read(paths: filenames) {
                    guard let resource = ResourceArguments.Resource.of(kind: object.kind) else {
                        throw PodctlError("\(object.source): podd manages pods, configmaps, secrets, serviceaccounts, poddisruptionbudgets and priorityclasses, not \(object.kind)")
                    }
                    let namespace = try Apply.namespace(of: object.object, flag: namespaceOptions.namespace)
                    targets.append((namespace, object.name, resource))
                }
            }
            let client = connection.client
            var query: [(String, String)] = []
            if now {
                query.append(("gracePeriodSeconds", "1"))
            } else if gracePeriod >= 0 {
                query.append(("gracePeriodSeconds", String(gracePeriod)))
            }
            var deleted: [(namespace: String, name: String)] = []
            var failure: Error?
            for target in targets {
                do {
                    // ConfigMaps and Secrets go at once: nothing to wait for.
                    let isPod = target.resource == .pods
                    _ = try client.json("DELETE", target.resource.path(namespace: target.namespace, name: target.name), query: isPod ? query : [])
                    Output.write("\(target.resource.singular) \"\(target.name)\" deleted\n")
                    if isPod { deleted.append((target.namespace, target.name)) }
                } catch let error as APIStatusError where error.isNotFound && ignoreNotFound {
                    continue
                } catch let error as APIStatusError {
                    if let earlier = failure as? APIStatusError { Output.error(earlier.description) }
                    failure = error
                }
            }
            if wait {
                let limit = parseGoDuration(timeout) ?? 0
                let deadline = limit > 0 ? Clock.now() + limit : Double.infinity
                for target in deleted {
                    try waitUntilGone(target, client: client, deadline: deadline)
                }
            }
            if let failure { throw failure }
        }

        /// Polls every 100 ms until GET answers NotFound.
        private func waitUntilGone(_ target: (namespace: String, name: String), client: PoddClient, deadline: Double) throws {
            let path = PoddClient.podPath(namespace: target.namespace, name: target.name)
            while try client.getIfPresent(path) != nil {
                if Clock.now() >= deadline {
                    throw PodctlError("timed out waiting for the condition on pods/\(target.name)")
                }
                pause(milliseconds: 100)
            }
        }
    }
}
