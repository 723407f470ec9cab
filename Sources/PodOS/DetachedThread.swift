import Glibc

/// A pthread for rare blocking work (unpacking an image), so it does not hold one of the
/// few threads of Swift's cooperative pool.
public enum DetachedThread {
    public static func run(_ body: @escaping @Sendable () -> Void) {
        final class Box: @unchecked Sendable {
            let body: @Sendable () -> Void
            init(_ body: @escaping @Sendable () -> Void) { self.body = body }
        }
        var tid = pthread_t()
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            Unmanaged<Box>.fromOpaque(arg).takeRetainedValue().body()
            return nil
        }, box)
        pthread_detach(tid)
    }
}
