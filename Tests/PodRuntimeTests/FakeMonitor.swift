import Glibc
import Logging
import PodImages
import PodModel
import PodOS
import Synchronization
@testable import PodRuntime

/// A sandbox without a monitor: what the controller sends is recorded, and the test speaks
/// for the monitor (`say`), or ends it (`lose`).
final class FakeSandbox: SandboxChannel {
    let monitorPID: pid_t = getpid()
    let cgroupError: OSError? = nil
    private let stream: AsyncStream<[ControlMessage]>
    private let continuation: AsyncStream<[ControlMessage]>.Continuation
    private let sent = Mutex<[ControlMessage]>([])

    init() {
        (stream, continuation) = AsyncStream<[ControlMessage]>.makeStream()
    }

    func messages() -> AsyncStream<[ControlMessage]> { stream }
    func send(_ message: ControlMessage) throws(OSError) { sent.withLock { $0.append(message) } }
    func send(_ message: ControlMessage, fds: [Int32]) throws(OSError) {
        fds.forEach { close($0) }
        sent.withLock { $0.append(message) }
    }
    func reapExited() {}
    func shutdown(removingGroups: Bool) { continuation.finish() }

    /// The monitor says `op` about container `name`.
    func say(_ op: String, _ name: String, _ fields: [(String, String)] = []) {
        var m = ControlMessage(op: op)
        m.append("name", name)
        for (k, v) in fields { m.append(k, v) }
        continuation.yield([m])
    }

    /// The monitor says several things at once (they arrive in one read): each `op` about
    /// its container, with its fields.
    func sayTogether(_ messages: [(op: String, name: String, fields: [(String, String)])]) {
        continuation.yield(messages.map { op, name, fields in
            var m = ControlMessage(op: op)
            m.append("name", name)
            for (k, v) in fields { m.append(k, v) }
            return m
        })
    }

    /// The monitor dies: its connection ends.
    func lose() { continuation.finish() }

    /// The containers the controller asked to spawn, in order.
    var spawns: [String] { sent.withLock { $0.filter { $0.op == "spawn" }.compactMap { $0["name"] } } }

    /// Every message sent, as "op name" (with " hold" for a spawn held ahead of its turn).
    var sentOps: [String] {
        sent.withLock { $0.map { "\($0.op) \($0["name"] ?? "")" + ($0["hold"] == "1" ? " hold" : "") } }
    }

    /// Held spawns sent with after=: the container, and the one whose clean exit starts it.
    var chains: [String: String] {
        sent.withLock { Dictionary($0.compactMap { m in m["after"].map { (m["name"] ?? "", $0) } }, uniquingKeysWith: { $1 }) }
    }

    var signals: [String] {
        sent.withLock { $0.filter { $0.op == "signal" }.map { "\($0["name"] ?? ""):\($0["signal"] ?? "")" } }
    }
}

/// A runtime context on a temporary directory, with the busybox image present (an empty
/// root filesystem: nothing runs it) and fake sandboxes.
final class RuntimeFixture: Sendable {
    let root: String
    let context: RuntimeContext
    let sandboxes = Locked<[FakeSandbox]>([])
    /// How many of the next sandboxes fail to be made.
    let sandboxFailures = Locked<Int>(0)
    let published = Locked<[(type: String, pod: Pod, generation: Int, sequence: Int)]>([])

    init() throws {
        var template = Array("/tmp/podd-runtime-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw OSError.last("mkdtemp") }
        root = String(cString: made)
        var config = PoddConfig()
        config.stateDir = root + "/state"
        config.runDir = root + "/run"
        config.restartBackoff = .init(initial: 1, max: 4, resetAfter: 30)
        let images = try ImageStore(root: root + "/state/images")
        // A one-file root filesystem imported as localhost/busybox (what `image: busybox` means).
        try FileSystem.makeDirectories(root + "/rootfs/bin", mode: 0o755)
        guard system("tar -C \(root)/rootfs -cf \(root)/state/images/.incoming/rootfs.tar .") == 0 else { throw OSError.last("tar") }
        _ = try images.importRootfs(tarPath: root + "/state/images/.incoming/rootfs.tar",
                                    name: try ImageName(parsing: "localhost/busybox"), now: "2026-01-01T00:00:00Z")
        let store = try PodStore(root: root + "/state/pods")
        let sandboxes = self.sandboxes
        let published = self.published
        var context = RuntimeContext(config: config, images: images, store: store, events: EventRecorder(host: "test"),
                                     reactor: try Reactor(onFailure: { _ in }), cgroups: nil, monitorPath: "/nonexistent",
                                     logger: Logger(label: "test"),
                                     publish: { type, pod, generation, sequence in
                                         published.withLock { $0.append((type, pod, generation, sequence)) }
                                     })
        let failures = self.sandboxFailures
        context.makeSandbox = { _, _ in
            if failures.withLock({ count in
                defer { count = max(count - 1, 0) }
                return count > 0
            }) {
                throw OSError("the test's sandbox", code: ENOSPC)
            }
            let sandbox = FakeSandbox()
            sandboxes.withLock { $0.append(sandbox) }
            return SandboxLaunch { sandbox }
        }
        self.context = context
    }

    deinit { try? FileSystem.removeTree(root) }

    var lastSandbox: FakeSandbox? { sandboxes.withLock { $0.last } }

    static func pod(_ name: String, uid: String = "", restartPolicy: String = "Always", scope: String = "pod",
                    grace: Int = 30) throws -> Pod {
        let yaml = """
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: default, annotations: {podd.io/restart-scope: \(scope)}}
            spec:
              restartPolicy: \(restartPolicy)
              terminationGracePeriodSeconds: \(grace)
              containers:
              - {name: c, image: busybox, command: [sleep, "3600"]}
            """
        guard var pod = try PodManifest.pods(fromText: yaml).first else { throw OSError("no pod in the test's YAML", code: EINVAL) }
        if !uid.isEmpty { pod.metadata.uid = uid }
        return pod
    }
}

/// Waits (polling, generously) until `condition` holds; false when it never did. Generous
/// indeed: with the whole unit suite running at once on 2 cores, a controller's next step
/// waited more than 10 s for a thread in one CI run (two PodControllerTests failed there and
/// pass in 0.5 s alone); waiting longer costs a passing test nothing.
func eventually(timeout: Double = 60, _ condition: () async -> Bool) async -> Bool {
    let deadline = RuntimeClock.monotonic() + timeout
    while RuntimeClock.monotonic() < deadline {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}

/// Nanoseconds since the epoch, as the monitor writes times.
func nanoseconds(_ t: Timestamp) -> String {
    String(Int64(t.seconds) * 1_000_000_000 + Int64(t.nanoseconds))
}

/// A value shared between tasks, behind a lock (a class, so closures can share it).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<R>(_ body: (inout Value) -> R) -> R { mutex.withLock { body(&$0) } }
}
