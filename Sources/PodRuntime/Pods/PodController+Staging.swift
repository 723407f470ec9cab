import Glibc
import PodImages
import PodModel
import PodOS

/// Containers set up ahead of their turn. Init containers run one at a time, each after the
/// one before has succeeded; most of a container's start (its spawn built here, its cgroup,
/// log and root made by the monitor: about 3 ms) does not depend on the one before it. So
/// when a container starts, what the machine will start after it (the next init container,
/// or the app containers after the last) is spawned with `hold=1`: the monitor makes its
/// process and root, which then waits. When the machine orders its start, `start` sends
/// `release` instead of a spawn, and only the exec is left.
///
/// The machine still decides: nothing held runs without its `start`. A held container is
/// given up (`forget`) when the pod stops or ends, replaced when `start` wants another run,
/// and lost with its monitor. One that could not be set up is dropped quietly (`monitorSaid`),
/// and `start` spawns it anew at its turn, when a failure reaches the machine as usual.
///
/// Chained starts: an init container whose predecessor is an init container too is held with
/// `after=PREDECESSOR`, and the monitor execs it itself the moment the predecessor exits 0
/// unsignalled, without waiting for podd to hear of the exit and answer (about 1.2 ms per
/// init container). That is the machine's decision taken ahead, as Kubernetes' rules make it
/// certain: a regular init container that succeeded is followed by the next one, and the last
/// one by the app containers when the pod has no sidecar (held with `after=LAST`). The monitor
/// tells no one of such a start until `start` releases the container, which claims it (its
/// `started`, then its `exited` if it has ended, in order); a stop podd asks for (a signal)
/// means no chain. Whatever could change the decision or the spawn withdraws the chain first:
/// an exit after which the machine did not start the follower (`exitHandled`), a ConfigMap,
/// Secret, label or image change (`giveUpChained`); a chained run given up so is killed
/// unreported.
extension PodController {
    /// A container set up ahead: its spawn, the environment it was given, and the container
    /// whose clean exit starts it (a chained start), if any.
    struct HeldSpawn {
        var build: SpawnBuild
        var environment: [String]
        var after: String?
    }

    /// At most this many containers are held at once (each is a process with its root
    /// mounted, about 150 kB).
    static let heldLimit = 8

    /// What follows container `name` when it has started, in the order the machine starts
    /// them: the init containers after it, then the app containers; nothing after an app or
    /// ephemeral container.
    func followers(of name: String) -> [String] {
        guard let index = pod.spec.initContainers.firstIndex(where: { $0.name == name }) else { return [] }
        return pod.spec.initContainers[(index + 1)...].map(\.name) + pod.spec.containers.map(\.name)
    }

    /// Whether container `name` may be set up before its turn: its image is here (no pull
    /// at its start) and nothing of its root depends on what runs before it. A subPath is
    /// made (or found) in its volume when the container starts, and an init container may be
    /// what writes it: such a container is set up at its turn.
    func mayStage(_ name: String, _ def: ContainerDefinition) -> Bool {
        guard let image = ImageName.parsed(def.image), startsWithoutPull(image, policy: pullPolicy(name, image: def.image)) else { return false }
        return !def.volumeMounts.contains { !($0.subPath ?? "").isEmpty || !($0.subPathExpr ?? "").isEmpty }
    }

    /// After a batch of actions has been sent: sets up the followers of the containers the
    /// batch started, and gives up what is held once the pod stops or has ended.
    func stageFollowers() {
        let started = startedInBatch
        startedInBatch = []
        guard let sandbox, !gone, !lifecycle.isTerminating, !lifecycle.isFinished else {
            giveUpHeld()
            return
        }
        for name in started.flatMap(followers) where heldSpawns[name] == nil && heldSpawns.count < Self.heldLimit {
            // Only one the machine has yet to start in this round (a sidecar's restart is
            // followed by containers that ran already).
            guard case .waiting? = lifecycle.container(name)?.state, let def = definition(name), mayStage(name, def) else { continue }
            let build = buildSpawn(name, def, run: (runs[name]?.run ?? -1) + 1)
            // A refusal is not kept: `start` meets it again at the container's turn and says it then.
            guard case .built(var message, _) = build.outcome, let environment = configuredEnvironments[name] else { continue }
            message.append("hold", "1")
            let after = chainedPredecessor(of: name)
            if let after { message.append("after", after) }
            do throws(OSError) { try sandbox.send(message) } catch { continue }
            heldSpawns[name] = HeldSpawn(build: build, environment: environment, after: after)
        }
    }

    /// The init container whose success starts container `name` at once. For an init
    /// container, the one just before it, when both run to completion (a sidecar before it is
    /// followed once it has started, not when it ends). For an app container, the last init
    /// container, when the pod has no sidecar: the machine starts the app containers together
    /// once every init container has succeeded (`advanceInit`), and with no sidecar that is
    /// the last one's success.
    func chainedPredecessor(of name: String) -> String? {
        let inits = pod.spec.initContainers
        guard let index = inits.firstIndex(where: { $0.name == name }) else {
            guard pod.spec.containers.contains(where: { $0.name == name }), let last = inits.last,
                  !inits.contains(where: { $0.restartPolicy == .always }) else { return nil }
            return last.name
        }
        guard index > 0, inits[index].restartPolicy != .always, inits[index - 1].restartPolicy != .always else { return nil }
        return inits[index - 1].name
    }

    /// After the machine has handled container `name`'s exit: when it was a clean one and
    /// the machine did not start the follower chained to it, that follower may have started
    /// in the monitor all the same, and those after it in turn: every chained one is given
    /// up, so that no run podd did not order survives (nor is claimed later as a new one).
    /// After a failure the monitor started nothing, and the follower stays held for the next
    /// run.
    func exitHandled(_ name: String, exitCode: Int32, signal: Int32) {
        guard exitCode == 0 && signal == 0, heldSpawns.values.contains(where: { $0.after == name }) else { return }
        giveUpChained()
    }

    /// Gives up the chained held containers: something their start depends on changed
    /// (a ConfigMap or Secret, the pod's labels or annotations, an image name), which
    /// `start` reads again at their turn.
    func giveUpChained() {
        for (name, held) in heldSpawns where held.after != nil { giveUp(name) }
    }

    /// An image name may point elsewhere now: chained starts set up with the image it had
    /// are given up, and `start` resolves the name again at their turn.
    public func imagesChanged() {
        guard !gone else { return }
        giveUpChained()
    }

    /// Gives up one held container: no longer held here, and `forget` to the monitor.
    private func giveUp(_ name: String) {
        heldSpawns[name] = nil
        try? sandbox?.send(ControlMessage.forget(name))
    }

    /// The held spawn of run `run` of container `name`, turned into its release; nil when
    /// nothing (or another run) is held, or when what it was set up with has changed since
    /// (its environment, from ConfigMaps, Secrets and the pod's fields, or its image: kubelet
    /// reads both at the start), which `start`'s spawn then replaces.
    func releaseHeld(_ name: String, _ def: ContainerDefinition, run: Int) -> SpawnBuild? {
        guard let held = heldSpawns.removeValue(forKey: name), held.build.run == run,
              case let .built(_, logPath) = held.build.outcome else { return nil }
        let image = ImageName.parsed(def.image).flatMap { context.images.resolveForStatus($0) }
        guard image?.imageID ?? "" == held.build.imageID,
              let now = try? resolveEnvironment(def), now.assignments == held.environment else {
            context.logger.debug("pod \(pod.metadata.name): container \(name) changed since it was set up ahead: spawned anew")
            // A chained start may have run already with what changed (the change came as
            // its predecessor ended): the new spawn kills it, and its output goes too.
            if held.after != nil { unlink(logPath) }
            return nil
        }
        var release = ControlMessage(op: "release")
        release.append("name", name)
        var build = held.build
        build.outcome = .built(release, logPath: logPath)
        return build
    }

    /// Gives up every held container (the pod stops or has ended: none of them will run).
    func giveUpHeld() {
        for name in heldSpawns.keys.sorted() { giveUp(name) }
    }
}
