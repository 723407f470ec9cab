import Glibc
import PodImages
import PodModel
import PodOS

/// Taking over a pod an earlier podd ran (issue 5: podd restarted, upgraded, or killed). The
/// pod's monitor is not podd's child and outlives it, holding the containers and their
/// output, and recording exits while no podd listens. The new podd finds it, makes sure it is
/// that very process (a pidfd on the recorded pid, then the recorded start time: a pid alone
/// may have been reused), asks it for every container's state, and seeds the lifecycle
/// machine from that and from the status checkpoint the earlier podd kept (restart counts,
/// last states), so the pod carries on: running containers are not restarted, logs and
/// `logs -f` continue with the same run, and a container that exited meanwhile is handled by
/// the restart policy with its real exit code.
extension PodController {
    /// The monitor of this pod, reconnected, and its report.
    struct Adoption {
        var sandbox: PodSandbox
        /// The monitor's `op=state` message for each container it knows, by name.
        var states: [String: ControlMessage]
    }

    /// The status the earlier podd checkpointed (status.json), if any.
    func loadCheckpoint() -> PodStatus? {
        guard let json = context.store.loadStatus(uid: uid) else { return nil }
        return try? PodStatus(json: json, path: .root)
    }

    // MARK: - Recovery notes

    /// What a re-adoption needs that the status checkpoint cannot say: which runs have had
    /// their preStop hook (it runs once per run, also when a stop carries on after a
    /// restart), and when a pending backoff ends (a container's, or the pod's restart), so
    /// that it is neither cut short nor started over; and which containers are being started
    /// while their status still shows the reason of the wait before (CrashLoopBackOff, as
    /// kubelet shows it), which the status alone would not tell from a wait. Saved beside
    /// status.json whenever it changes, in lines of `prestop NAME CONTAINERID`, `backoff NAME
    /// SECONDS NANOS`, `starting NAME` and `podrestart SECONDS NANOS`.
    struct RecoveryNotes: Equatable {
        /// Container name to the container ID of the run whose preStop hook was run.
        var preStopRan: [String: String] = [:]
        var backoffUntil: [String: Timestamp] = [:]
        var starting: Set<String> = []
        var podRestartAt: Timestamp?

        init() {}

        init(_ lifecycle: PodLifecycle) {
            for c in lifecycle.containers {
                if c.preStopRan, let id = c.containerID { preStopRan[c.spec.name] = id }
                switch c.state {
                case let .backoff(until, _, _): backoffUntil[c.spec.name] = until
                case .starting where c.shownWhileStarting != nil, .postStart where c.shownWhileStarting != nil:
                    starting.insert(c.spec.name)
                default: break
                }
            }
            if case let .restartingAt(at) = lifecycle.stage { podRestartAt = at }
        }

        init(text: String) {
            for line in text.split(separator: "\n") {
                let f = line.split(separator: " ").map(String.init)
                switch (f.first, f.count) {
                case ("prestop", 3): preStopRan[f[1]] = f[2]
                case ("backoff", 4):
                    if let s = Int64(f[2]), let n = Int32(f[3]) { backoffUntil[f[1]] = Timestamp(seconds: s, nanoseconds: n) }
                case ("starting", 2): starting.insert(f[1])
                case ("podrestart", 3):
                    if let s = Int64(f[1]), let n = Int32(f[2]) { podRestartAt = Timestamp(seconds: s, nanoseconds: n) }
                default: continue
                }
            }
        }

        var text: String {
            var lines = preStopRan.sorted { $0.key < $1.key }.map { "prestop \($0.key) \($0.value)" }
            lines += backoffUntil.sorted { $0.key < $1.key }.map { "backoff \($0.key) \($0.value.seconds) \($0.value.nanoseconds)" }
            lines += starting.sorted().map { "starting \($0)" }
            if let at = podRestartAt { lines.append("podrestart \(at.seconds) \(at.nanoseconds)") }
            return lines.map { $0 + "\n" }.joined()
        }
    }

    var recoveryNotesPath: String { context.store.directory(uid: uid) + "/recovery-notes" }

    func loadRecoveryNotes() -> RecoveryNotes {
        FileSystem.readString(recoveryNotesPath).map { RecoveryNotes(text: $0) } ?? RecoveryNotes()
    }

    /// Saves the notes (`notes`, when the caller has made them already) when they changed
    /// since last saved (best effort and no fsync, as the status checkpoint: they serve a
    /// podd restarted while the machine runs on).
    func saveRecoveryNotes(_ made: RecoveryNotes? = nil) {
        let notes = made ?? RecoveryNotes(lifecycle)
        guard notes != savedRecoveryNotes else { return }
        let path = recoveryNotesPath
        if savedRecoveryNotes == nil && notes == RecoveryNotes() {
            // Nothing to note yet: no file (one an earlier controller of a replaced spec
            // left would be about other runs).
            unlink(path)
            savedRecoveryNotes = notes
            return
        }
        let bytes = Array(notes.text.utf8)
        let tmp = path + ".tmp"
        do throws(OSError) {
            try FileSystem.write(tmp, bytes)
        } catch {
            return
        }
        guard rename(tmp, path) == 0 else { return }
        savedRecoveryNotes = notes
    }

    // MARK: - Finding the monitor

    /// Reconnects to the monitor an earlier podd left, if it still runs and is the process
    /// monitor.pid names, and asks it for the state of every container.
    func reconnectMonitor() -> Adoption? {
        guard let text = FileSystem.readString(layout.runDirectory + "/monitor.pid") else { return nil }
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard parts.count >= 2, let pid = pid_t(parts[0]), let recorded = UInt64(parts[1]) else { return nil }
        // The pidfd first, then the start time: once the pidfd is open it names one process
        // for good, and if that process has the recorded start time it is the monitor.
        guard let pidfd = try? PidFD(pid: pid), ProcessControl.startTime(of: pid) == recorded, !Self.hasExited(pidfd) else {
            return nil
        }
        guard let sandbox = PodSandbox.reconnect(uid: uid, runDirectory: layout.runDirectory, cgroups: context.cgroups,
                                                 reactor: context.reactor,
                                                 userNamespaces: pod.spec.hostUsers == false ? context.config.userNamespaces : nil)
        else { return nil }
        guard let states = Self.queryStatus(sandbox) else {
            context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): the monitor (pid \(pid)) did not answer op=status; starting the pod afresh")
            sandbox.shutdown()
            return nil
        }
        return Adoption(sandbox: sandbox, states: states)
    }

    /// A pidfd is readable once its process has exited.
    static func hasExited(_ pidfd: PidFD) -> Bool {
        var pfd = pollfd(fd: pidfd.fd, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) > 0
    }

    /// op=status, answered with one op=state per container and op=status-end (before the
    /// connection is handed to the reactor: nothing else reads it yet).
    static func queryStatus(_ sandbox: PodSandbox, timeout: Double = 2) -> [String: ControlMessage]? {
        do { try sandbox.send(ControlMessage(op: "status")) } catch { return nil }
        var states: [String: ControlMessage] = [:]
        let deadline = RuntimeClock.monotonic() + timeout
        while true {
            let remaining = deadline - RuntimeClock.monotonic()
            guard remaining > 0 else { return nil }
            var pfd = pollfd(fd: sandbox.socket.fd, events: Int16(POLLIN), revents: 0)
            let n = poll(&pfd, 1, Int32(remaining * 1000) + 1)
            if n < 0 && errno != EINTR { return nil }
            guard n > 0 else { continue }
            switch sandbox.socket.receive() {
            case .wouldBlock: continue
            case .closed: return nil
            case let .message(m, fds):
                fds.forEach { close($0) }
                if m.op == "status-end" { return states }
                if m.op == "state", let name = m["name"] { states[name] = m }
            }
        }
    }

    // MARK: - Seeding

    /// What the lifecycle needs of each container, from the checkpoint and the monitor, the
    /// exits that happened while no podd listened (to report after restoring), and the
    /// containers recorded as running that the monitor does not know (`vanished`).
    func restoredContainers(checkpoint: PodStatus?, states: [String: ControlMessage], monitorAnswered: Bool = true,
                            notes: RecoveryNotes = RecoveryNotes(), now: Timestamp)
        -> (containers: [PodLifecycle.RestoredContainer], exits: [(String, ControlMessage)], vanished: [String]) {
        let recorded = (checkpoint?.initContainerStatuses ?? []) + (checkpoint?.containerStatuses ?? [])
            + (checkpoint?.ephemeralContainerStatuses ?? [])
        var names = pod.spec.initContainers.map(\.name) + pod.spec.containers.map(\.name)
        names += pod.spec.ephemeralContainers.map(\.name).filter { n in states[n] != nil || recorded.contains { $0.name == n } }
        var out: [PodLifecycle.RestoredContainer] = []
        var exits: [(String, ControlMessage)] = []
        var vanished: [String] = []
        for name in names {
            let cs = recorded.first { $0.name == name }
            var state = cs.map { Self.lifecycleState($0.state, now: now) } ?? .waiting(reason: "PodInitializing", message: nil)
            // A start that shows the wait before it (the notes say so) is a start, as one
            // shown as ContainerCreating is.
            if notes.starting.contains(name), case .waiting = state { state = .starting }
            let wasRunning: Bool
            switch state {
            case .running, .starting: wasRunning = true
            default: wasRunning = false
            }
            if let st = states[name] {
                let startedAt = st.timestamp("startedAt") ?? cs?.state.running?.startedAt ?? now
                if st["state"] == "running" {
                    state = .running(since: startedAt, started: true, ready: true)
                } else if wasRunning {
                    // Ended while podd was away: restored as the run it was, its exit reported next.
                    state = .running(since: startedAt, started: true, ready: true)
                    exits.append((name, st))
                }
                // else: an exit the earlier podd had already handled (it died before `forget`).
            } else if wasRunning, case .running = state {
                // Recorded as running, unknown to the monitor: gone without a trace.
                vanished.append(name)
            }
            // A spawn recorded as sent (ContainerCreating, or noted as starting) that a live
            // monitor does not know never ran: it makes no run (nor log file) of its own.
            // Without a monitor to ask, it may have run.
            let recordedStarting: Bool
            if case .starting = state { recordedStarting = true } else { recordedStarting = false }
            let everStarted = states[name] != nil || (cs.map { $0.restartCount > 0 || $0.state.running != nil || $0.state.terminated != nil
                || $0.lastState.terminated != nil || (!monitorAnswered && recordedStarting) } ?? false)
            // A run podd never saw start (recorded as ContainerCreating) is neither started nor
            // ready as recorded: the machine computes both from the container's probes.
            let recordedRunning = cs?.state.running != nil
            let preStopRan = cs?.containerID.map { notes.preStopRan[name] == $0 } ?? false
            out.append(PodLifecycle.RestoredContainer(
                name: name, state: state,
                lastTermination: cs?.lastState.terminated.map { Self.termination($0, now: now) },
                restartCount: Int(cs?.restartCount ?? 0), everStarted: everStarted, containerID: cs?.containerID,
                started: recordedRunning && cs?.started == true, ready: recordedRunning && cs?.ready == true,
                preStopRan: recordedRunning && preStopRan, backoffUntil: notes.backoffUntil[name]))
        }
        return (out, exits, vanished)
    }

    static func lifecycleState(_ s: ContainerState, now: Timestamp) -> PodLifecycle.State {
        if let r = s.running { return .running(since: r.startedAt ?? now, started: true, ready: true) }
        if let t = s.terminated { return .terminated(termination(t, now: now)) }
        if let w = s.waiting {
            if w.reason == "ContainerCreating" { return .starting }
            return .waiting(reason: w.reason ?? "PodInitializing", message: w.message)
        }
        return .waiting(reason: "PodInitializing", message: nil)
    }

    static func termination(_ t: ContainerStateTerminated, now: Timestamp) -> PodLifecycle.Termination {
        PodLifecycle.Termination.recorded(exitCode: t.exitCode, signal: t.signal ?? 0, reason: t.reason ?? (t.exitCode == 0 ? "Completed" : "Error"),
                                 message: t.message, startedAt: t.startedAt, finishedAt: t.finishedAt ?? now,
                                 containerID: t.containerID)
    }

    /// Each started container's run number (its newest log file), container ID and image.
    func seedRuns(_ restored: [PodLifecycle.RestoredContainer], checkpoint: PodStatus?) {
        let recorded = (checkpoint?.initContainerStatuses ?? []) + (checkpoint?.containerStatuses ?? [])
            + (checkpoint?.ephemeralContainerStatuses ?? [])
        for r in restored where r.everStarted {
            let runsOnDisk = FileSystem.listDirectory(layout.logDirectory + "/" + r.name).compactMap { file -> Int? in
                guard file.hasSuffix(".log") else { return nil }
                return Int(file.dropLast(4))
            }
            let run = runsOnDisk.max() ?? r.restartCount
            let cs = recorded.first { $0.name == r.name }
            var containerID = r.containerID
            if containerID == nil, case .running = r.state { containerID = "podd://" + ImageStore.randomHex(32) }
            runs[r.name] = RunInfo(run: run, containerID: containerID, logPath: layout.logPath(container: r.name, run: run),
                                   imageID: cs?.imageID ?? "")
        }
    }

    // MARK: - Carrying on

    /// After `attach`: seeds the lifecycle from what the earlier podd and the monitor say, then
    /// carries on (probes for the running containers, the exits that happened meanwhile).
    /// `deletion`: the pod's deletionTimestamp, when it was being deleted.
    func resume(_ adoption: Adoption, checkpoint: PodStatus?, deletion: Timestamp?, now: Timestamp) {
        let notes = loadRecoveryNotes()
        let (restored, exits, vanished) = restoredContainers(checkpoint: checkpoint, states: adoption.states, notes: notes, now: now)
        seedRuns(restored, checkpoint: checkpoint)
        var restoredWithIDs = restored
        for i in restoredWithIDs.indices where restoredWithIDs[i].containerID == nil {
            restoredWithIDs[i].containerID = runs[restoredWithIDs[i].name]?.containerID
        }
        verifyContainers(adoption.states)
        // Containers the monitor runs that this spec does not have (podd died while replacing
        // the pod's spec): they go, and their exit is then ignored (not in the machine).
        let known = Set(restored.map(\.name))
        let strangers = adoption.states.filter { !known.contains($0.key) && $0.value["state"] == "running" }.map(\.key).sorted()
        for name in strangers {
            context.logger.info("pod \(pod.metadata.namespace)/\(pod.metadata.name): container \(name) is not in the pod's spec; stopping it")
        }
        let finished = checkpoint?.phase.isTerminal ?? false
        let actions = lifecycle.restore(restoredWithIDs, finished: finished, strangers: strangers, vanished: vanished,
                                        deletion: deletion, podRestartAt: notes.podRestartAt,
                                        evictedWith: Self.evictionMessage(checkpoint), at: now)
        savedRecoveryNotes = notes
        if actions.allSatisfy(Self.changesNothing) && exits.isEmpty {
            // Nothing changed: the checkpoint on disk says it already (rewriting it for every
            // pod is most of a re-adoption's cost); the registry still needs the status.
            for case let .probes(name, kinds) in actions { runProbes(name, kinds) }
            announce("MODIFIED", current())
        } else {
            apply(actions)
        }
        let running = restoredWithIDs.filter {
            if case .running = $0.state { return true }
            return false
        }.map(\.name)
        // Exits the monitor recorded while no podd listened, in the order they happened.
        for (name, st) in exits.sorted(by: { ($0.1.int("finishedAt") ?? 0) < ($1.1.int("finishedAt") ?? 0) }) {
            let exitCode = Int32(st.int("exitCode") ?? 137)
            apply(lifecycle.handle(.exited(name, exitCode: exitCode, signal: Int32(st.int("signal") ?? 0),
                                           startedAt: st.timestamp("startedAt"), finishedAt: st.timestamp("finishedAt") ?? now,
                                           message: terminationMessage(name, exitCode: exitCode)),
                                   at: now))
        }
        // Exited records are no longer needed by the monitor: podd has them now.
        for (name, st) in adoption.states where st["state"] == "exited" {
            try? adoption.sandbox.send(ControlMessage.forget(name))
        }
        watchStorage()
        context.logger.info("pod \(pod.metadata.namespace)/\(pod.metadata.name): re-adopted from monitor \(adoption.sandbox.monitorPID): \(running.count - exits.count) running, \(exits.count) exited while podd was away")
    }

    /// The eviction (or active deadline passed) the checkpoint records: the pod stays ended.
    static func evictionMessage(_ checkpoint: PodStatus?) -> (reason: String, message: String)? {
        guard let checkpoint, checkpoint.phase == .failed, let reason = checkpoint.reason,
              PodLifecycle.endingReasons.contains(reason) else { return nil }
        return (reason, checkpoint.message ?? "")
    }

    /// Whether an action leaves the pod's status as it is (probes only begin).
    static func changesNothing(_ action: PodLifecycle.Action) -> Bool {
        if case .probes = action { return true }
        return false
    }

    /// The monitor's word on each running container, checked against the process itself: a
    /// pidfd on the reported pid, then the start time the monitor recorded at spawn. A
    /// container that fails the check is not the one the monitor started (should never
    /// happen): it is killed, so the restart policy replaces it.
    func verifyContainers(_ states: [String: ControlMessage]) {
        for (name, st) in states where st["state"] == "running" {
            guard let pid = st.int("pid").map({ pid_t($0) }), let start = st.int("starttime").map({ UInt64($0) }) else { continue }
            if let pidfd = try? PidFD(pid: pid), ProcessControl.startTime(of: pid) == start, !Self.hasExited(pidfd) { continue }
            context.logger.warning("pod \(pod.metadata.namespace)/\(pod.metadata.name): container \(name): pid \(pid) is not the process the monitor started; killing it")
            sendSignal(name, 9)
        }
    }

    /// No monitor survived (a reboot, or it was killed): whatever is left of the pod goes, and
    /// the restart counts and last states carry over to the fresh start.
    func discardLeftovers(checkpoint: PodStatus?, now: Timestamp) {
        _ = try? context.cgroups?.killAndRemovePod(uid: uid)
        try? FileSystem.removeTree(layout.runDirectory)
        guard let checkpoint else { return }
        let (restored, _, _) = restoredContainers(checkpoint: checkpoint, states: [:], monitorAnswered: false, now: now)
        seedRuns(restored, checkpoint: checkpoint)
        let lost = PodLifecycle.Termination.recorded(exitCode: 137, signal: 0, reason: "ContainerStatusUnknown",
                                            message: "The container could not be located when the pod was recovered",
                                            startedAt: nil, finishedAt: now, containerID: nil)
        if checkpoint.phase.isTerminal {
            // Done before: it stays done (as kubelet leaves a finished pod).
            let ended = restored.map { r -> PodLifecycle.RestoredContainer in
                var r = r
                if r.state == .starting { r.state = .terminated(lost) }
                if case .running = r.state { r.state = .terminated(lost) }
                return r
            }
            _ = lifecycle.restore(ended, finished: true, evictedWith: Self.evictionMessage(checkpoint), at: now)
        } else {
            lifecycle.carryOver(restored, lost: lost)
        }
    }
}
