import Glibc
import Logging

/// A pthread for rare blocking work (unpacking an image, waiting on a socket inside a pod's
/// network namespace), so it does not hold one of the few threads of Swift's cooperative pool.
public enum DetachedThread {
    /// Runs `body` on a new detached thread, or throws (stage `pthread_create`) when no thread
    /// can be made; `body` then never runs, and the caller must resume whatever waits for it.
    /// `stackSize` (bytes, 0: the default) is for tests, which provoke the failure with it.
    public static func start(stackSize: Int = 0, _ body: @escaping @Sendable () -> Void) throws(OSError) {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if stackSize > 0 {
            let rc = pthread_attr_setstacksize(&attributes, stackSize)
            guard rc == 0 else { throw OSError("pthread_attr_setstacksize(\(stackSize))", code: rc) }
        }
        var tid = pthread_t()
        let box = Unmanaged.passRetained(Box(body))
        let rc = pthread_create(&tid, &attributes, { arg in
            guard let arg else { return nil }
            Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, box.toOpaque())
        guard rc == 0 else {
            box.release()
            throw OSError("pthread_create", code: rc)
        }
    }

    /// Runs `body` on a new detached thread; when none can be made (the process is out of
    /// threads or memory), logs that at error level and runs `body` on the calling thread
    /// instead: a caller waiting for `body` (a continuation) is then held up, never left
    /// waiting forever.
    public static func run(_ body: @escaping @Sendable () -> Void) {
        do throws(OSError) {
            try start(body)
        } catch {
            Logger(label: "podd").error("\(error): running blocking work on the calling thread instead")
            body()
        }
    }

    /// The value of `body`, computed on a thread of its own; throws when no thread can be made.
    public static func value<T: Sendable>(stackSize: Int = 0, of body: @escaping @Sendable () -> T) async throws(OSError) -> T {
        let result: Result<T, OSError> = await withCheckedContinuation { c in
            do throws(OSError) {
                try start(stackSize: stackSize) { c.resume(returning: .success(body())) }
            } catch {
                c.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }
}
