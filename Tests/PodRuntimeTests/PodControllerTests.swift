import PodModel
import PodOS
import Synchronization
import Testing
@testable import PodRuntime

/// PodController against a fake monitor: it carries out the lifecycle machine's actions, hears
/// the monitor's messages in order, and numbers what it publishes.
struct PodControllerTests {
    /// The pod of `yaml`, admitted by a controller of its own (generation 1), and the fake
    /// monitor of its sandbox.
    func admitted(_ yaml: String, _ fixture: RuntimeFixture) async throws -> (Pod, PodController, FakeSandbox) {
        let pod = try #require(try PodManifest.pods(fromText: yaml).first)
        let controller = PodController(pod: pod, context: fixture.context, generation: 1)
        await controller.admit()
        return (pod, controller, try #require(fixture.lastSandbox))
    }

    func status(_ controller: PodController) async -> ContainerStatus? {
        await controller.current().status.containerStatuses.first { $0.name == "c" }
    }

    /// "started" then "exited" at once, for many pods: each exit is handled after its start,
    /// so no container is left Running by a start handled last; each pod restarts its
    /// container exactly once.
    @Test func monitorMessagesAreHandledInTheOrderSent() async throws {
        let fixture = try RuntimeFixture()
        var pairs: [(PodController, FakeSandbox)] = []
        for i in 0..<20 {
            let controller = PodController(pod: try RuntimeFixture.pod("p\(i)", uid: "uid-\(i)"), context: fixture.context, generation: i)
            await controller.admit()
            let sandbox = try #require(fixture.lastSandbox)
            pairs.append((controller, sandbox))
        }
        for (_, sandbox) in pairs {
            #expect(sandbox.spawns == ["c"])
            let now = RuntimeClock.now()
            sandbox.say("started", "c", [("startedAt", nanoseconds(now))])
            sandbox.say("exited", "c", [("exitCode", "1"), ("signal", "0"), ("startedAt", nanoseconds(now)),
                                         ("finishedAt", nanoseconds(now))])
        }
        for (controller, sandbox) in pairs {
            #expect(await eventually { sandbox.spawns.count == 2 }, "the container is started again after its exit")
            let cs = await status(controller)
            #expect(cs?.state.running == nil, "left running: \(String(describing: cs?.state))")
            #expect(cs?.state.waiting?.reason == "ContainerCreating")
            #expect(cs?.restartCount == 1)
            #expect(cs?.lastState.terminated?.exitCode == 1)
        }
    }

    /// A backoff the API shows is on disk first: the recovery notes, which a restarted podd
    /// reads to keep waiting it out (the monitor does not know it), are written before the
    /// status that shows the container in CrashLoopBackOff is announced. Announced first, a
    /// podd killed in between came back without them and restarted the container at once.
    /// The start after the backoff still shows CrashLoopBackOff, and is noted as a start.
    @Test func aBackoffIsNotedBeforeItIsShown() async throws {
        let fixture = try RuntimeFixture()
        var context = fixture.context
        let notesWhenShown = Mutex<[String]>([])
        let notes = context.config.stateDir + "/pods/uid-backoff/recovery-notes"
        context.publish = { _, pod, _, _ in
            if pod.status.containerStatuses.first?.state.waiting?.reason == "CrashLoopBackOff" {
                notesWhenShown.withLock { $0.append(FileSystem.readString(notes) ?? "") }
            }
        }
        let controller = PodController(pod: try RuntimeFixture.pod("backoff", uid: "uid-backoff", scope: "container"),
                                       context: context, generation: 1)
        await controller.admit()
        let sandbox = try #require(fixture.lastSandbox)
        // The first restart comes at once; the second waits out a backoff (1 s here).
        for run in 1...2 {
            let now = nanoseconds(RuntimeClock.now())
            sandbox.say("started", "c", [("startedAt", now)])
            sandbox.say("exited", "c", [("exitCode", "1"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])
            if run == 1 { #expect(await eventually { sandbox.spawns.count == 2 }) }
        }
        #expect(await eventually { !notesWhenShown.withLock { $0 }.isEmpty })
        let seen = notesWhenShown.withLock { $0 }
        // Shown while waiting: the backoff is noted. Shown while the start after it is made
        // (kubelet's reason cache): the start is, so a restarted podd does not take it for a wait.
        #expect(seen.first?.hasPrefix("backoff c ") == true, "recovery notes when the backoff was shown: \(seen)")
        #expect(seen.allSatisfy { $0.hasPrefix("backoff c ") || $0 == "starting c\n" }, "recovery notes when the backoff was shown: \(seen)")
    }

    /// What follows a started init container is spawned held (hold=1), except a container
    /// with a subPath mount; the machine's next start releases it; a pod that ends gives up
    /// what is still held.
    @Test func initContainersAreSetUpAheadAndStartedOnlyByTheMachine() async throws {
        let fixture = try RuntimeFixture()
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: ahead, namespace: default, uid: uid-ahead}
            spec:
              restartPolicy: Never
              volumes: [{name: v, emptyDir: {}}]
              initContainers:
              - {name: i1, image: busybox, command: ["true"]}
              - {name: i2, image: busybox, command: ["true"]}
              - {name: i3, image: busybox, command: ["true"], volumeMounts: [{name: v, mountPath: /x, subPath: s}]}
              containers:
              - {name: c, image: busybox, command: [sleep, "3600"]}
            """
        let (_, controller, sandbox) = try await admitted(yaml, fixture)
        // i1 starts; i2 and c are held; i3 (subPath) is not.
        #expect(sandbox.sentOps == ["spawn i1", "spawn i2 hold", "spawn c hold"])
        // i2 is chained to i1 (the monitor starts it when i1 exits 0), and the app container to
        // the last init container, i3, though i3 itself is set up at its turn.
        #expect(sandbox.chains == ["i2": "i1", "c": "i3"])
        let now = nanoseconds(RuntimeClock.now())
        sandbox.say("started", "i1", [("startedAt", now)])
        sandbox.say("exited", "i1", [("exitCode", "0"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])
        #expect(await eventually { sandbox.sentOps.count == 5 })
        #expect(sandbox.sentOps.suffix(2) == ["forget i1", "release i2"])
        // A held container that could not be set up is spawned at its turn, quietly.
        sandbox.say("failed", "c", [("stage", "cgroup"), ("errno", "28"), ("message", "no space")])
        sandbox.say("started", "i2", [("startedAt", now)])
        #expect(await eventually { await controller.current().status.initContainerStatuses.first { $0.name == "i2" }?.state.running != nil })
        #expect(await controller.current().status.containerStatuses.first?.state.terminated == nil)
        // i2 fails: the pod (restartPolicy Never) fails, and nothing more is started.
        sandbox.say("exited", "i2", [("exitCode", "3"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])
        #expect(await eventually { await controller.current().status.phase == .failed })
        #expect(!sandbox.sentOps.contains("spawn i3") && !sandbox.sentOps.contains("spawn c") && !sandbox.sentOps.contains("release c"))
    }

    /// Only a regular init container after a regular init container is chained (a sidecar is
    /// followed once it has started, not when it ends), and no app container of a pod with a
    /// sidecar; a change of what a start reads (here
    /// the pod's labels) gives the chained ones up, and leaves the other held ones.
    @Test func chainedStartsFollowRegularInitContainersAndAreGivenUpOnChanges() async throws {
        let fixture = try RuntimeFixture()
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: chains, namespace: default, uid: uid-chains}
            spec:
              initContainers:
              - {name: i1, image: busybox, command: ["true"]}
              - {name: side, image: busybox, command: [sleep, "3600"], restartPolicy: Always}
              - {name: i2, image: busybox, command: ["true"]}
              - {name: i3, image: busybox, command: ["true"]}
              containers:
              - {name: c, image: busybox, command: [sleep, "3600"]}
            """
        let (pod, controller, sandbox) = try await admitted(yaml, fixture)
        #expect(sandbox.sentOps == ["spawn i1", "spawn side hold", "spawn i2 hold", "spawn i3 hold", "spawn c hold"])
        #expect(sandbox.chains == ["i3": "i2"])
        var metadata = pod.metadata
        metadata.labels["tier"] = "web"
        _ = await controller.updateMetadata(metadata)
        #expect(sandbox.sentOps.last == "forget i3")
        #expect(sandbox.sentOps.filter { $0.hasPrefix("forget") } == ["forget i3"])
        // i1 succeeds: the sidecar is released as before, and i3 is set up again at its turn.
        let now = nanoseconds(RuntimeClock.now())
        sandbox.say("started", "i1", [("startedAt", now)])
        sandbox.say("exited", "i1", [("exitCode", "0"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])
        #expect(await eventually { sandbox.sentOps.contains("release side") })
        #expect(!sandbox.sentOps.contains("forget i2") && !sandbox.sentOps.contains("forget side"))
    }

    /// A pod that ends while containers are held gives them up (forget), and starts none.
    @Test func heldContainersAreGivenUpWhenThePodEnds() async throws {
        let fixture = try RuntimeFixture()
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: given-up, namespace: default, uid: uid-given-up}
            spec:
              restartPolicy: Never
              initContainers: [{name: i1, image: busybox, command: ["false"]}]
              containers: [{name: c, image: busybox, command: [sleep, "3600"]}]
            """
        let (_, controller, sandbox) = try await admitted(yaml, fixture)
        #expect(sandbox.sentOps == ["spawn i1", "spawn c hold"])
        let now = nanoseconds(RuntimeClock.now())
        sandbox.say("started", "i1", [("startedAt", now)])
        sandbox.say("exited", "i1", [("exitCode", "1"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])
        #expect(await eventually { sandbox.sentOps.contains("forget c") })
        #expect(await controller.current().status.phase == .failed)
        #expect(!sandbox.sentOps.contains("release c") && sandbox.spawns == ["i1", "c"])
    }

    @Test func publishedStatusesAreNumberedInOrder() async throws {
        let fixture = try RuntimeFixture()
        let controller = PodController(pod: try RuntimeFixture.pod("p", uid: "uid-1"), context: fixture.context, generation: 7)
        await controller.admit()
        let sandbox = try #require(fixture.lastSandbox)
        sandbox.say("started", "c")
        #expect(await eventually { await status(controller)?.state.running != nil })
        let sequences = fixture.published.withLock { $0.filter { $0.generation == 7 }.map(\.sequence) }
        #expect(sequences.count >= 2)
        #expect(sequences == sequences.sorted() && Set(sequences).count == sequences.count)
    }

    /// Messages the monitor sent together are handled in order and published once: a
    /// container's start and exit read at once make one snapshot, with the exit.
    @Test func messagesReadTogetherArePublishedOnce() async throws {
        let fixture = try RuntimeFixture()
        let controller = PodController(pod: try RuntimeFixture.pod("p", uid: "uid-1", restartPolicy: "Never"),
                                       context: fixture.context, generation: 3)
        await controller.admit()
        let sandbox = try #require(fixture.lastSandbox)
        #expect(await eventually { fixture.published.withLock { $0.count } > 0 })
        let before = fixture.published.withLock { $0.count }
        let now = nanoseconds(RuntimeClock.now())
        sandbox.sayTogether([("started", "c", [("startedAt", now)]),
                             ("exited", "c", [("exitCode", "0"), ("signal", "0"), ("startedAt", now), ("finishedAt", now)])])
        #expect(await eventually { await controller.current().status.phase == .succeeded })
        let after = fixture.published.withLock { Array($0.dropFirst(before)) }
        #expect(after.count == 1, "published \(after.count) times")
        #expect(after.first?.pod.status.containerStatuses.first?.state.terminated?.exitCode == 0)
        #expect(after.first?.pod.status.phase == .succeeded)
    }

    /// The registry keeps the newest snapshot of a pod when an older one arrives after it.
    @Test func theRegistryDropsAStaleSnapshot() async throws {
        let fixture = try RuntimeFixture()
        let registry = PodRegistry(features: .all)
        await registry.bind(fixture.context)
        let created = try await registry.create(try RuntimeFixture.pod("p"))
        let key = PodRegistry.Key("default", "p")
        let generation = try #require(await registry.controller(key)).generation
        var newer = created
        newer.status.message = "newer"
        var older = created
        older.status.message = "older"
        await registry.published("MODIFIED", newer, generation: generation, sequence: 1000)
        await registry.published("MODIFIED", older, generation: generation, sequence: 999)
        #expect(await registry.get(key)?.status.message == "newer")
        await registry.published("MODIFIED", older, generation: generation, sequence: 1001)
        #expect(await registry.get(key)?.status.message == "older")
        // A snapshot taken before the deletion was marked does not take the mark away.
        let deleting = try await registry.delete(key, gracePeriod: 30)
        #expect(deleting.metadata.deletionTimestamp != nil)
        await registry.published("MODIFIED", older, generation: generation, sequence: 1002)
        #expect(await registry.get(key)?.metadata.deletionTimestamp == deleting.metadata.deletionTimestamp)
        _ = try await registry.delete(key, gracePeriod: 0)
    }

    /// Issue 9, item 9: a change of labels only is published by the controller with its next
    /// sequence number, so a snapshot the controller published before it (with the old
    /// labels) and that reaches the registry only afterwards does not take the labels back.
    @Test func aMetadataUpdateIsNotOverwrittenByAnOlderSnapshot() async throws {
        let fixture = try RuntimeFixture()
        let registry = PodRegistry(features: .all)
        await registry.bind(fixture.context)
        _ = try await registry.create(try RuntimeFixture.pod("p"))
        let key = PodRegistry.Key("default", "p")
        let generation = try #require(await registry.controller(key)).generation
        let before = try #require(await registry.get(key))
        var relabelled = before
        relabelled.metadata.labels["tier"] = "web"
        let answered = try await registry.replace(relabelled)
        #expect(answered.metadata.labels["tier"] == "web")
        // The controller's publishes before the relabel, delivered late (the fixture's
        // context records them instead of delivering them).
        let sequence = try #require(fixture.published.withLock { $0.filter { $0.generation == generation }.map(\.sequence).max() })
        var stale = before
        stale.status.message = "stale"
        await registry.published("MODIFIED", stale, generation: generation, sequence: sequence - 1)
        let now = try #require(await registry.get(key))
        #expect(now.metadata.labels["tier"] == "web")
        #expect(now.status.message != "stale")
        // A later snapshot of the controller is taken as usual.
        var later = answered
        later.status.message = "later"
        await registry.published("MODIFIED", later, generation: generation, sequence: sequence + 1)
        #expect(await registry.get(key)?.status.message == "later")
        _ = try await registry.delete(key, gracePeriod: 0)
    }

    /// A dead monitor is the machine's `sandboxLost`: the containers ended with it (137,
    /// "the pod's monitor exited"), a new sandbox is made and the pod starts again in it.
    @Test func aLostMonitorIsReplacedAndThePodRestarts() async throws {
        let fixture = try RuntimeFixture()
        let controller = PodController(pod: try RuntimeFixture.pod("p", uid: "uid-1"), context: fixture.context, generation: 1)
        await controller.admit()
        let first = try #require(fixture.lastSandbox)
        first.say("started", "c")
        #expect(await eventually { await status(controller)?.state.running != nil })
        first.lose()
        #expect(await eventually { fixture.sandboxes.withLock { $0.count } == 2 })
        let second = try #require(fixture.lastSandbox)
        #expect(await eventually { second.spawns == ["c"] })
        let cs = await status(controller)
        #expect(cs?.restartCount == 1)
        #expect(cs?.lastState.terminated?.exitCode == 137)
        #expect(cs?.lastState.terminated?.message == "the pod's monitor exited")
    }

    /// A sandbox that cannot be made is tried again when the machine says (10 s later), and
    /// the pod then starts.
    @Test func aFailedSandboxIsTriedAgainAndThePodStarts() async throws {
        let fixture = try RuntimeFixture()
        fixture.sandboxFailures.withLock { $0 = 1 }
        let controller = PodController(pod: try RuntimeFixture.pod("p", uid: "uid-1"), context: fixture.context, generation: 1)
        await controller.admit()
        #expect(fixture.lastSandbox == nil)
        // The retry is a 10 s timer; in the whole suite, hundreds of tests keep the 2 threads
        // of the cooperative pool busy (fixtures running tar, files), and a timer's task waited
        // there up to 26 s for its turn: the bound is generous, the retry itself is what counts.
        #expect(await eventually(timeout: 120) { fixture.lastSandbox?.spawns == ["c"] })
        withExtendedLifetime(controller) {}
    }

    /// Issue 9, items 4, 13, 14: a deletion is stored before it is answered, and a shorter
    /// one shortens it (SIGKILL at once for 0).
    @Test func aDeletionIsStoredBeforeItIsAnsweredAndCanBeShortened() async throws {
        let fixture = try RuntimeFixture()
        let pod = try RuntimeFixture.pod("p", uid: "uid-1", grace: 60)
        try fixture.context.store.save(pod)
        let controller = PodController(pod: pod, context: fixture.context, generation: 1)
        await controller.admit()
        let sandbox = try #require(fixture.lastSandbox)
        sandbox.say("started", "c")
        #expect(await eventually { await status(controller)?.state.running != nil })

        let answered = try await controller.delete(gracePeriod: 30)
        let stored = try #require(try await fixture.context.store.loadAll(parts: 1).first?.result.get())
        #expect(stored.metadata.deletionTimestamp == answered.metadata.deletionTimestamp)
        #expect(stored.metadata.deletionGracePeriodSeconds == 30)
        #expect(sandbox.signals == ["c:15"])

        let longer = try await controller.delete(gracePeriod: 45)
        #expect(longer.metadata.deletionGracePeriodSeconds == 30)
        let shorter = try await controller.delete(gracePeriod: 0)
        #expect(shorter.metadata.deletionGracePeriodSeconds == 0)
        let first = try #require(answered.metadata.deletionTimestamp)
        #expect(shorter.metadata.deletionTimestamp.map { $0 < first } == true)
        #expect(sandbox.signals == ["c:15", "c:9"])
        let restored = try #require(try await fixture.context.store.loadAll(parts: 1).first?.result.get())
        #expect(restored.metadata.deletionGracePeriodSeconds == 0)
    }
}
