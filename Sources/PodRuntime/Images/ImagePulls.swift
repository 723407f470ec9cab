import Glibc
import PodImages
import PodModel
import Synchronization

/// The pulls in progress, one per image name: a second pod (or `podctl image pull`) asking
/// for an image already being pulled waits for that pull instead of fetching it again. The
/// fetch goes through the injected `ImageFetching` (the registry client); with none, a
/// pull fails at once saying so.
///
/// At most `maxParallel` fetches run at once (kubelet's maxParallelImagePulls); the others
/// wait their turn in order. A pod's pull always waits; a pull asked for through the API is
/// refused (`Failure.busy`) once `maxWaiting` are waiting, so that a client cannot pile up pulls
/// that outlive it without bound.
public actor ImagePulls {
    /// How a pull ended.
    public struct Outcome: Sendable {
        public var image: StoredImage
        /// Seconds the fetch, verification and unpacking took.
        public var pullSeconds: Double
    }

    /// Why a pull failed, as ErrImagePull's message.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        /// Whether the store's disk was full (the API answers 507).
        public var diskFull: Bool = false
        /// Whether it was refused for want of room in the queue (the API answers 429).
        public var busy: Bool = false
        public var description: String { message }
    }

    public let store: ImageStore
    public let fetcher: (any ImageFetching)?
    /// A pull in progress is joined only by a pull of the same name with the same pod
    /// credentials: a pod without a secret must not see another pod's success as its own
    /// before the image is stored, nor a pod with one another pod's refusal.
    private struct PullKey: Hashable {
        var name: ImageName
        var credentials: [RegistryCredentials]
    }

    private var inFlight: [PullKey: (task: Task<Result<Outcome, Failure>, Never>, progress: ProgressFanout)] = [:]
    /// Fetches started (for tests: two pods of one image pull it once).
    public private(set) var fetchesStarted = 0

    /// How many fetches run at once, and how many API pulls may wait for a turn.
    public nonisolated let maxParallel: Int
    public nonisolated let maxWaiting: Int
    /// Fetches running now.
    public private(set) var running = 0
    /// Fetches waiting for a turn, oldest first.
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public static let defaultMaxParallel = 4

    public init(store: ImageStore, fetcher: (any ImageFetching)?, maxParallel: Int = defaultMaxParallel) {
        self.store = store
        self.fetcher = fetcher
        self.maxParallel = max(1, maxParallel)
        self.maxWaiting = 4 * self.maxParallel
    }

    /// Fetches waiting for a turn.
    public var queued: Int { waiting.count }

    /// Pulls `name` (or joins its pull in progress); `progress` hears how it goes.
    /// `credentials`: a pod's image pull secrets that match the name, tried first.
    /// `refuseWhenBusy` (the API's pulls): a pull that would have to wait behind `maxWaiting`
    /// others fails at once with `busy`, and starts nothing.
    public func pull(_ name: ImageName, credentials: [RegistryCredentials] = [], refuseWhenBusy: Bool = false,
                     progress: (@Sendable (PullProgress) -> Void)? = nil) async -> Result<Outcome, Failure> {
        let key = PullKey(name: name, credentials: credentials)
        if let current = inFlight[key] {
            let id = current.progress.add(progress)
            let result = await current.task.value
            current.progress.remove(id)
            return result
        }
        if refuseWhenBusy, queueIsFull {
            return .failure(Failure(message: "too many image pulls: \(running) running and \(waiting.count) waiting (at most \(maxParallel) at once); try again later",
                                    busy: true))
        }
        let fanout = ProgressFanout()
        let id = fanout.add(progress)
        fetchesStarted += 1
        let store = self.store
        let fetcher = self.fetcher
        let task = Task {
            await self.takeTurn()
            let result = await Self.fetch(name, credentials: credentials, store: store, fetcher: fetcher, progress: fanout)
            self.endTurn()
            return result
        }
        inFlight[key] = (task, fanout)
        let result = await task.value
        fanout.remove(id)
        inFlight[key] = nil
        return result
    }

    /// Waits until fewer than `maxParallel` fetches run, in order of arrival.
    private func takeTurn() async {
        if running < maxParallel {
            running += 1
            return
        }
        // endTurn hands its place over: `running` stays as it is.
        await withCheckedContinuation { waiting.append($0) }
    }

    private func endTurn() {
        if waiting.isEmpty {
            running -= 1
        } else {
            waiting.removeFirst().resume()
        }
    }

    /// Whether a new fetch would wait behind `maxWaiting` others.
    private var queueIsFull: Bool { running >= maxParallel && waiting.count >= maxWaiting }

    /// Whether an API pull of `name` would be refused now (`refuseWhenBusy`): the API asks
    /// before it answers 200 and streams.
    public func wouldRefuse(_ name: ImageName, credentials: [RegistryCredentials] = []) -> Bool {
        inFlight[PullKey(name: name, credentials: credentials)] == nil && queueIsFull
    }

    private static func fetch(_ name: ImageName, credentials: [RegistryCredentials], store: ImageStore, fetcher: (any ImageFetching)?,
                              progress: ProgressFanout) async -> Result<Outcome, Failure> {
        guard let fetcher else {
            return .failure(Failure(message: "pulling images from registries is not available in this podd (no registry client)"))
        }
        let started = RuntimeClock.monotonic()
        let staging: ImageStaging
        let layout: OCILayout
        do {
            staging = try store.makeStaging("pull")
        } catch {
            return .failure(Failure(message: "cannot pull \(name): \(error)", diskFull: error.isDiskFull))
        }
        defer { staging.close() }
        do {
            layout = try OCILayout.create(at: staging.directory + "/layout")
        } catch {
            return .failure(Failure(message: "cannot pull \(name): \(error)"))
        }
        let fetched: FetchedImage
        do {
            fetched = try await fetcher.fetch(name, platform: .host, into: layout, credentials: credentials, alreadyStored: { store.hasBlob($0) },
                                              progress: { progress.send($0) })
        } catch {
            var diskFull = false
            if case let .storage(code) = error.kind { diskFull = code == ENOSPC || code == EDQUOT }
            return .failure(Failure(message: error.message, diskFull: diskFull))
        }
        let now = RuntimeClock.now().description
        let committed: Result<StoredImage, ImageStoreError> = await ImageStore.offPool {
            do throws(ImageStoreError) {
                let staged = try staging.stage(layout: layout, manifestDigest: fetched.manifestDigest, indexDigest: fetched.indexDigest,
                                               what: "image \(name)") { digest in
                    let fetchedPath = layout.blobPath(digest)
                    return StoreFilesProbe.exists(fetchedPath) ? fetchedPath : store.blobPath(digest)
                }
                return .success(try store.commit(staged, names: [name], now: now))
            } catch {
                return .failure(error)
            }
        }
        switch committed {
        case let .success(image):
            return .success(Outcome(image: image, pullSeconds: RuntimeClock.monotonic() - started))
        case let .failure(error):
            return .failure(Failure(message: "cannot store \(name): \(error.message)", diskFull: error.isDiskFull))
        }
    }
}

/// Whether a path exists (no symlink followed).
enum StoreFilesProbe {
    static func exists(_ path: String) -> Bool {
        var st = stat()
        return lstat(path, &st) == 0
    }
}

/// Hands a pull's progress to everyone waiting for it.
final class ProgressFanout: Sendable {
    private let listeners = Mutex<(next: Int, all: [Int: @Sendable (PullProgress) -> Void])>((0, [:]))

    func add(_ listener: (@Sendable (PullProgress) -> Void)?) -> Int? {
        guard let listener else { return nil }
        return listeners.withLock { l in
            l.next += 1
            l.all[l.next] = listener
            return l.next
        }
    }

    func remove(_ id: Int?) {
        guard let id else { return }
        _ = listeners.withLock { $0.all.removeValue(forKey: id) }
    }

    func send(_ progress: PullProgress) {
        let all = listeners.withLock { Array($0.all.values) }
        for listener in all { listener(progress) }
    }
}
