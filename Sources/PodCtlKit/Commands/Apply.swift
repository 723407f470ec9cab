import PodModel
import ArgumentParser

extension Podctl {
    /// `podctl apply -f FILE|DIR|-`: creates each pod that does not exist, replaces each that
    /// does.
    public struct Apply: ParsableCommand {
        public static let configuration = CommandConfiguration(
            abstract: "Create or replace pods, configmaps, secrets, serviceaccounts, poddisruptionbudgets and priorityclasses from manifests.",
            discussion: """
                Reads Kubernetes Pod manifests in YAML or JSON: several documents per file, kind: List \
                expanded, a directory's *.yaml, *.yml and *.json files in name order, - for stdin. \
                A pod that does not exist is created (POST); one that does is replaced (PUT). \
                Prints pod/NAME created, configured or unchanged.

                Examples:
                  podctl apply -f pod.yaml
                  podctl apply -f config/examples/
                  cat pod.json | podctl apply -f -
                """
        )

        @Option(name: [.short, .customLong("filename")], help: ArgumentHelp("A manifest file, a directory of them, or - for stdin (repeatable).", valueName: "file"))
        var filenames: [String] = []

        @OptionGroup var namespaceOptions: NamespaceOptions
        @OptionGroup var connection: ConnectionOptions

        public init() {}

        public func validate() throws {
            if filenames.isEmpty {
                throw ValidationError("must specify -f with a file, a directory or - (stdin)")
            }
        }

        public func run() throws {
            let read = try ManifestReader.read(paths: filenames)
            if read.isEmpty { throw PodctlError("no objects passed to apply") }
            // ConfigMaps, Secrets, PriorityClasses and ServiceAccounts first, whatever their place
            // in the files: a pod that uses one then finds it at its admission and its first start.
            let first: Set<String> = ["ConfigMap", "Secret", "PriorityClass", "ServiceAccount"]
            let objects = read.filter { first.contains($0.kind) } + read.filter { !first.contains($0.kind) }
            let client = connection.client
            var failures: [String] = []
            for object in objects {
                do {
                    Output.write(try apply(object, client: client) + "\n")
                } catch let error as PodctlError {
                    failures.append(error.line)
                } catch let error as APIStatusError {
                    failures.append(error.description)
                }
            }
            // Like kubectl, apply every object it can, then report the failures.
            guard failures.isEmpty else {
                for line in failures.dropLast() { Output.error(line) }
                throw PodctlError(line: failures[failures.count - 1])
            }
        }

        private func apply(_ manifest: ManifestObject, client: PoddClient) throws -> String {
            var pod = manifest.object
            let kind = manifest.kind
            let apiVersion = pod["apiVersion"].string
            guard let resource = ResourceArguments.Resource.of(kind: kind), apiVersion == resource.apiVersion || apiVersion.isEmpty else {
                throw PodctlError("\(manifest.source): podd manages pods, configmaps, secrets, serviceaccounts (apiVersion: v1, kind: Pod, ConfigMap, Secret or ServiceAccount), poddisruptionbudgets (apiVersion: policy/v1) and priorityclasses (apiVersion: scheduling.k8s.io/v1) only, not \(apiVersion.isEmpty ? "" : apiVersion + " ")\(kind)")
            }
            let name = manifest.name
            guard !name.isEmpty else {
                throw PodctlError("\(manifest.source): a \(kind) needs metadata.name")
            }
            let namespace = try Self.namespace(of: pod, flag: namespaceOptions.namespace)
            if pod["metadata"]["namespace"].isNull && resource.namespaced { pod["metadata"]["namespace"] = .string(namespace) }
            if resource != .pods { return try ConfigDataApply.apply(pod, resource: resource, namespace: namespace, name: name, client: client) }

            let path = PoddClient.podPath(namespace: namespace, name: name)
            guard let existing = try client.getIfPresent(path) else {
                // Strict, as kubectl's default validation: an unknown field is refused, not dropped.
                _ = try client.json("POST", PoddClient.podsPath(namespace: namespace), query: [("fieldValidation", "Strict")], body: pod)
                return "pod/\(name) created"
            }
            let updated = try client.json("PUT", path, query: [("fieldValidation", "Strict")], body: pod)
            return Self.isUnchanged(existing, updated) ? "pod/\(name) unchanged" : "pod/\(name) configured"
        }

        /// The object's namespace, else -n, else default; an object and -n that disagree are
        /// refused, as kubectl refuses them.
        static func namespace(of object: JSONValue, flag: String?) throws(PodctlError) -> String {
            let own = object["metadata"]["namespace"].string
            if !own.isEmpty, let flag, flag != own {
                throw PodctlError("the namespace from the provided object \"\(own)\" does not match the namespace \"\(flag)\". You must pass '--namespace=\(own)' to perform this operation.")
            }
            return own.isEmpty ? (flag ?? "default") : own
        }

        /// Whether a replace changed nothing a user wrote: the spec, labels and annotations
        /// podd returns are the same as before (compared key-order-independently).
        static func isUnchanged(_ before: JSONValue, _ after: JSONValue) -> Bool {
            let fields: [(JSONValue) -> JSONValue?] = [{ $0["spec"] }, { $0["metadata"]["labels"] }, { $0["metadata"]["annotations"] }]
            func normalized(_ value: JSONValue?) -> JSONValue {
                guard let value, value.objectValue?.isEmpty != true else { return .null }
                return value.sortedKeys
            }
            return fields.allSatisfy { normalized($0(before)) == normalized($0(after)) }
        }
    }
}
