import PodModel
import PodRuntime

/// The metrics.k8s.io/v1beta1 PodMetrics API (what `kubectl top pod` reads, as
/// metrics-server serves it) and `/metrics` in Prometheus' text format, with cAdvisor's and
/// kube-state-metrics' names plus podd's own. Both read the pods' cgroups when asked.
struct MetricsRoutes {
    let registry: PodRegistry
    let sampler: PodUsageSampler

    static let groupVersion = "metrics.k8s.io/v1beta1"

    /// `GET .../pods` (a namespace, or all) and `GET .../namespaces/NS/pods/NAME`.
    /// Each answers a Table (TableKind.podMetrics) or the metadata when the client asks, as
    /// every resource.
    func podMetrics(_ r: APIRequest, namespace: String?, name: String?) async throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        if let namespace, let name {
            guard let pod = await registry.get(PodRegistry.Key(namespace, name)) else {
                throw .notFound(name, kind: "pods.metrics.k8s.io")
            }
            guard let item = item(pod) else { throw .notFound(name, kind: "pods.metrics.k8s.io") }
            return try PodAPIHandler.single(r, item, kind: .podMetrics, resourceVersion: "")
        }
        var pods = await registry.list(namespace: namespace)
        if let selector = r.queryValue("labelSelector"), !selector.isEmpty {
            let parsed = try LabelSelector(selector)
            pods = pods.filter { parsed.matches($0.json) }
        }
        sampler.retain(uids: Set(await registry.list(namespace: nil).compactMap(\.metadata.uid)))
        // The registry lists pods by namespace and name already.
        let items = pods.compactMap(item)
        guard form == .object else {
            return PodAPIHandler.list(items, kind: "PodMetricsList", apiVersion: Self.groupVersion, resourceVersion: "", form: form,
                                      table: try PodAPIHandler.tableBuilder(r, form: form, kind: .podMetrics))
        }
        return PodAPIHandler.json(200, .object(JSONObject([
            ("kind", "PodMetricsList"), ("apiVersion", .string(Self.groupVersion)),
            ("metadata", .object(JSONObject())), ("items", .array(items)),
        ])))
    }

    /// `GET .../nodes[/NAME]`: the NodeMetrics of podd's one node (`kubectl top node`).
    func nodeMetrics(_ r: APIRequest, node: Node, name: String?) throws(StatusError) -> APIResponse {
        let form = try ResponseForm(r)
        if let name, name != node.name { throw .notFound(name, kind: "nodes.metrics.k8s.io") }
        guard let usage = sampler.nodeUsage(name: node.name) else { throw .notFound(node.name, kind: "nodes.metrics.k8s.io") }
        var metadata = JSONObject([("name", .string(node.name)), ("creationTimestamp", .string(RuntimeClock.now().rfc3339))])
        metadata["labels"] = .object(JSONObject(node.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        let item = JSONValue.object(JSONObject([
            ("kind", "NodeMetrics"), ("apiVersion", .string(Self.groupVersion)), ("metadata", .object(metadata)),
            ("timestamp", .string(RuntimeClock.now().rfc3339)), ("window", .string(String(format3: usage.windowSeconds) + "s")),
            ("usage", .object(JSONObject([("cpu", .string("\(usage.cpuMillicores * 1_000_000)n")),
                                          ("memory", .string("\(usage.memoryWorkingSetBytes / 1024)Ki"))]))),
        ]))
        if name != nil { return try PodAPIHandler.single(r, item, kind: .nodeMetrics, resourceVersion: "") }
        let selector = try LabelSelector(r.queryValue("labelSelector") ?? "")
        let items = [item].filter { selector.matches($0) }
        guard form == .object else {
            return PodAPIHandler.list(items, kind: "NodeMetricsList", apiVersion: Self.groupVersion, resourceVersion: "", form: form,
                                      table: try PodAPIHandler.tableBuilder(r, form: form, kind: .nodeMetrics))
        }
        return PodAPIHandler.json(200, .object(JSONObject([
            ("kind", "NodeMetricsList"), ("apiVersion", .string(Self.groupVersion)),
            ("metadata", .object(JSONObject())), ("items", .array(items)),
        ])))
    }

    /// One PodMetrics: cpu in nanocores and memory in Ki, as metrics-server writes them.
    private func item(_ pod: Pod) -> JSONValue? {
        guard let usage = sampler.usage(of: pod), !usage.containers.isEmpty else { return nil }
        var metadata = JSONObject([("name", .string(pod.metadata.name)), ("namespace", .string(pod.metadata.namespace)),
                                   ("creationTimestamp", .string(RuntimeClock.now().rfc3339))])
        if !pod.metadata.labels.isEmpty {
            metadata["labels"] = .object(JSONObject(pod.metadata.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        let containers: [JSONValue] = usage.containers.map { c in
            .object(JSONObject([("name", .string(c.name)), ("usage", .object(JSONObject([
                ("cpu", .string("\(c.cpuMillicores * 1_000_000)n")),
                ("memory", .string("\(c.memoryWorkingSetBytes / 1024)Ki")),
            ])))]))
        }
        let window = String(format3: usage.pod.windowSeconds)
        return .object(JSONObject([
            ("kind", "PodMetrics"), ("apiVersion", .string(Self.groupVersion)), ("metadata", .object(metadata)),
            ("timestamp", .string(RuntimeClock.now().rfc3339)), ("window", .string(window + "s")),
            ("containers", .array(containers)),
        ]))
    }

    // MARK: Prometheus

    /// `/metrics`: per container cpu, memory, OOM kills and restarts, per pod the phase, and
    /// podd's API and pod start latencies and monitor count.
    func prometheus() async -> String {
        // By namespace and name, as the registry lists them.
        let pods = await registry.list(namespace: nil)
        // What is kept of pods that have gone (rates' samples, open control files) goes.
        sampler.retain(uids: Set(pods.compactMap(\.metadata.uid)))
        var cpu = "# HELP container_cpu_usage_seconds_total Cumulative cpu time consumed in seconds.\n# TYPE container_cpu_usage_seconds_total counter\n"
        var memory = "# HELP container_memory_working_set_bytes Current working set in bytes.\n# TYPE container_memory_working_set_bytes gauge\n"
        var oom = "# HELP container_oom_events_total Count of out of memory events observed for the container.\n# TYPE container_oom_events_total counter\n"
        var restarts = "# HELP kube_pod_container_status_restarts_total The number of container restarts per container.\n# TYPE kube_pod_container_status_restarts_total counter\n"
        var phases = "# HELP kube_pod_status_phase The pods current phase.\n# TYPE kube_pod_status_phase gauge\n"
        for pod in pods {
            let ns = Self.escape(pod.metadata.namespace)
            let name = Self.escape(pod.metadata.name)
            for phase in ["Pending", "Succeeded", "Failed", "Unknown", "Running"] {
                phases += "kube_pod_status_phase{namespace=\"\(ns)\",pod=\"\(name)\",phase=\"\(phase)\"} \(pod.status.phase.rawValue == phase ? 1 : 0)\n"
            }
            for status in pod.status.initContainerStatuses + pod.status.containerStatuses {
                restarts += "kube_pod_container_status_restarts_total{namespace=\"\(ns)\",pod=\"\(name)\",container=\"\(Self.escape(status.name))\"} \(status.restartCount)\n"
            }
            guard let usage = sampler.usage(of: pod) else { continue }
            for c in usage.containers {
                let labels = "{namespace=\"\(ns)\",pod=\"\(name)\",container=\"\(Self.escape(c.name))\"}"
                cpu += "container_cpu_usage_seconds_total\(labels) \(Double(c.cpuNanoseconds) / 1e9)\n"
                memory += "container_memory_working_set_bytes\(labels) \(c.memoryWorkingSetBytes)\n"
                oom += "container_oom_events_total\(labels) \(c.oomKills)\n"
            }
        }
        var text = cpu + memory + oom + restarts + phases
        text += "# HELP podd_monitors Pod monitors (one per pod podd holds).\n# TYPE podd_monitors gauge\npodd_monitors \(await registry.count)\n"
        text += LatencyHistogram.apiRequests.text + LatencyHistogram.podStart.text
        return text
    }

    /// A label value as the text format escapes it (backslash, quote, newline).
    static func escape(_ value: String) -> String {
        // Names are DNS labels: nearly always nothing to escape, and no copy to make.
        guard value.utf8.contains(where: { $0 == 0x5C || $0 == 0x22 || $0 == 0x0A }) else { return value }
        var out = ""
        for ch in value {
            switch ch {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.append(ch)
            }
        }
        return out
    }
}

extension String {
    /// A number with three decimals ("1.002").
    init(format3 value: Double) {
        let thousandths = Int64((value * 1000).rounded())
        let fraction = String(thousandths % 1000)
        self = "\(thousandths / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }
}
