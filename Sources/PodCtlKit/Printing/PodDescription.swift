import PodModel

/// The text of `podctl describe pod`, laid out as kubectl's pod describer lays it out
/// (k8s.io/kubectl pkg/describe/describe.go `describePod`): tab-aligned blocks, nested by
/// two spaces per level.
public struct PodDescription {
    private var writer = TabWriter.describe()
    private var output = ""
    private let now: Double
    private let localNode: String

    /// Renders `pod`, then its events: nil when they could not be fetched, which prints
    /// `Events: <none>` as an empty list does. `localNode` names this machine, for a pod
    /// without a nodeName.
    public static func render(pod: JSONValue, events: [JSONValue]?, now: Double = Clock.now(), localNode: String = LocalHost.name) -> String {
        var description = PodDescription(now: now, localNode: localNode)
        description.describe(pod: pod, events: events ?? [])
        return description.output + description.writer.flush()
    }

    private init(now: Double, localNode: String) {
        self.now = now
        self.localNode = localNode
    }

    private mutating func line(_ level: Int, _ text: String) {
        writer.write(String(repeating: "  ", count: level) + text + "\n")
    }

    private mutating func describe(pod: JSONValue, events: [JSONValue]) {
        let metadata = pod["metadata"]
        let spec = pod["spec"]
        let status = pod["status"]
        line(0, "Name:\t\(metadata["name"].string)")
        line(0, "Namespace:\t\(metadata["namespace"].string)")
        if let priority = spec["priority"].lenientInt { line(0, "Priority:\t\(priority)") }
        if !spec["priorityClassName"].string.isEmpty { line(0, "Priority Class Name:\t\(spec["priorityClassName"].string)") }
        if !spec["runtimeClassName"].string.isEmpty { line(0, "Runtime Class Name:\t\(spec["runtimeClassName"].string)") }
        if !spec["serviceAccountName"].string.isEmpty { line(0, "Service Account:\t\(spec["serviceAccountName"].string)") }
        var node = spec["nodeName"].string
        if node.isEmpty && !status["hostIP"].string.isEmpty { node = localNode }
        if node.isEmpty {
            line(0, "Node:\t<none>")
        } else {
            line(0, "Node:\t\(node)/\(status["hostIP"].string)")
        }
        if let start = Clock.parseRFC3339(status["startTime"].string) {
            line(0, "Start Time:\t\(Clock.formatRFC1123Z(start))")
        }
        labels("Labels", metadata["labels"])
        annotations(metadata["annotations"])
        let phase = status["phase"].string
        if !metadata["deletionTimestamp"].isNull && phase != "Failed" && phase != "Succeeded" {
            line(0, "Status:\tTerminating (lasts \(Clock.age(since: metadata["deletionTimestamp"].string, now: now)))")
            line(0, "Termination Grace Period:\t\(metadata["deletionGracePeriodSeconds"].int)s")
        } else {
            line(0, "Status:\t\(phase)")
        }
        if !status["reason"].string.isEmpty { line(0, "Reason:\t\(status["reason"].string)") }
        if !status["message"].string.isEmpty { line(0, "Message:\t\(status["message"].string)") }
        line(0, "IP:\t\(status["podIP"].string)")
        let podIPs = status["podIPs"].array
        if podIPs.isEmpty {
            line(0, "IPs:\t<none>")
        } else {
            line(0, "IPs:")
            for entry in podIPs { line(1, "IP:\t\(entry["ip"].string)") }
        }
        if let owner = metadata["ownerReferences"].array.first(where: { $0["controller"].bool }) {
            line(0, "Controlled By:\t\(owner["kind"].string)/\(owner["name"].string)")
        }
        if !status["nominatedNodeName"].string.isEmpty {
            line(0, "NominatedNodeName:\t\(status["nominatedNodeName"].string)")
        }

        let fieldValues = FieldValues(pod: pod)
        if !spec["initContainers"].array.isEmpty {
            containers("Init Containers", spec["initContainers"].array, status["initContainerStatuses"].array, fieldValues)
        }
        containers("Containers", spec["containers"].array, status["containerStatuses"].array, fieldValues)
        if !spec["ephemeralContainers"].array.isEmpty {
            containers("Ephemeral Containers", spec["ephemeralContainers"].array, status["ephemeralContainerStatuses"].array, fieldValues)
        }
        let gates = spec["readinessGates"].array
        if !gates.isEmpty {
            line(0, "Readiness Gates:")
            line(1, "Type\tStatus")
            for gate in gates {
                let type = gate["conditionType"].string
                let condition = status["conditions"].array.first { $0["type"].string == type }
                line(1, "\(type) \t\(condition?["status"].string ?? "<none>") ")
            }
        }
        let conditions = status["conditions"].array
        if !conditions.isEmpty {
            line(0, "Conditions:")
            line(1, "Type\tStatus")
            for condition in conditions {
                line(1, "\(condition["type"].string) \t\(condition["status"].string) ")
            }
        }
        volumes(spec["volumes"].array)
        line(0, "QoS Class:\t\(status["qosClass"].stringValue ?? Self.qosClass(spec))")
        labels("Node-Selectors", spec["nodeSelector"])
        tolerations(spec["tolerations"].array)
        self.events(events)
    }

    // MARK: Labels and annotations

    private mutating func labels(_ title: String, _ labels: JSONValue?) {
        for text in DescribedMetadata.labelLines(title, labels) { line(0, text) }
    }

    private mutating func annotations(_ annotations: JSONValue?) {
        for text in DescribedMetadata.annotationLines(annotations) { line(0, text) }
    }

    // MARK: Containers

    private mutating func containers(_ label: String, _ containers: [JSONValue], _ statuses: [JSONValue], _ fieldValues: FieldValues) {
        line(0, label + ":" + (containers.isEmpty ? " <none>" : ""))
        for container in containers {
            let name = container["name"].string
            let status = statuses.first { $0["name"].string == name }
            line(1, "\(name):")
            if let status { line(2, "Container ID:\t\(status["containerID"].string)") }
            line(2, "Image:\t\(container["image"].string)")
            if let status { line(2, "Image ID:\t\(status["imageID"].string)") }
            let ports = container["ports"].array
            let portText = ports.map { "\($0["containerPort"].int)/\($0["protocol"].stringValue ?? "TCP")" }.joined(separator: ", ")
            let hostPortText = ports.map { "\($0["hostPort"].int)/\($0["protocol"].stringValue ?? "TCP")" }.joined(separator: ", ")
            line(2, (portText.contains(",") ? "Ports:\t" : "Port:\t") + (portText.isEmpty ? "<none>" : portText))
            line(2, (hostPortText.contains(",") ? "Host Ports:\t" : "Host Port:\t") + (hostPortText.isEmpty ? "<none>" : hostPortText))
            if !container["command"].array.isEmpty {
                line(2, "Command:")
                for part in container["command"].array {
                    for text in part.string.split(separator: "\n", omittingEmptySubsequences: false) { line(3, String(text)) }
                }
            }
            if !container["args"].array.isEmpty {
                line(2, "Args:")
                for part in container["args"].array {
                    for text in part.string.split(separator: "\n", omittingEmptySubsequences: false) { line(3, String(text)) }
                }
            }
            if let status {
                state("State", status["state"])
                if status["lastState"]["terminated"].isObject { state("Last State", status["lastState"]) }
                line(2, "Ready:\t\(status["ready"].bool ? "True" : "False")")
                line(2, "Restart Count:\t\(status["restartCount"].int)")
            }
            resources(container["resources"])
            probe("Liveness", container["livenessProbe"])
            probe("Readiness", container["readinessProbe"])
            probe("Startup", container["startupProbe"])
            environment(container["env"].array, fieldValues)
            mounts(container["volumeMounts"].array)
        }
    }

    private mutating func state(_ title: String, _ state: JSONValue?) {
        if state["running"].isObject {
            line(2, "\(title):\tRunning")
            line(3, "Started:\t\(time(state["running"]["startedAt"]))")
        } else if state["waiting"].isObject {
            line(2, "\(title):\tWaiting")
            if !state["waiting"]["reason"].string.isEmpty { line(3, "Reason:\t\(state["waiting"]["reason"].string)") }
        } else if state["terminated"].isObject {
            let terminated = state["terminated"]
            line(2, "\(title):\tTerminated")
            if !terminated["reason"].string.isEmpty { line(3, "Reason:\t\(terminated["reason"].string)") }
            if !terminated["message"].string.isEmpty { line(3, "Message:\t\(terminated["message"].string)") }
            line(3, "Exit Code:\t\(terminated["exitCode"].int)")
            if terminated["signal"].int > 0 { line(3, "Signal:\t\(terminated["signal"].int)") }
            line(3, "Started:\t\(time(terminated["startedAt"]))")
            line(3, "Finished:\t\(time(terminated["finishedAt"]))")
        } else {
            line(2, "\(title):\tWaiting")
        }
    }

    /// Go prints a zero time as `Mon, 01 Jan 0001 00:00:00 +0000`.
    private func time(_ value: JSONValue?) -> String {
        guard let seconds = Clock.parseRFC3339(value.string) else { return "Mon, 01 Jan 0001 00:00:00 +0000" }
        return Clock.formatRFC1123Z(seconds)
    }

    private mutating func resources(_ resources: JSONValue?) {
        for kind in ["limits", "requests"] {
            let quantities = resources[kind].stringMap.sorted { $0.key < $1.key }
            guard !quantities.isEmpty else { continue }
            line(2, kind == "limits" ? "Limits:" : "Requests:")
            for quantity in quantities { line(3, "\(quantity.key):\t\(quantity.value)") }
        }
    }

    private mutating func probe(_ title: String, _ probe: JSONValue?) {
        guard probe.isObject else { return }
        let attributes = "delay=\(probe["initialDelaySeconds"].int)s timeout=\(probe["timeoutSeconds"].lenientInt ?? 1)s "
            + "period=\(probe["periodSeconds"].lenientInt ?? 10)s #success=\(probe["successThreshold"].lenientInt ?? 1) "
            + "#failure=\(probe["failureThreshold"].lenientInt ?? 3)"
        let text: String
        if probe["exec"].isObject {
            text = "exec [" + probe["exec"]["command"].array.map(\.string).joined(separator: " ") + "] " + attributes
        } else if probe["httpGet"].isObject {
            let get = probe["httpGet"]
            let scheme = (get["scheme"].stringValue ?? "HTTP").lowercased()
            let port = Self.portText(get["port"])
            let host = get["host"].string
            let authority = port.isEmpty ? host : (host.contains(":") ? "[\(host)]" : host) + ":" + port
            text = "http-get \(scheme)://\(authority)\(get["path"].string) " + attributes
        } else if probe["tcpSocket"].isObject {
            text = "tcp-socket \(probe["tcpSocket"]["host"].string):\(Self.portText(probe["tcpSocket"]["port"])) " + attributes
        } else if probe["grpc"].isObject {
            text = "grpc <pod>:\(probe["grpc"]["port"].int) \(probe["grpc"]["service"].string) " + attributes
        } else {
            text = "unknown " + attributes
        }
        line(2, "\(title):\t\(text)")
    }

    private static func portText(_ port: JSONValue?) -> String { port.intOrString ?? "" }

    private mutating func environment(_ variables: [JSONValue], _ fieldValues: FieldValues) {
        line(2, "Environment:" + (variables.isEmpty ? "\t<none>" : ""))
        for variable in variables {
            let name = variable["name"].string
            let valueFrom = variable["valueFrom"]
            guard valueFrom.isObject else {
                for (index, text) in variable["value"].string.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                    line(3, (index == 0 ? "\(name):\t" : "\t") + text)
                }
                continue
            }
            if valueFrom["fieldRef"].isObject {
                let reference = valueFrom["fieldRef"]
                let apiVersion = reference["apiVersion"].stringValue ?? "v1"
                let path = reference["fieldPath"].string
                line(3, "\(name):\t\(fieldValues.value(of: path)) (\(apiVersion):\(path))")
            } else if valueFrom["resourceFieldRef"].isObject {
                line(3, "\(name):\t (\(valueFrom["resourceFieldRef"]["resource"].string))")
            } else if valueFrom["secretKeyRef"].isObject {
                let reference = valueFrom["secretKeyRef"]
                line(3, "\(name):\t<set to the key '\(reference["key"].string)' in secret '\(reference["name"].string)'>\tOptional: \(reference["optional"].bool)")
            } else if valueFrom["configMapKeyRef"].isObject {
                let reference = valueFrom["configMapKeyRef"]
                line(3, "\(name):\t<set to the key '\(reference["key"].string)' of config map '\(reference["name"].string)'>\tOptional: \(reference["optional"].bool)")
            }
        }
    }

    private mutating func mounts(_ mounts: [JSONValue]) {
        line(2, "Mounts:" + (mounts.isEmpty ? "\t<none>" : ""))
        for mount in mounts.sorted(by: { $0["mountPath"].string < $1["mountPath"].string }) {
            var flags = [mount["readOnly"].bool ? "ro" : "rw"]
            if !mount["subPath"].string.isEmpty { flags.append("path=\"\(mount["subPath"].string)\"") }
            line(3, "\(mount["mountPath"].string) from \(mount["name"].string) (\(flags.joined(separator: ",")))")
        }
    }

    // MARK: Volumes, QoS, tolerations

    private mutating func volumes(_ volumes: [JSONValue]) {
        guard !volumes.isEmpty else {
            line(0, "Volumes:\t<none>")
            return
        }
        line(0, "Volumes:")
        for volume in volumes {
            line(1, "\(volume["name"].string):")
            if volume["hostPath"].isObject {
                let type = volume["hostPath"]["type"].stringValue ?? "<none>"
                line(2, "Type:\tHostPath (bare host directory volume)")
                line(2, "Path:\t\(volume["hostPath"]["path"].string)")
                line(2, "HostPathType:\t\(type.isEmpty ? "" : type)")
            } else if volume["emptyDir"].isObject {
                let emptyDir = volume["emptyDir"]
                var sizeLimit = Self.portText(emptyDir["sizeLimit"])
                if sizeLimit.isEmpty || sizeLimit == "0" { sizeLimit = "<unset>" }
                line(2, "Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)")
                line(2, "Medium:\t\(emptyDir["medium"].string)")
                line(2, "SizeLimit:\t\(sizeLimit)")
            } else if volume["configMap"].isObject {
                line(2, "Type:\tConfigMap (a volume populated by a ConfigMap)")
                line(2, "Name:\t\(volume["configMap"]["name"].string)")
                line(2, "Optional:\t\(volume["configMap"]["optional"].bool)")
            } else if volume["secret"].isObject {
                line(2, "Type:\tSecret (a volume populated by a Secret)")
                line(2, "SecretName:\t\(volume["secret"]["secretName"].string)")
                line(2, "Optional:\t\(volume["secret"]["optional"].bool)")
            } else if volume["persistentVolumeClaim"].isObject {
                line(2, "Type:\tPersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)")
                line(2, "ClaimName:\t\(volume["persistentVolumeClaim"]["claimName"].string)")
                line(2, "ReadOnly:\t\(volume["persistentVolumeClaim"]["readOnly"].bool)")
            } else {
                line(1, "<unknown>")
            }
        }
    }

    /// Kubernetes' QoS class, for a server that does not report status.qosClass.
    static func qosClass(_ spec: JSONValue?) -> String {
        let containers = spec["containers"].array + spec["initContainers"].array
        var anySet = false
        var guaranteed = true
        for container in containers {
            let limits = container["resources"]["limits"]
            let requests = container["resources"]["requests"]
            if !limits.stringMap.isEmpty || !requests.stringMap.isEmpty { anySet = true }
            for resource in ["cpu", "memory"] {
                let limit = portText(limits[resource])
                let request = portText(requests[resource])
                if limit.isEmpty || (!request.isEmpty && request != limit) { guaranteed = false }
            }
        }
        if !anySet { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }

    private mutating func tolerations(_ tolerations: [JSONValue]) {
        guard !tolerations.isEmpty else {
            line(0, "Tolerations:\t<none>")
            return
        }
        for (index, toleration) in tolerations.enumerated() {
            var text = toleration["key"].string
            if !toleration["value"].string.isEmpty { text += "=" + toleration["value"].string }
            if !toleration["effect"].string.isEmpty { text += ":" + toleration["effect"].string }
            if !toleration["operator"].string.isEmpty { text += " op=" + toleration["operator"].string }
            if let seconds = toleration["tolerationSeconds"].lenientInt { text += " for \(seconds)s" }
            line(0, (index == 0 ? "Tolerations:\t" : "\t") + text)
        }
    }

    // MARK: Events

    private mutating func events(_ events: [JSONValue]) {
        DescribedEvents.write(events, to: &writer, output: &output, now: now)
    }
}

/// The `Events:` section every kubectl describer ends with (`DescribeEvents`): `<none>` in
/// the last block's alignment, or a table of its own, oldest first.
enum DescribedEvents {
    static func write(_ events: [JSONValue], to writer: inout TabWriter, output: inout String, now: Double) {
        guard !events.isEmpty else {
            writer.write("Events:\t<none>\n")
            return
        }
        // kubectl flushes before the events table, so it is aligned on its own.
        output += writer.flush()
        writer.write("Events:\n")
        writer.write("  Type\tReason\tAge\tFrom\tMessage\n")
        writer.write("  ----\t------\t----\t----\t-------\n")
        for event in EventFormat.sorted(events) {
            writer.write("  " + [
                event["type"].string, event["reason"].string, EventFormat.interval(event, now: now),
                EventFormat.source(event), event["message"].string.trimmingSpaces,
            ].joined(separator: "\t") + "\n")
        }
    }

    /// The events of `object` (its kind, name and uid), or nil when podd cannot list them.
    /// The field selector narrows the list on the server; the filter here keeps the answer
    /// right if podd ignores it. A cluster-scoped object's are looked for in every namespace.
    static func of(_ object: JSONValue, kind: String, client: PoddClient) -> [JSONValue]? {
        let name = object["metadata"]["name"].string
        let namespace = object["metadata"]["namespace"].stringValue.flatMap { $0.isEmpty ? nil : $0 }
        let uid = object["metadata"]["uid"].string
        guard let list = try? client.json("GET", PoddClient.eventsPath(namespace: namespace),
                                          query: [("fieldSelector", "involvedObject.name=\(name)")])
        else { return nil }
        return list["items"].array.filter { event in
            let involved = event["involvedObject"]
            guard involved["name"].string == name else { return false }
            let eventKind = involved["kind"].string
            guard eventKind.isEmpty || eventKind == kind else { return false }
            return uid.isEmpty || involved["uid"].string.isEmpty || involved["uid"].string == uid
        }
    }
}

/// The values `valueFrom.fieldRef` refers to, as describe shows them beside the variable.
struct FieldValues {
    let pod: JSONValue

    func value(of path: String) -> String {
        let metadata = pod["metadata"]
        switch path {
        case "metadata.name": return metadata["name"].string
        case "metadata.namespace": return metadata["namespace"].string
        case "metadata.uid": return metadata["uid"].string
        case "spec.nodeName": return pod["spec"]["nodeName"].string
        case "spec.serviceAccountName": return pod["spec"]["serviceAccountName"].string
        case "status.hostIP": return pod["status"]["hostIP"].string
        case "status.podIP": return pod["status"]["podIP"].string
        default:
            for field in ["labels", "annotations"] {
                let prefix = "metadata.\(field)['"
                if path.hasPrefix(prefix), path.hasSuffix("']") {
                    let key = String(path.dropFirst(prefix.count).dropLast(2))
                    return metadata[field][key].string
                }
            }
            return ""
        }
    }
}
