import PodModel

/// `podctl describe sa`, as kubectl's ServiceAccount describer writes it
/// (describeServiceAccount): its image pull secrets, mountable secrets and token Secrets, a
/// secret it names that the namespace lacks marked `(not found)`, and its events.
enum AccountDescription {
    static func describe(_ resource: ResourceArguments, namespace: String, client: PoddClient) throws {
        guard let accounts = try Podctl.Describe.objects(resource, namespace: namespace, client: client) else { return }
        let now = Clock.now()
        let texts = accounts.map { account in
            // Errors are tolerated, as kubectl tolerates them: the account is described
            // with every secret it names, none marked missing.
            let secrets = (try? client.json("GET", ResourceArguments.Resource.secrets.path(namespace: account["metadata"]["namespace"].string)))?["items"].array
            let events = DescribedEvents.of(account, kind: resource.resource.kind, client: client) ?? []
            return render(account, secrets: secrets, events: events, now: now)
        }
        Output.write(texts.joined(separator: "\n\n"))
    }

    /// `secrets`: the namespace's Secrets (nil when they could not be read).
    static func render(_ account: JSONValue, secrets: [JSONValue]?, events: [JSONValue], now: Double) -> String {
        var writer = TabWriter.describe()
        var output = ""
        let metadata = account["metadata"]
        writer.write("Name:\t\(metadata["name"].string)\n")
        writer.write("Namespace:\t\(metadata["namespace"].string)\n")
        for line in DescribedMetadata.labelLines("Labels", metadata["labels"]) + DescribedMetadata.annotationLines(metadata["annotations"]) {
            writer.write(line + "\n")
        }
        var existing = Set<String>()
        var tokens: [String] = []
        for secret in secrets ?? [] {
            let secretMetadata = secret["metadata"]
            let annotations = secretMetadata["annotations"]
            if secret["type"].string == "kubernetes.io/service-account-token",
               annotations["kubernetes.io/service-account.name"].string == metadata["name"].string,
               annotations["kubernetes.io/service-account.uid"].string == metadata["uid"].string {
                tokens.append(secretMetadata["name"].string)
            }
            existing.insert(secretMetadata["name"].string)
        }
        let pulls = account["imagePullSecrets"].array.map { $0["name"].string }
        let mounts = account["secrets"].array.map { $0["name"].string }
        // The headers padded to one width, in kubectl's (sorted) order.
        for (header, names) in [("Image pull secrets:", pulls), ("Mountable secrets: ", mounts), ("Tokens:            ", tokens)] {
            guard !names.isEmpty else {
                writer.write("\(header)\t<none>\n")
                continue
            }
            var prefix = header
            for name in names {
                let missing = secrets != nil && header != "Tokens:            " && !existing.contains(name)
                writer.write("\(prefix)\t\(name)\(missing ? " (not found)" : "")\n")
                prefix = "                   "
            }
        }
        DescribedEvents.write(events, to: &writer, output: &output, now: now)
        return output + writer.flush()
    }
}
