import Glibc
import PodModel
import PodOS
import PodRuntime

/// `GET .../pods/NAME/log`: a container's output from its CRI log file, with Kubernetes'
/// options and error messages. With follow, the response streams until the container's run
/// ends or the client goes away.
enum PodLogs {
    static func respond(_ r: APIRequest, registry: PodRegistry, reactor: Reactor, key: PodRegistry.Key) async throws(APIError) -> APIResponse {
        guard let pod = await registry.get(key), let controller = await registry.controller(key) else { throw .notFound(key.name) }
        let names = pod.spec.containers.map(\.name)
        let all = names + pod.spec.initContainers.map(\.name) + pod.spec.ephemeralContainers.map(\.name)
        let container: String
        if let c = r.queryValue("container"), !c.isEmpty {
            guard all.contains(c) else {
                throw .badRequest("container \(c) is not valid for pod \(key.name)")
            }
            container = c
        } else if names.count == 1, let only = names.first {
            container = only
        } else {
            throw .badRequest("a container name must be specified for pod \(key.name), choose one of: [\(all.joined(separator: " "))]")
        }
        var options = CRILogOptions()
        options.timestamps = r.queryBool("timestamps")
        if let t = r.queryValue("tailLines") {
            guard let n = Int(t), n >= 0 else { throw .badRequest("tailLines: invalid value \"\(t)\": must be a non-negative integer") }
            options.tailLines = n
        }
        if let s = r.queryValue("sinceSeconds") {
            guard let n = Int64(s), n > 0 else { throw .badRequest("sinceSeconds: invalid value \"\(s)\": must be greater than 0") }
            options.since = RuntimeClock.now().adding(seconds: -Double(n))
        }
        if let s = r.queryValue("sinceTime") {
            guard let t = Timestamp(rfc3339: s) else { throw .badRequest("sinceTime: invalid value \"\(s)\": must be RFC 3339") }
            options.since = t
        }
        if let l = r.queryValue("limitBytes") {
            guard let n = Int(l), n > 0 else { throw .badRequest("limitBytes: invalid value \"\(l)\": must be greater than 0") }
            options.limitBytes = n
        }
        // PodLogOptions.stream (Kubernetes 1.32): one stream only, as podctl debug follows
        // stdout and stderr apart.
        switch r.queryValue("stream") {
        case nil, "", "All": break
        case "Stdout": options.stream = "stdout"
        case "Stderr": options.stream = "stderr"
        case let other?: throw .badRequest("stream: Unsupported value: \"\(other)\": supported values: \"All\", \"Stdout\", \"Stderr\"")
        }
        if options.stream != nil && options.tailLines != nil {
            throw .badRequest("tailLines: Forbidden: tailLines is not supported when stream is Stdout or Stderr")
        }
        let previous = r.queryBool("previous")
        guard let file = await controller.logFile(container: container, previous: previous), FileSystem.exists(file.path) else {
            if previous {
                throw .badRequest("previous terminated container \"\(container)\" in pod \"\(key.name)\" not found")
            }
            let waiting = (pod.status.containerStatuses + pod.status.initContainerStatuses + pod.status.ephemeralContainerStatuses)
                .first { $0.name == container }?.state.waiting?.reason ?? "ContainerCreating"
            throw .badRequest("container \"\(container)\" in pod \"\(key.name)\" is waiting to start: \(waiting)")
        }
        let (text, offset) = CRILog.read(path: file.path, options: options)
        guard r.queryBool("follow") else {
            return .full(status: .ok, contentType: "text/plain", body: text)
        }
        var followOptions = options
        followOptions.tailLines = nil
        followOptions.limitBytes = nil
        let (stream, continuation) = AsyncStream<[UInt8]>.makeStream()
        continuation.yield(text)
        let path = file.path
        let task = Task {
            await follow(path: path, from: offset, options: followOptions, controller: controller, reactor: reactor,
                         container: container, continuation: continuation)
            continuation.finish()
        }
        continuation.onTermination = { _ in task.cancel() }
        return .stream(status: .ok, contentType: "text/plain", chunks: stream)
    }

    /// Streams what is appended to the log file, until the container's run has ended and its
    /// last bytes are out. Waits with inotify (no polling while nothing is written).
    static func follow(path: String, from start: Int, options: CRILogOptions, controller: PodController, reactor: Reactor,
                       container: String, continuation: AsyncStream<[UInt8]>.Continuation) async {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var offset = off_t(start)
        var carry: [UInt8] = []
        var pending = ""
        var pendingTime: Substring?
        var buffer = [UInt8](repeating: 0, count: 65536)
        // Made only when the follow lasts (see below), and let go on a thread of its own:
        // closing an inotify instance waits for an SRCU grace period, several milliseconds
        // that would hold up the end of the stream and a thread of the cooperative pool.
        var watcher: FileChangeWatcher?
        defer { if let watcher { DetachedThread.run { withExtendedLifetime(watcher) {} } } }
        // How long to wait for a change before looking again whether the run goes on: short
        // at first and after any change (the monitor closes the log as the run ends, just
        // before it reports the exit, and a run may end before the follow begins), growing to
        // a second while nothing happens. So a follow ends within milliseconds of its run.
        // The first waits are plain sleeps; inotify wakes the longer ones.
        var wait = 0.002
        while !Task.isCancelled {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
            if n > 0 {
                wait = 0.002
                offset += off_t(n)
                carry += buffer[0..<n]
                let (lines, consumed) = CRILog.parse(carry, stream: options.stream)
                carry.removeFirst(consumed)
                let out = CRILog.render(lines, options: options, pending: &pending, pendingTime: &pendingTime)
                if !out.isEmpty { continuation.yield(Array(out.joined().utf8)) }
                continue
            }
            // At the end of the file: done if the run is over, else wait for more.
            if !(await controller.isCurrentRun(container: container, logPath: path)) {
                // One last read: the monitor drains the pipes before it reports the exit.
                let m = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, offset) }
                if m > 0 { continue }
                return
            }
            let started = RuntimeClock.monotonic()
            if wait < 0.1 {
                try? await Task.sleep(for: .milliseconds(Int64(wait * 1000)))
                wait *= 4
                continue
            }
            if watcher == nil { watcher = FileChangeWatcher(path: path, reactor: reactor) }
            await watcher?.waitForChange(timeout: wait)
            wait = RuntimeClock.monotonic() - started < wait * 0.9 ? 0.002 : min(1.0, wait * 4)
        }
    }
}
