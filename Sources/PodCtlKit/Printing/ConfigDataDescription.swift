import PodModel

/// `podctl describe configmap|secret`, as kubectl describes them: a ConfigMap's values in
/// full, a Secret's only as sizes (never its contents).
enum ConfigDataDescription {
    static func describe(_ resource: ResourceArguments, namespace: String, client: PoddClient) throws {
        guard let objects = try Podctl.Describe.objects(resource, namespace: namespace, client: client) else { return }
        let texts = objects.map { render($0, resource: resource.resource) }
        Output.write(texts.joined(separator: "\n\n"))
    }

    static func render(_ object: JSONValue, resource: ResourceArguments.Resource) -> String {
        let metadata = object["metadata"]
        var text = ""
        text += "Name:         \(metadata["name"].string)\n"
        text += "Namespace:    \(metadata["namespace"].string)\n"
        text += "Labels:       \(map(metadata["labels"]))\n"
        text += "Annotations:  \(map(metadata["annotations"]))\n"
        let data = object["data"].objectValue ?? JSONObject()
        if resource == .secrets {
            text += "\nType:  \(object["type"].string)\n\nData\n====\n"
            // Sizes only: a Secret's values are not printed.
            for key in data.keys.sorted() {
                let size = (try? PodModel.Base64.decode(data[key]?.stringValue ?? ""))?.count ?? 0
                text += "\(key):  \(size) bytes\n"
            }
            return text
        }
        text += "\nData\n====\n"
        for key in data.keys.sorted() {
            text += "\(key):\n----\n\(data[key]?.stringValue ?? "")\n\n"
        }
        text += "\nBinaryData\n====\n"
        let binary = object["binaryData"].objectValue ?? JSONObject()
        for key in binary.keys.sorted() {
            let size = (try? PodModel.Base64.decode(binary[key]?.stringValue ?? ""))?.count ?? 0
            text += "\(key): \(size) bytes\n"
        }
        text += "\nEvents:  <none>\n"
        return text
    }

    /// Labels or annotations as kubectl prints them: `k=v` lines, sorted, or `<none>`.
    static func map(_ value: JSONValue?) -> String {
        guard let members = value?.objectValue, !members.isEmpty else { return "<none>" }
        return members.keys.sorted().map { "\($0)=\(members[$0]?.stringValue ?? "")" }.joined(separator: "\n              ")
    }
}
