/// Builds the Kubernetes PodStatus a user sees from the lifecycle state machine, the way
/// kubelet computes it: container statuses (convertToAPIContainerStatuses), the phase
/// (getPhase, terminal phases sticky) and the conditions (pkg/kubelet/status/generate.go).
public enum PodStatusBuilder {
    public static func build(spec: PodSpec, lifecycle: PodLifecycle, startTime: Timestamp?,
                             imageIDs: [String: String], images: [String: String] = [:], conditions clock: inout ConditionClock,
                             terminalPhase: inout PodPhase?, now: Timestamp, external: [PodCondition] = []) -> PodStatus {
        func statuses(_ containers: [(name: String, image: String)]) -> [ContainerStatus] {
            containers.map { c in
                let record = lifecycle.container(c.name)
                return containerStatus(name: c.name, image: images[c.name] ?? c.image, imageID: imageIDs[c.name] ?? "", record: record)
            }
        }
        var status = PodStatus()
        status.initContainerStatuses = statuses(spec.initContainers.map { ($0.name, $0.image) })
        // An init container that completed (exit 0) is ready, as kubelet's prober manager
        // reports it (UpdatePodStatus); a native sidecar keeps the readiness of its run.
        for (index, c) in spec.initContainers.enumerated() where c.restartPolicy != .always {
            if status.initContainerStatuses[index].state.terminated?.exitCode == 0 { status.initContainerStatuses[index].ready = true }
        }
        status.containerStatuses = statuses(spec.containers.map { ($0.name, $0.image) })
        status.ephemeralContainerStatuses = spec.ephemeralContainers.compactMap { e in
            // An ephemeral container appears once podd has tried to start it.
            guard let record = lifecycle.container(e.name) else { return nil }
            return containerStatus(name: e.name, image: images[e.name] ?? e.image, imageID: imageIDs[e.name] ?? "", record: record)
        }
        var phase = getPhase(spec: spec, statuses: status.initContainerStatuses + status.containerStatuses,
                             podIsTerminal: lifecycle.isFinished)
        if let eviction = lifecycle.eviction {
            // kubelet sets these when it decides the eviction, before the containers stop.
            phase = .failed
            status.reason = eviction.reason
            status.message = eviction.message
        }
        if let sticky = terminalPhase {
            phase = sticky
        } else if phase == .succeeded || phase == .failed {
            terminalPhase = phase
        }
        status.phase = phase
        status.startTime = startTime
        status.hostIP = "127.0.0.1"
        status.podIP = nil
        status.qosClass = QOSClass(spec).rawValue
        status.conditions = conditions(spec: spec, status: status, phase: phase, clock: &clock, now: now, external: external)
        return status
    }

    static func containerStatus(name: String, image: String, imageID: String, record: PodLifecycle.Container?) -> ContainerStatus {
        var cs = ContainerStatus(name: name, image: image, imageID: imageID)
        guard let record else {
            cs.state = ContainerState(waiting: ContainerStateWaiting(reason: "PodInitializing"))
            return cs
        }
        cs.restartCount = Int32(record.restartCount)
        cs.containerID = record.containerID
        switch record.state {
        case let .waiting(reason, message), let .backoff(_, reason, message):
            cs.state = ContainerState(waiting: ContainerStateWaiting(reason: reason, message: message))
            cs.started = false
        case .starting, .postStart:
            let shown = record.shownWhileStarting
            cs.state = ContainerState(waiting: ContainerStateWaiting(reason: shown?.reason ?? "ContainerCreating", message: shown?.message))
            cs.started = false
        case let .running(since, started, ready):
            cs.state = ContainerState(running: ContainerStateRunning(startedAt: since))
            cs.started = started
            cs.ready = ready
        case let .stopping(stop):
            // Running until it has exited, as kubelet shows it.
            cs.state = ContainerState(running: ContainerStateRunning(startedAt: stop.since))
            cs.started = stop.started
            cs.ready = stop.ready
        case let .terminated(t):
            cs.state = ContainerState(terminated: terminated(t))
            cs.started = false
        }
        if let last = record.lastTermination {
            cs.lastState = ContainerState(terminated: terminated(last))
        }
        return cs
    }

    static func terminated(_ t: PodLifecycle.Termination) -> ContainerStateTerminated {
        var out = ContainerStateTerminated(exitCode: t.exitCode, reason: t.reason)
        out.signal = t.signal == 0 ? nil : t.signal
        out.message = t.message
        out.startedAt = t.startedAt
        out.finishedAt = t.finishedAt
        out.containerID = t.containerID
        return out
    }

    /// kubelet's getPhase (pkg/kubelet/kubelet_pods.go).
    static func getPhase(spec: PodSpec, statuses info: [ContainerStatus], podIsTerminal: Bool) -> PodPhase {
        func find(_ name: String) -> ContainerStatus? { info.first { $0.name == name } }
        var pendingInitialization = 0
        var failedInitialization = 0
        for c in spec.initContainers where c.restartPolicy != .always {
            guard let s = find(c.name) else { pendingInitialization += 1; continue }
            if s.state.running != nil {
                pendingInitialization += 1
            } else if let t = s.state.terminated {
                if t.exitCode != 0 { failedInitialization += 1 }
            } else if s.state.waiting != nil {
                if let last = s.lastState.terminated {
                    if last.exitCode != 0 { failedInitialization += 1 }
                } else {
                    pendingInitialization += 1
                }
            } else {
                pendingInitialization += 1
            }
        }
        var unknown = 0, running = 0, waiting = 0, stopped = 0, succeeded = 0
        for c in spec.initContainers where c.restartPolicy == .always {
            guard let s = find(c.name) else { unknown += 1; continue }
            if s.state.running != nil {
                if s.started != true { pendingInitialization += 1 }
                running += 1
            } else if s.state.terminated != nil {
                // Terminated sidecars do not count for the phase.
            } else if s.state.waiting != nil {
                if s.lastState.terminated == nil {
                    pendingInitialization += 1
                    waiting += 1
                }
            } else {
                pendingInitialization += 1
                unknown += 1
            }
        }
        var anyRegularStarted = false
        for c in spec.containers {
            guard let s = find(c.name) else { unknown += 1; continue }
            if s.state.running != nil {
                running += 1
                anyRegularStarted = true
            } else if let t = s.state.terminated {
                stopped += 1
                anyRegularStarted = true
                if t.exitCode == 0 { succeeded += 1 }
            } else if s.state.waiting != nil {
                if s.lastState.terminated != nil {
                    stopped += 1
                    anyRegularStarted = true
                } else {
                    waiting += 1
                }
            } else {
                unknown += 1
            }
        }
        if failedInitialization > 0 && spec.restartPolicy == .never { return .failed }
        if (pendingInitialization > 0 && !anyRegularStarted) || waiting > 0 { return .pending }
        if running > 0 && unknown == 0 { return .running }
        if running == 0 && stopped > 0 && unknown == 0 {
            if podIsTerminal { return stopped == succeeded ? .succeeded : .failed }
            if spec.restartPolicy == .always { return .running }
            if stopped == succeeded { return .succeeded }
            if spec.restartPolicy == .never { return .failed }
            return .running
        }
        return .pending
    }

    /// kubelet's pod conditions, in the order kubelet lists them, then the `external` ones
    /// controllers set through the pod's status (readiness gates among them).
    static func conditions(spec: PodSpec, status: PodStatus, phase: PodPhase, clock: inout ConditionClock,
                           now: Timestamp, external: [PodCondition] = []) -> [PodCondition] {
        var out: [PodCondition] = []
        func add(_ type: String, _ ok: Bool, reason: String? = nil, message: String? = nil) {
            var c = PodCondition(type: type, status: ok ? "True" : "False")
            c.reason = ok && reason != "PodCompleted" ? nil : reason
            c.message = ok ? nil : message
            c.lastTransitionTime = clock.transition(type, ok ? "True" : "False", now: now)
            c.lastProbeTime = nil
            out.append(c)
        }
        add("PodReadyToStartContainers", true)

        // Initialized: every (non-sidecar) init container exited 0, every sidecar started.
        var incomplete: [String] = []
        for c in spec.initContainers {
            let s = status.initContainerStatuses.first { $0.name == c.name }
            let done = c.restartPolicy == .always ? (s?.started == true)
                                                   : (s?.state.terminated?.exitCode == 0)
            if !done { incomplete.append(c.name) }
        }
        // As generate.go: a pod that succeeded, or whose app containers have started before,
        // has been initialized, whatever its init containers show now.
        let anyAppStarted = status.containerStatuses.contains {
            $0.state.running != nil || $0.state.terminated != nil || $0.lastState.terminated != nil
        }
        if phase == .succeeded || anyAppStarted || incomplete.isEmpty {
            add("Initialized", true, reason: phase == .succeeded && !spec.initContainers.isEmpty ? "PodCompleted" : nil)
        } else {
            add("Initialized", false, reason: "ContainersNotInitialized",
                message: "containers with incomplete status: [\(incomplete.joined(separator: " "))]")
        }

        // ContainersReady and Ready: every app container (and sidecar) ready.
        var unready: [String] = []
        for c in spec.initContainers where c.restartPolicy == .always {
            if status.initContainerStatuses.first(where: { $0.name == c.name })?.ready != true { unready.append(c.name) }
        }
        for c in spec.containers where status.containerStatuses.first(where: { $0.name == c.name })?.ready != true {
            unready.append(c.name)
        }
        if phase == .succeeded {
            add("Ready", false, reason: "PodCompleted")
            add("ContainersReady", false, reason: "PodCompleted")
        } else if unready.isEmpty && phase == .running {
            // generatePodReadyCondition: ready containers, and every readiness gate's condition True.
            let gates = spec.readinessGates.compactMap { gate -> String? in
                guard let c = external.first(where: { $0.type == gate.conditionType }) else {
                    return "corresponding condition of pod readiness gate \"\(gate.conditionType)\" does not exist."
                }
                return c.status == "True" ? nil : "the status of pod readiness gate \"\(gate.conditionType)\" is not \"True\", but \(c.status)"
            }
            if gates.isEmpty {
                add("Ready", true)
            } else {
                add("Ready", false, reason: "ReadinessGatesNotReady", message: gates.joined(separator: ", "))
            }
            add("ContainersReady", true)
        } else {
            let message = "containers with unready status: [\(unready.joined(separator: " "))]"
            add("Ready", false, reason: "ContainersNotReady", message: message)
            add("ContainersReady", false, reason: "ContainersNotReady", message: message)
        }
        add("PodScheduled", true)
        return out + external.filter { !PodConditionOwners.kubelet.contains($0.type) }
    }
}

/// Remembers when each pod condition last changed status (lastTransitionTime).
public struct ConditionClock: Sendable {
    private var last: [String: (status: String, time: Timestamp)] = [:]

    public init() {}

    mutating func transition(_ type: String, _ status: String, now: Timestamp) -> Timestamp {
        if let l = last[type], l.status == status { return l.time }
        last[type] = (status, now)
        return now
    }
}
