/// One lock per key, for an actor whose operations on one object must not interleave across
/// their suspension points (the registry's read-modify-write of a pod): a key is held by one
/// operation, and waiters are served in the order they came. Lives inside the actor it
/// serves (`PodRegistry.lockPod`), so `unlock` is a plain synchronous call, usable from a
/// `defer`.
struct PodLocks<Key: Hashable & Sendable>: Sendable {
    private var held: Set<Key> = []
    private var waiting: [Key: [CheckedContinuation<Void, Never>]] = [:]

    /// Takes the lock of `key` if it is free.
    mutating func tryLock(_ key: Key) -> Bool { held.insert(key).inserted }

    /// Queues a waiter for the lock of `key`, resumed (holding it) by `unlock`.
    mutating func enqueue(_ key: Key, _ waiter: CheckedContinuation<Void, Never>) {
        waiting[key, default: []].append(waiter)
    }

    /// Passes the lock of `key` to the next waiter, or frees it.
    mutating func unlock(_ key: Key) {
        guard var queue = waiting[key], !queue.isEmpty else {
            held.remove(key)
            return
        }
        let next = queue.removeFirst()
        waiting[key] = queue.isEmpty ? nil : queue
        next.resume()   // the key stays held: it passes to the next waiter
    }
}

/// Why a read-modify-write of a pod (`PodRegistry.update`) failed: the caller's change
/// refused the pod as it is (`change`, the caller's own error), or the runtime refused the
/// result (`runtime`).
public enum PodUpdateError<Failure: Error>: Error {
    case change(Failure)
    case runtime(RuntimeError)
}
