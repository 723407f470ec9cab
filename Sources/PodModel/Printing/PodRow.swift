/// One row of a pod table, computed as the API server's `printPod` computes it
/// (k8s.io/kubernetes pkg/printers/internalversion/printers.go): podctl prints it, and podd
/// serves it as a `Table` row to kubectl, so the two show the same strings.
public struct PodRow: Equatable, Sendable {
    public var namespace: String
    public var name: String
    /// `ready/total` app containers (restartable init containers, native sidecars, count too).
    public var ready: String
    public var status: String
    /// The restart count, with `(5s ago)` of the last restart when known.
    public var restarts: String
    public var age: String
    public var ip: String
    public var node: String
    public var nominatedNode: String
    public var readinessGates: String

    public static let headers = ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    public static let wideHeaders = ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"]

    public func cells(wide: Bool, withNamespace: Bool) -> [String] {
        var cells = withNamespace ? [namespace] : []
        cells += [name, ready, status, restarts, age]
        if wide { cells += [ip, node, nominatedNode, readinessGates] }
        return cells
    }

    /// `now` is the time in seconds since the epoch; `localNode` names this machine, for pods
    /// that do not carry a nodeName.
    public init(pod: JSONValue, now: Double, localNode: () -> String) {
        let spec = pod["spec"]
        let status = pod["status"]
        let metadata = pod["metadata"]
        namespace = metadata["namespace"].string
        name = metadata["name"].string

        var restarts = 0
        var restartableInitContainerRestarts = 0
        var totalContainers = spec["containers"].array.count
        var readyContainers = 0
        var lastRestartDate: Double? = nil
        var lastRestartableInitContainerRestartDate: Double? = nil

        let podPhase = status["phase"].string
        var reason = podPhase
        if !status["reason"].string.isEmpty { reason = status["reason"].string }

        // A pod held back by a scheduling gate shows SchedulingGated.
        for condition in status["conditions"].array
        where condition["type"].string == "PodScheduled" && condition["reason"].string == "SchedulingGated" {
            reason = "SchedulingGated"
        }

        var restartableInitContainers = Set<String>()
        for container in spec["initContainers"].array where container["restartPolicy"].string == "Always" {
            restartableInitContainers.insert(container["name"].string)
            totalContainers += 1
        }

        func finishedAt(_ containerStatus: JSONValue?) -> Double? {
            let terminated = containerStatus["lastState"]["terminated"]
            guard terminated.isObject else { return nil }
            // A terminated state without a time counts as the zero time, which never wins.
            return PrintedTime.seconds(terminated["finishedAt"].string)
        }

        var initializing = false
        let initContainerStatuses = status["initContainerStatuses"].array
        let initContainerCount = spec["initContainers"].array.count
        for (index, container) in initContainerStatuses.enumerated() {
            restarts += container["restartCount"].int
            if let finished = finishedAt(container), finished > (lastRestartDate ?? -Double.infinity) {
                lastRestartDate = finished
            }
            let isRestartable = restartableInitContainers.contains(container["name"].string)
            if isRestartable {
                restartableInitContainerRestarts += container["restartCount"].int
                if let finished = finishedAt(container),
                   finished > (lastRestartableInitContainerRestartDate ?? -Double.infinity) {
                    lastRestartableInitContainerRestartDate = finished
                }
            }
            let state = container["state"]
            let terminated = state["terminated"]
            let waiting = state["waiting"]
            if terminated.isObject && terminated["exitCode"].int == 0 {
                continue
            } else if isRestartable && container["started"].bool {
                if container["ready"].bool { readyContainers += 1 }
                continue
            } else if terminated.isObject {
                // Initialization failed.
                if terminated["reason"].string.isEmpty {
                    if terminated["signal"].int != 0 {
                        reason = "Init:Signal:\(terminated["signal"].int)"
                    } else {
                        reason = "Init:ExitCode:\(terminated["exitCode"].int)"
                    }
                } else {
                    reason = "Init:" + terminated["reason"].string
                }
                initializing = true
            } else if waiting.isObject && !waiting["reason"].string.isEmpty && waiting["reason"].string != "PodInitializing" {
                reason = "Init:" + waiting["reason"].string
                initializing = true
            } else {
                reason = "Init:\(index)/\(initContainerCount)"
                initializing = true
            }
            break
        }

        if !initializing || Self.hasCondition(status, "Initialized") {
            restarts = restartableInitContainerRestarts
            lastRestartDate = lastRestartableInitContainerRestartDate
            var hasRunning = false
            for container in status["containerStatuses"].array.reversed() {
                restarts += container["restartCount"].int
                if let finished = finishedAt(container), finished > (lastRestartDate ?? -Double.infinity) {
                    lastRestartDate = finished
                }
                let state = container["state"]
                let waiting = state["waiting"]
                let terminated = state["terminated"]
                if waiting.isObject && !waiting["reason"].string.isEmpty {
                    reason = waiting["reason"].string
                } else if terminated.isObject && !terminated["reason"].string.isEmpty {
                    reason = terminated["reason"].string
                } else if terminated.isObject {
                    if terminated["signal"].int != 0 {
                        reason = "Signal:\(terminated["signal"].int)"
                    } else {
                        reason = "ExitCode:\(terminated["exitCode"].int)"
                    }
                } else if container["ready"].bool && state["running"].isObject {
                    hasRunning = true
                    readyContainers += 1
                }
            }
            // Back to Running when a container still runs after another completed.
            if reason == "Completed" && hasRunning {
                reason = Self.hasCondition(status, "Ready") ? "Running" : "NotReady"
            }
        }

        let deletionTimestamp = metadata["deletionTimestamp"]
        if !deletionTimestamp.isNull && status["reason"].string == "NodeLost" {
            reason = "Unknown"
        } else if !deletionTimestamp.isNull && podPhase != "Succeeded" && podPhase != "Failed" {
            reason = "Terminating"
        }

        var restartsText = String(restarts)
        if restarts != 0, let lastRestartDate {
            restartsText = "\(restarts) (\(humanDuration(now - lastRestartDate)) ago)"
        }

        self.ready = "\(readyContainers)/\(totalContainers)"
        self.status = reason
        self.restarts = restartsText
        self.age = PrintedTime.age(since: metadata["creationTimestamp"].string, now: now)

        var ip = status["podIPs"][0]["ip"].string
        if ip.isEmpty { ip = status["podIP"].string }
        self.ip = ip.isEmpty ? "<none>" : ip
        // podd runs pods on its own machine: a pod placed on a host (hostIP set) without a
        // nodeName is on this one, named by its hostname.
        var node = spec["nodeName"].string
        if node.isEmpty && !status["hostIP"].string.isEmpty { node = localNode() }
        self.node = node.isEmpty ? "<none>" : node
        let nominated = status["nominatedNodeName"].string
        self.nominatedNode = nominated.isEmpty ? "<none>" : nominated
        let gates = spec["readinessGates"].array
        if gates.isEmpty {
            readinessGates = "<none>"
        } else {
            var trueConditions = 0
            for gate in gates {
                if let condition = status["conditions"].array.first(where: { $0["type"].string == gate["conditionType"].string }),
                   condition["status"].string == "True" {
                    trueConditions += 1
                }
            }
            readinessGates = "\(trueConditions)/\(gates.count)"
        }
    }

    static func hasCondition(_ status: JSONValue?, _ type: String) -> Bool {
        status["conditions"].array.contains { $0["type"].string == type && $0["status"].string == "True" }
    }
}
