import Glibc
import PodModel
import PodOS

/// Probes and lifecycle hooks of a pod's containers (kubelet's prober and hook runner):
/// startup gates liveness and readiness; liveness failures stop the container (then the
/// restart policy decides); readiness drives `ready`; postStart runs before a container
/// counts as running; preStop runs before SIGTERM.
extension PodController {
    enum ProbeKind: String {
        case startup = "Startup", liveness = "Liveness", readiness = "Readiness"
    }

    /// The spec of a container podd starts (app, init or sidecar; ephemeral ones have no probes).
    func containerSpec(_ name: String) -> Container? {
        pod.spec.containers.first { $0.name == name } ?? pod.spec.initContainers.first { $0.name == name }
    }

    /// The handlers of one container: httpGet and tcpSocket in the pod's network namespace,
    /// exec in the container (through an exec session of its monitor).
    func handlers(for name: String) -> ContainerHandlers? {
        guard let netns else { return nil }
        return ContainerHandlers(netns: netns, exec: { [weak self] command, timeout in
            guard let self else { return nil }
            return await self.runInContainer(name, command: command, timeout: timeout)
        })
    }

    // MARK: - Hooks

    func runPostStart(_ name: String) {
        guard let c = containerSpec(name), let hook = c.lifecycle?.postStart, let handlers = handlers(for: name), let run = runs[name]?.run else {
            apply(lifecycle.handle(.postStartDone(name, ok: true, message: ""), at: RuntimeClock.now()))
            return
        }
        let timeout = Double(max(pod.spec.terminationGracePeriodSeconds, 30))
        Task { [weak self] in
            let outcome = await handlers.hook(hook, container: c, timeout: timeout)
            await self?.postStartFinished(name, run: run, outcome)
        }
    }

    private func postStartFinished(_ name: String, run: Int, _ outcome: ContainerHandlers.Outcome) {
        guard runs[name]?.run == run else { return }
        let message = outcome.ok ? "" : "PostStartHook failed: \(outcome.message)"
        apply(lifecycle.handle(.postStartDone(name, ok: outcome.ok, message: message), at: RuntimeClock.now()))
        if outcome.ok { startProbes(name) }
    }

    /// Sends SIGTERM to a container, after its preStop hook when it has one (once per run),
    /// and SIGKILL if it still runs when the grace period is over (the pod's, or `grace`).
    func stopContainer(_ name: String, grace: Double? = nil) {
        guard let run = runs[name]?.run else { return }
        let seconds = grace ?? Double(pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds)
        Task { [weak self] in
            try? await Task.sleep(for: .seconds(max(seconds, 0)))
            await self?.killIfStillRunning(name, run: run)
        }
        if let c = containerSpec(name), let hook = c.lifecycle?.preStop, let handlers = handlers(for: name), preStopRun[name] != run {
            preStopRun[name] = run
            let timeout = Double(pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds)
            Task { [weak self] in
                let outcome = await handlers.hook(hook, container: c, timeout: max(timeout, 1))
                await self?.preStopFinished(name, run: run, outcome)
            }
            return
        }
        sendSignal(name, 15)
    }

    private func preStopFinished(_ name: String, run: Int, _ outcome: ContainerHandlers.Outcome) {
        guard runs[name]?.run == run else { return }
        if !outcome.ok {
            record(type: "Warning", reason: "FailedPreStopHook", message: "PreStopHook failed: \(outcome.message)", container: name)
        }
        sendSignal(name, 15)
    }

    func sendSignal(_ name: String, _ sig: Int32) {
        var m = ControlMessage(op: "signal")
        m.append("name", name)
        m.append("signal", String(sig))
        try? sandbox?.send(m)
    }

    // MARK: - Probes

    /// Starts the probes of a container's run once it is running (after postStart).
    func startProbes(_ name: String) {
        stopProbes(name)
        guard let c = containerSpec(name), let run = runs[name]?.run, handlers(for: name) != nil else { return }
        if let startup = c.startupProbe {
            probeTasks[name] = [loop(name, run: run, kind: .startup, probe: startup, container: c)]
        } else {
            startSteadyProbes(name, run: run, container: c)
        }
    }

    private func startSteadyProbes(_ name: String, run: Int, container c: Container) {
        var tasks: [Task<Void, Never>] = []
        if let p = c.livenessProbe { tasks.append(loop(name, run: run, kind: .liveness, probe: p, container: c)) }
        if let p = c.readinessProbe { tasks.append(loop(name, run: run, kind: .readiness, probe: p, container: c)) }
        probeTasks[name] = tasks
    }

    func stopProbes(_ name: String) {
        probeTasks[name]?.forEach { $0.cancel() }
        probeTasks[name] = nil
    }

    /// One probe of one run: waits the initial delay, then probes every period until the run
    /// ends or the probe's job is done (startup passed, or the container was stopped). Timers
    /// only: nothing runs between two due probes.
    private func loop(_ name: String, run: Int, kind: ProbeKind, probe: Probe, container c: Container) -> Task<Void, Never> {
        guard let handlers = handlers(for: name) else { return Task {} }
        return Task { [weak self] in
            try? await Task.sleep(for: .seconds(Double(probe.initialDelaySeconds)))
            var successes = 0
            var failures = 0
            while !Task.isCancelled {
                let outcome = await handlers.probe(probe.handler, container: c, timeout: Double(max(probe.timeoutSeconds, 1)))
                if Task.isCancelled { return }
                if outcome.ok { successes += 1; failures = 0 } else { failures += 1; successes = 0 }
                guard let self else { return }
                let goOn = await self.probeResult(name, run: run, kind: kind, probe: probe, container: c, outcome: outcome,
                                                  successes: successes, failures: failures)
                if !goOn { return }
                try? await Task.sleep(for: .seconds(Double(max(probe.periodSeconds, 1))))
            }
        }
    }

    /// Applies one probe result; returns whether the probe keeps running.
    private func probeResult(_ name: String, run: Int, kind: ProbeKind, probe: Probe, container c: Container,
                             outcome: ContainerHandlers.Outcome, successes: Int, failures: Int) -> Bool {
        guard runs[name]?.run == run, lifecycle.container(name)?.isRunning == true else { return false }
        let now = RuntimeClock.now()
        if !outcome.ok {
            record(type: "Warning", reason: "Unhealthy", message: "\(kind.rawValue) probe failed: \(outcome.message)", container: name)
        }
        switch kind {
        case .startup:
            if outcome.ok && successes >= Int(probe.successThreshold) {
                apply(lifecycle.handle(.startupSucceeded(name), at: now))
                startSteadyProbes(name, run: run, container: c)
                return false
            }
            if failures >= Int(probe.failureThreshold) {
                kill(name, reason: "failed startup probe", grace: nil)
                return false
            }
        case .liveness:
            if failures >= Int(probe.failureThreshold) {
                kill(name, reason: "failed liveness probe", grace: nil)
                return false
            }
        case .readiness:
            let ready = lifecycle.container(name)?.ready ?? false
            if outcome.ok && successes >= Int(probe.successThreshold) && !ready {
                apply(lifecycle.handle(.readiness(name, ready: true), at: now))
            } else if !outcome.ok && failures >= Int(probe.failureThreshold) && ready {
                apply(lifecycle.handle(.readiness(name, ready: false), at: now))
            }
        }
        return true
    }

    /// Stops a container whose probe failed: preStop, SIGTERM, SIGKILL after the grace period;
    /// its exit is then a failure the restart policy handles.
    private func kill(_ name: String, reason: String, grace: Int64?) {
        record(type: "Normal", reason: "Killing", message: "Container \(name) \(reason), will be restarted", container: name)
        apply(lifecycle.handle(.killing(name, reason: reason), at: RuntimeClock.now()))
        stopProbes(name)
        stopContainer(name, grace: grace.map(Double.init))
    }

    private func killIfStillRunning(_ name: String, run: Int) {
        guard runs[name]?.run == run, lifecycle.container(name)?.isRunning == true else { return }
        sendSignal(name, 9)
    }
}
