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
extension PodController {
    /// A container set up ahead: its spawn, and the environment it was given.
    struct HeldSpawn {
        var build: SpawnBuild
        var environment: [String]
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
        guard let image = try? ImageName(parsing: def.image), startsWithoutPull(image, policy: pullPolicy(name, image: def.image)) else { return false }
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
            do throws(OSError) { try sandbox.send(message) } catch { continue }
            heldSpawns[name] = HeldSpawn(build: build, environment: environment)
        }
    }

    /// The held spawn of run `run` of container `name`, turned into its release; nil when
    /// nothing (or another run) is held, or when what it was set up with has changed since
    /// (its environment, from ConfigMaps, Secrets and the pod's fields, or its image: kubelet
    /// reads both at the start), which `start`'s spawn then replaces.
    func releaseHeld(_ name: String, _ def: ContainerDefinition, run: Int) -> SpawnBuild? {
        guard let held = heldSpawns.removeValue(forKey: name), held.build.run == run,
              case let .built(_, logPath) = held.build.outcome else { return nil }
        let image = (try? ImageName(parsing: def.image)).flatMap { context.images.resolveForStatus($0) }
        guard image?.imageID ?? "" == held.build.imageID,
              let now = try? resolveEnvironment(def), now.assignments == held.environment else {
            context.logger.debug("pod \(pod.metadata.name): container \(name) changed since it was set up ahead: spawned anew")
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
        for name in heldSpawns.keys.sorted() {
            try? sandbox?.send({ var m = ControlMessage(op: "forget"); m.append("name", name); return m }())
        }
        heldSpawns = [:]
    }
}
