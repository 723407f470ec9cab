import PodModel

/// The tables of the kinds podd serves, with the API server's columns
/// (k8s.io/kubernetes pkg/printers/internalversion/printers.go). Every column is filled, as
/// the API server does (it prints wide): kubectl shows priority 1 columns with `-o wide`.
extension TableKind {
    /// Pods: NAME READY STATUS RESTARTS AGE, and IP NODE NOMINATED NODE READINESS GATES at
    /// priority 1. The cells are `PodRow`'s, the strings `podctl get pods` prints. `node` names
    /// this machine, for pods that do not carry a nodeName.
    static func pods(node: String) -> TableKind {
        TableKind(kind: "Pod", columns: [
            TableColumn(name: "Name", format: "name", description: Self.nameDescription),
            TableColumn(name: "Ready", description: "The aggregate readiness state of this pod for accepting traffic."),
            TableColumn(name: "Status", description: "The aggregate status of the containers in this pod."),
            TableColumn(name: "Restarts", description: "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            TableColumn(name: "Age", description: Self.ageDescription),
            TableColumn(name: "IP", description: "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.", priority: 1),
            TableColumn(name: "Node", description: "NodeName indicates in which node this pod is scheduled.", priority: 1),
            TableColumn(name: "Nominated Node", description: "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.", priority: 1),
            TableColumn(name: "Readiness Gates", description: "If specified, all readiness gates will be evaluated for pod readiness.", priority: 1),
        ], cells: { pod, now in
            let row = PodRow(pod: pod, now: now, localNode: { node })
            return [row.name, row.ready, row.status, row.restarts, row.age, row.ip, row.node, row.nominatedNode, row.readinessGates]
                .map { .string($0) }
        })
    }

    /// Events, as the API server's `printEvent`: LAST SEEN TYPE REASON OBJECT MESSAGE, and
    /// SUBOBJECT SOURCE FIRST SEEN COUNT NAME at priority 1.
    static let events = TableKind(kind: "Event", columns: [
        TableColumn(name: "Last Seen", description: "The time at which the most recent occurrence of this event was recorded."),
        TableColumn(name: "Type", description: "Type of this event (Normal, Warning), new types could be added in the future"),
        TableColumn(name: "Reason", description: "This should be a short, machine understandable string that gives the reason for the transition into the object's current status."),
        TableColumn(name: "Object", description: "The object that this event is about."),
        TableColumn(name: "Subobject", description: "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2].", priority: 1),
        TableColumn(name: "Source", description: "The component reporting this event. Should be a short machine understandable string.", priority: 1),
        TableColumn(name: "Message", description: "A human-readable description of the status of this operation."),
        TableColumn(name: "First Seen", description: "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)", priority: 1),
        TableColumn(name: "Count", description: "The number of times this event has occurred.", priority: 1),
        TableColumn(name: "Name", format: "name", description: Self.nameDescription, priority: 1),
    ], cells: { event, now in
        func text(_ value: JSONValue?) -> String { value?.stringValue ?? "" }
        var firstSeen = PrintedTime.age(since: text(event["firstTimestamp"]), now: now)
        if text(event["firstTimestamp"]).isEmpty { firstSeen = PrintedTime.age(since: text(event["eventTime"]), now: now) }
        var lastSeen = text(event["lastTimestamp"]).isEmpty ? firstSeen : PrintedTime.age(since: text(event["lastTimestamp"]), now: now)
        var count = event["count"]?.intValue ?? 0
        if let series = event["series"], series.objectValue != nil {
            lastSeen = PrintedTime.age(since: text(series["lastObservedTime"]), now: now)
            count = series["count"]?.intValue ?? 0
        } else if count == 0 {
            count = 1
        }
        let involved = event["involvedObject"]
        let kind = text(involved?["kind"]).lowercased()
        let name = text(involved?["name"])
        let component = text(event["source"]?["component"]).isEmpty ? text(event["reportingController"]) : text(event["source"]?["component"])
        let instance = text(event["source"]?["host"]).isEmpty ? text(event["reportingInstance"]) : text(event["source"]?["host"])
        let source = component.isEmpty ? "" : (instance.isEmpty ? component : component + ", " + instance)
        return [.string(lastSeen), .string(text(event["type"])), .string(text(event["reason"])),
                .string(name.isEmpty ? kind : kind + "/" + name), .string(text(involved?["fieldPath"])), .string(source),
                .string(text(event["message"]).trimmingSpaces), .string(firstSeen), .int(count), .string(text(event["metadata"]?["name"]))]
    })

    /// ConfigMaps, as the API server's `printConfigMap`: NAME DATA AGE.
    static let configMaps = TableKind(kind: "ConfigMap", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Data", type: "integer", description: "Data contains the configuration data."),
        TableColumn(name: "Age", description: Self.ageDescription),
    ], cells: { object, now in
        let keys = (object["data"]?.objectValue?.count ?? 0) + (object["binaryData"]?.objectValue?.count ?? 0)
        return [.string(object["metadata"]?["name"]?.stringValue ?? ""), .int(Int64(keys)),
                .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now))]
    })

    /// PodDisruptionBudgets, as the API server's `printPodDisruptionBudget`: NAME MIN AVAILABLE
    /// MAX UNAVAILABLE ALLOWED DISRUPTIONS AGE ("N/A" for the one of the two not set).
    static let podDisruptionBudgets = TableKind(kind: "PodDisruptionBudget", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Min Available", description: "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction, i.e. even in the absence of the evicted pod.  So for example you can prevent all voluntary evictions by specifying \"100%\"."),
        TableColumn(name: "Max Unavailable", description: "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction, i.e. even in absence of the evicted pod. For example, one can prevent all voluntary evictions by specifying 0. This is a mutually exclusive setting with \"minAvailable\"."),
        TableColumn(name: "Allowed Disruptions", type: "integer", description: "Number of pod disruptions that are currently allowed."),
        TableColumn(name: "Age", description: Self.ageDescription),
    ], cells: { object, now in
        func amount(_ value: JSONValue?) -> String {
            guard let value, !value.isNull else { return "N/A" }
            return value.stringValue ?? value.intValue.map(String.init) ?? "N/A"
        }
        return [.string(object["metadata"]?["name"]?.stringValue ?? ""), .string(amount(object["spec"]?["minAvailable"])),
                .string(amount(object["spec"]?["maxUnavailable"])), .int(object["status"]?["disruptionsAllowed"]?.intValue ?? 0),
                .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now))]
    })

    /// PriorityClasses, as the API server's `printPriorityClass`: NAME VALUE GLOBAL-DEFAULT AGE
    /// PREEMPTIONPOLICY.
    static let priorityClasses = TableKind(kind: "PriorityClass", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Value", type: "integer", description: "value represents the integer value of this priority class. This is the actual priority that pods receive when they have the name of this class in their pod spec."),
        TableColumn(name: "Global-Default", type: "boolean", description: "globalDefault specifies whether this PriorityClass should be considered as the default priority for pods that do not have any priority class. Only one PriorityClass can be marked as `globalDefault`. However, if more than one PriorityClasses exists with their `globalDefault` field set to true, the smallest value of such global default PriorityClasses will be used as the default priority."),
        TableColumn(name: "Age", description: Self.ageDescription),
        TableColumn(name: "PreemptionPolicy", description: "preemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset."),
    ], cells: { object, now in
        [.string(object["metadata"]?["name"]?.stringValue ?? ""), .int(object["value"]?.intValue ?? 0),
         .bool(object["globalDefault"]?.boolValue ?? false),
         .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now)),
         .string(object["preemptionPolicy"]?.stringValue ?? "")]
    })

    /// ServiceAccounts, as the API server's `printServiceAccount`: NAME SECRETS AGE.
    static let serviceAccounts = TableKind(kind: "ServiceAccount", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Secrets", type: "integer", description: "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret"),
        TableColumn(name: "Age", description: Self.ageDescription),
    ], cells: { object, now in
        [.string(object["metadata"]?["name"]?.stringValue ?? ""), .int(Int64(object["secrets"]?.arrayValue?.count ?? 0)),
         .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now))]
    })

    /// Secrets, as the API server's `printSecret`: NAME TYPE DATA AGE.
    static let secrets = TableKind(kind: "Secret", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Type", description: "Used to facilitate programmatic handling of secret data."),
        TableColumn(name: "Data", type: "integer", description: "Data contains the secret data."),
        TableColumn(name: "Age", description: Self.ageDescription),
    ], cells: { object, now in
        [.string(object["metadata"]?["name"]?.stringValue ?? ""), .string(object["type"]?.stringValue ?? "Opaque"),
         .int(Int64(object["data"]?.objectValue?.count ?? 0)),
         .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now))]
    })

    /// Namespaces, as the API server's `printNamespace`: NAME STATUS AGE.
    static let namespaces = TableKind(kind: "Namespace", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Status", description: "The status of the namespace"),
        TableColumn(name: "Age", description: Self.ageDescription),
    ], cells: { object, now in
        [.string(object["metadata"]?["name"]?.stringValue ?? ""), .string(object["status"]?["phase"]?.stringValue ?? ""),
         .string(PrintedTime.age(since: object["metadata"]?["creationTimestamp"]?.stringValue ?? "", now: now))]
    })

    /// Nodes, as the API server's `printNode`: NAME STATUS ROLES AGE VERSION, and INTERNAL-IP
    /// EXTERNAL-IP OS-IMAGE KERNEL-VERSION CONTAINER-RUNTIME at priority 1.
    static let nodes = TableKind(kind: "Node", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "Status", description: "The status of the node"),
        TableColumn(name: "Roles", description: "The roles of the node"),
        TableColumn(name: "Age", description: Self.ageDescription),
        TableColumn(name: "Version", description: "Kubelet Version reported by the node."),
        TableColumn(name: "Internal-IP", description: "List of internal IPs in the node.", priority: 1),
        TableColumn(name: "External-IP", description: "List of external IPs in the node.", priority: 1),
        TableColumn(name: "OS-Image", description: "OS image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).", priority: 1),
        TableColumn(name: "Kernel-Version", description: "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", priority: 1),
        TableColumn(name: "Container-Runtime", description: "Container Runtime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).", priority: 1),
    ], cells: { node, now in
        func text(_ value: JSONValue?) -> String { value?.stringValue ?? "" }
        let conditions = node["status"]?["conditions"]?.arrayValue ?? []
        let ready = conditions.contains { text($0["type"]) == "Ready" && text($0["status"]) == "True" }
        var status = ready ? "Ready" : "NotReady"
        if node["spec"]?["unschedulable"]?.boolValue == true { status += ",SchedulingDisabled" }
        var roles: [String] = []
        for (key, value) in node["metadata"]?["labels"]?.objectValue ?? JSONObject() {
            if key.hasPrefix("node-role.kubernetes.io/") {
                roles.append(String(key.dropFirst("node-role.kubernetes.io/".count)))
            } else if key == "kubernetes.io/role", let role = value.stringValue {
                roles.append(role)
            }
        }
        func addresses(_ type: String) -> String {
            let found = (node["status"]?["addresses"]?.arrayValue ?? []).filter { text($0["type"]) == type }.map { text($0["address"]) }
            return found.isEmpty ? "<none>" : found.joined(separator: ",")
        }
        let info = node["status"]?["nodeInfo"]
        func unknown(_ value: String) -> String { value.isEmpty ? "<unknown>" : value }
        return [.string(text(node["metadata"]?["name"])), .string(status),
                .string(roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ",")),
                .string(PrintedTime.age(since: text(node["metadata"]?["creationTimestamp"]), now: now)),
                .string(text(info?["kubeletVersion"])), .string(addresses("InternalIP")), .string(addresses("ExternalIP")),
                .string(unknown(text(info?["osImage"]))), .string(unknown(text(info?["kernelVersion"]))),
                .string(unknown(text(info?["containerRuntimeVersion"])))]
    })

    /// podd's images (`/apis/podd.io/v1/images`), one row per image as `podman images` shows
    /// it, its names joined: NAME IMAGE ID SIZE CREATED, and DIGEST NAMES at priority 1.
    static let images = TableKind(kind: "Image", columns: [
        TableColumn(name: "Name", format: "name", description: "The image's first name (REPOSITORY:TAG), or its ID when it has none."),
        TableColumn(name: "Image ID", description: "The first 12 hex digits of the image's config digest, as docker and podman show image IDs."),
        TableColumn(name: "Size", description: "The size of the image's layers, uncompressed, in SI units (as podman images)."),
        TableColumn(name: "Created", description: "The time since the image was built (its config's created), or since it was stored when the config does not say."),
        TableColumn(name: "Digest", description: "The digest of the manifest the image was resolved to (a pull's repo digest).", priority: 1),
        TableColumn(name: "Names", description: "Every name of the image (REPOSITORY:TAG), <none> when it has none.", priority: 1),
    ], cells: { image, now in
        func text(_ value: JSONValue?) -> String { value?.stringValue ?? "" }
        var id = text(image["Id"])
        if id.hasPrefix("sha256:") { id.removeFirst("sha256:".count) }
        let names = (image["RepoTags"]?.arrayValue ?? []).compactMap(\.stringValue)
        let size = image["Size"]?.intValue.map { imageSize(Int(clamping: $0)) } ?? "<unknown>"
        let created = text(image["Created"]).isEmpty ? text(image["metadata"]?["creationTimestamp"]) : text(image["Created"])
        return [.string(text(image["metadata"]?["name"])), .string(String(id.prefix(12))), .string(size),
                .string(PrintedTime.age(since: created, now: now)), .string(text(image["Digest"])),
                .string(names.isEmpty ? "<none>" : names.joined(separator: ","))]
    })

    /// PodMetrics (`kubectl get podmetrics`), with the figures `kubectl top pod` prints
    /// (PodMetricsRow): NAME CPU MEMORY, and WINDOW at priority 1, as metrics-server's table.
    static let podMetrics = TableKind(kind: "PodMetrics", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "CPU", format: "quantity", description: "The CPU the pod's containers use together, in millicores (as kubectl top pod's CPU(cores))."),
        TableColumn(name: "Memory", format: "quantity", description: "The working set of the pod's containers together, in Mi (as kubectl top pod's MEMORY(bytes))."),
        TableColumn(name: "Window", format: "duration", description: "The interval over which the CPU usage was measured.", priority: 1),
    ], cells: { metrics, _ in
        let row = PodMetricsRow(metrics)
        return [.string(row.name), .string(row.cpu), .string(row.memory), .string(row.window)]
    })

    /// NodeMetrics: NAME CPU MEMORY, and WINDOW at priority 1 (as kubectl top node's).
    static let nodeMetrics = TableKind(kind: "NodeMetrics", columns: [
        TableColumn(name: "Name", format: "name", description: Self.nameDescription),
        TableColumn(name: "CPU", format: "quantity", description: "The CPU the node uses, in millicores (as kubectl top node's CPU(cores))."),
        TableColumn(name: "Memory", format: "quantity", description: "The node's memory working set, in Mi (as kubectl top node's MEMORY(bytes))."),
        TableColumn(name: "Window", format: "duration", description: "The interval over which the CPU usage was measured.", priority: 1),
    ], cells: { metrics, _ in
        let cpu = PodMetricsRow.milliCores(metrics["usage"]?["cpu"]?.stringValue ?? "")
        let memory = PodMetricsRow.bytes(metrics["usage"]?["memory"]?.stringValue ?? "")
        return [.string(metrics["metadata"]?["name"]?.stringValue ?? ""), .string("\(cpu)m"), .string("\(memory / (1 << 20))Mi"),
                .string(metrics["window"]?.stringValue ?? "")]
    })

    static let nameDescription = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names"
    static let ageDescription = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata"
}
