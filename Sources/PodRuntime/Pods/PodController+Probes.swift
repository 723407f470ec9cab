import Glibc
import PodModel
import PodOS

/// Probes and lifecycle hooks of a pod's containers, run as the lifecycle machine asks (the
/// `probes`, `runPostStart` and `runPreStop` actions) and reported back to it as they end:
/// the machine counts probe results against their thresholds and decides what a failure
/// means; this side only runs handlers (kubelet's prober workers and hook runner).
extension PodController {
    enum Hook {
        case postStart, preStop
    }

    /// The spec of a container podd starts (app, init or sidecar; ephemeral ones have no probes).
    func containerSpec(_ name: String) -> Container? {
        pod.spec.containers.first { $0.name == name } ?? pod.spec.initContainers.first { $0.name == name }
    }

    /// The handlers of one container: httpGet, tcpSocket and grpc in the pod's network
    /// namespace (to the pod's IP), exec in the container (through an exec session of its
    /// monitor).
    func handlers(for name: String) -> ContainerHandlers? {
        guard let netns else { return nil }
        return ContainerHandlers(netns: netns, podIP: networkAddresses().podIP, exec: { [weak self] command, timeout in
            guard let self else { return nil }
            return await self.runInContainer(name, command: command, timeout: timeout)
        })
    }

    // MARK: - Hooks

    /// Starts a container's hook; its end is reported to the machine. Returns the report at
    /// once when there is nothing to run (no hook, or no sandbox to run it in).
    func runHook(_ hook: Hook, container name: String) -> PodLifecycle.Event? {
        let c = containerSpec(name)
        let handler = hook == .postStart ? c?.lifecycle?.postStart : c?.lifecycle?.preStop
        guard let c, let handler, let handlers = handlers(for: name), let run = runs[name]?.run else {
            return hook == .postStart ? .postStartDone(name, ok: true, message: "") : .preStopDone(name, ok: true, message: "")
        }
        // The machine's deadline ends a hook that takes too long (SIGKILL); the handler's own
        // timeout only bounds the request.
        // Clamped: a pod stored before grace periods were bounded may carry one no Duration
        // can hold (Task.sleep would trap on it).
        let grace = pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds
        let timeout = Double(min(max(grace, 30), SecondsLimits.maximumGracePeriod))
        Task { [weak self] in
            let outcome = await handlers.hook(handler, container: c, timeout: timeout)
            await self?.hookFinished(hook, container: name, run: run, outcome)
        }
        return nil
    }

    private func hookFinished(_ hook: Hook, container name: String, run: Int, _ outcome: ContainerHandlers.Outcome) {
        guard runs[name]?.run == run else { return }
        let event: PodLifecycle.Event = hook == .postStart ? .postStartDone(name, ok: outcome.ok, message: outcome.message)
                                                           : .preStopDone(name, ok: outcome.ok, message: outcome.message)
        apply(lifecycle.handle(event, at: RuntimeClock.now()))
    }

    func sendSignal(_ name: String, _ sig: Int32) {
        var m = ControlMessage(op: "signal")
        m.append("name", name)
        m.append("signal", String(sig))
        try? sandbox?.send(m)
    }

    // MARK: - Probes

    /// Runs exactly `kinds` of the container's probes for its current run (none: stops them).
    func runProbes(_ name: String, _ kinds: [PodLifecycle.ProbeKind]) {
        stopProbes(name)
        guard let c = containerSpec(name), let run = runs[name]?.run, let handlers = handlers(for: name) else { return }
        var tasks: [Task<Void, Never>] = []
        for kind in kinds {
            let probe: Probe?
            switch kind {
            case .startup: probe = c.startupProbe
            case .liveness: probe = c.livenessProbe
            case .readiness: probe = c.readinessProbe
            }
            guard let probe else { continue }
            tasks.append(loop(name, run: run, kind: kind, probe: probe, container: c, handlers: handlers))
        }
        probeTasks[name] = tasks
    }

    func stopProbes(_ name: String) {
        probeTasks[name]?.forEach { $0.cancel() }
        probeTasks[name] = nil
    }

    /// One probe of one run: waits the initial delay, then probes every period and reports
    /// each result, until the machine stops it. Timers only: nothing runs between two probes.
    private func loop(_ name: String, run: Int, kind: PodLifecycle.ProbeKind, probe: Probe, container c: Container,
                      handlers: ContainerHandlers) -> Task<Void, Never> {
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(Double(probe.initialDelaySeconds)))
            while !Task.isCancelled {
                let outcome = await handlers.probe(probe.handler, container: c, timeout: Double(max(probe.timeoutSeconds, 1)))
                if Task.isCancelled { return }
                guard let self else { return }
                await self.probeReported(name, run: run, kind: kind, outcome)
                try? await Task.sleep(for: .seconds(Double(max(probe.periodSeconds, 1))))
            }
        }
    }

    private func probeReported(_ name: String, run: Int, kind: PodLifecycle.ProbeKind, _ outcome: ContainerHandlers.Outcome) {
        guard runs[name]?.run == run else { return }
        apply(lifecycle.handle(.probeResult(name, kind: kind, ok: outcome.ok, message: outcome.message), at: RuntimeClock.now()))
    }
}
