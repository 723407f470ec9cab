import CPodShim
import Glibc
import Logging
import PodModel
import PodOS

/// Static pods, as kubelet's staticPodPath: every `*.yaml`, `*.yml` and `*.json` file in the
/// manifests directory is one pod, kept in step with the file. A new file creates its pod, an
/// edit replaces it (the registry restarts it only when the spec changed), and a removed file
/// deletes it. A file that does not read as a valid pod is reported (a log line and a Warning
/// event naming the file and the field) and changes nothing: a pod it made earlier keeps
/// running as it was.
///
/// Such pods carry the annotation `podd.io/source: FILE`; the registry refuses to delete or
/// replace them through the API. The directory is watched with inotify, and read again in
/// full on every change (after a short pause, so an editor's save-as-rename is seen once) and
/// once a minute (which also catches a directory that was removed and made again).
public actor StaticPodSource {
    public static let annotation = PodRegistry.sourceAnnotation

    private(set) var directory: String
    let registry: PodRegistry
    let events: EventRecorder
    let reactor: Reactor
    let logger: Logger
    private var inotifyFD: Int32 = -1
    private var watchTask: Task<Void, Never>?

    /// What each file held when last read, and the pod it made.
    struct FileState {
        var bytes: [UInt8]
        var key: PodRegistry.Key?
    }
    private var files: [String: FileState] = [:]

    public init(directory: String, registry: PodRegistry, events: EventRecorder, reactor: Reactor, logger: Logger) {
        self.directory = directory
        self.registry = registry
        self.events = events
        self.reactor = reactor
        self.logger = logger
    }

    /// Reads the directory once (pods stored by an earlier podd whose file is gone are deleted)
    /// and starts watching it.
    public func start() async {
        if !FileSystem.isDirectory(directory) {
            do { try FileSystem.makeDirectories(directory, mode: 0o755) } catch {
                logger.warning("static pods: cannot create \(directory): \(error); reading it again once a minute")
            }
        }
        openWatch()
        await sync(initial: true)
        watchTask = Task { [weak self] in await self?.watchLoop() }
    }

    public func stop() {
        watchTask?.cancel()
        watchTask = nil
        closeWatch()
    }

    /// Reads every file again (SIGHUP).
    public func resync() async {
        files = files.mapValues { FileState(bytes: [], key: $0.key) }   // forget contents: re-read all
        await sync(initial: false)
    }

    /// The configured directory changed (a reload): pods of the old one go, the new one's come.
    public func move(to newDirectory: String) async {
        stop()
        directory = newDirectory
        await start()
    }

    // MARK: - Watching

    private func openWatch() {
        closeWatch()
        inotifyFD = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard inotifyFD >= 0 else { return }
        let mask = UInt32(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_DELETE_SELF | IN_MOVE_SELF)
        if inotify_add_watch(inotifyFD, directory, mask) < 0 {
            close(inotifyFD)
            inotifyFD = -1
        }
    }

    private func closeWatch() {
        if inotifyFD >= 0 { close(inotifyFD) }
        inotifyFD = -1
    }

    private func watchLoop() async {
        while !Task.isCancelled {
            let fd = inotifyFD
            if fd >= 0 {
                await reactor.waitReadable(fd, timeout: 60)
            } else {
                try? await Task.sleep(for: .seconds(60))
            }
            guard !Task.isCancelled else { return }
            // Let a burst of changes (write, then rename; several files copied in) settle.
            try? await Task.sleep(for: .milliseconds(50))
            guard !Task.isCancelled else { return }
            if fd >= 0 {
                var buf = [UInt8](repeating: 0, count: 8192)
                var selfGone = false
                while true {
                    let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    guard n > 0 else { break }
                    // inotify_event: wd, mask, cookie, len, name[len]
                    var offset = 0
                    while offset + 16 <= n {
                        let mask = buf[offset + 4..<offset + 8].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
                        let len = buf[offset + 12..<offset + 16].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                        if mask & UInt32(IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED) != 0 { selfGone = true }
                        offset += 16 + len
                    }
                }
                if selfGone { openWatch() }
            } else if FileSystem.isDirectory(directory) {
                openWatch()
            }
            await sync(initial: false)
        }
    }

    // MARK: - Reading

    static func isManifest(_ name: String) -> Bool {
        !name.hasPrefix(".") && (name.hasSuffix(".yaml") || name.hasSuffix(".yml") || name.hasSuffix(".json"))
    }

    /// Brings the pods in step with the files.
    func sync(initial: Bool) async {
        var present: Set<String> = []
        for name in FileSystem.listDirectory(directory).sorted() where Self.isManifest(name) {
            let path = directory + "/" + name
            var st = stat()
            guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            present.insert(path)
            guard let bytes = try? FileSystem.read(path) else { continue }
            if let known = files[path], known.bytes == bytes { continue }
            let previous = files[path]?.key
            let key = await apply(path: path, bytes: bytes, previous: previous)
            files[path] = FileState(bytes: bytes, key: key ?? previous)
        }
        for (path, state) in files where !present.contains(path) {
            files[path] = nil
            if let key = state.key { await remove(key, source: path, reason: "its file \(path) was removed") }
        }
        // Pods an earlier podd made from files that are gone now (or from another directory).
        if initial {
            for pod in await registry.list(namespace: nil) {
                guard let source = pod.metadata.annotations[Self.annotation], !present.contains(source) else { continue }
                await remove(PodRegistry.Key(pod.metadata.namespace, pod.metadata.name), source: source,
                             reason: "its file \(source) is gone")
            }
        }
    }

    /// Creates or replaces the pod a file describes. Returns its key, or nil when the file is
    /// not a valid pod (reported; nothing else changes).
    private func apply(path: String, bytes: [UInt8], previous: PodRegistry.Key?) async -> PodRegistry.Key? {
        var pod: Pod
        do {
            pod = try Self.decode(bytes)
        } catch {
            report(path: path, bytes: bytes, problem: "\(error)")
            return nil
        }
        pod.metadata.annotations[Self.annotation] = path
        let key = PodRegistry.Key(pod.metadata.namespace, pod.metadata.name)
        if let existing = await registry.get(key) {
            guard existing.metadata.annotations[Self.annotation] == path else {
                let owner = existing.metadata.annotations[Self.annotation].map { "by the static pod file \($0)" } ?? "through the API"
                report(path: path, bytes: bytes, problem: "pod \(key.namespace)/\(key.name) already exists (created \(owner)); delete it first or rename this one")
                return nil
            }
            do {
                let result = try await registry.replace(pod, source: path)
                if result.metadata.resourceVersion != existing.metadata.resourceVersion {
                    logger.info("pod \(key.namespace)/\(key.name): replaced from static pod file \(path)")
                }
            } catch {
                report(path: path, bytes: bytes, problem: Self.describe(error))
                return nil
            }
        } else {
            do {
                _ = try await registry.create(pod, source: path)
                logger.info("pod \(key.namespace)/\(key.name): created from static pod file \(path)")
            } catch {
                report(path: path, bytes: bytes, problem: Self.describe(error))
                return nil
            }
        }
        // The file now names another pod: the one it made before goes.
        if let previous, previous != key {
            await remove(previous, source: path, reason: "its file \(path) now describes \(key.namespace)/\(key.name)")
        }
        return key
    }

    private func remove(_ key: PodRegistry.Key, source: String, reason: String) async {
        guard let existing = await registry.get(key), existing.metadata.annotations[Self.annotation] == source else { return }
        do {
            _ = try await registry.delete(key, gracePeriod: nil, fromSource: source)
            logger.info("pod \(key.namespace)/\(key.name): deleted: \(reason)")
        } catch {
            logger.error("pod \(key.namespace)/\(key.name): static pod not deleted (\(reason)): \(Self.describe(error))")
        }
    }

    /// One pod per file, in YAML or JSON.
    static func decode(_ bytes: [UInt8]) throws -> Pod {
        let documents = try PodManifest.documents(fromText: String(decoding: bytes, as: UTF8.self))
        guard documents.count == 1, let document = documents.first else {
            throw StaticPodError(message: "a static pod file holds exactly one Pod, this one holds \(documents.count) objects")
        }
        return try PodManifest.decodeValidPod(document)
    }

    struct StaticPodError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// An API error with its causes spelled out (field: message), as the API would say them.
    static func describe(_ error: Error) -> String {
        guard let e = error as? RuntimeError else { return "\(error)" }
        guard case let .invalid(_, _, causes) = e, !causes.isEmpty else { return e.message }
        return causes.map { c in c.field.map { "\($0): \(c.message)" } ?? c.message }.joined(separator: "; ")
    }

    /// A log line and a Warning event on the pod the file names (or would name).
    private func report(path: String, bytes: [UInt8], problem: String) {
        let message = "static pod file \(path): \(problem)"
        logger.error("\(message)", metadata: ["static.file": "\(path)"])
        // Name and namespace as far as they can be read, so `podctl get events` shows it
        // next to the pod (or where it would be).
        let raw = try? PodManifest.documents(fromText: String(decoding: bytes, as: UTF8.self)).first
        let name = raw?["metadata"]?["name"]?.stringValue ?? Self.baseName(path)
        let namespace = raw?["metadata"]?["namespace"]?.stringValue ?? ObjectMeta.defaultNamespace
        let events = self.events
        Task {
            await events.record(namespace: namespace, pod: name, uid: "", fieldPath: nil, type: "Warning",
                                reason: "FailedStaticPod", message: message, at: RuntimeClock.now())
        }
    }

    static func baseName(_ path: String) -> String {
        let file = path.split(separator: "/").last.map(String.init) ?? path
        guard let dot = file.lastIndex(of: ".") else { return file }
        return String(file[..<dot])
    }
}
