import Synchronization

/// The one counter every object's resourceVersion comes from (pods, ConfigMaps, Secrets), as
/// etcd's revision is shared by every kind: a version says which of two changes came later,
/// whatever their kinds.
public final class ResourceVersionCounter: Sendable {
    private let last = Mutex<Int64>(0)

    public init() {}

    /// The next version, as a string (Kubernetes' resourceVersion is opaque text).
    public func next() -> String {
        last.withLock { value in
            value += 1
            return String(value)
        }
    }

    /// The latest version handed out (a list's resourceVersion).
    public var current: String { last.withLock { String($0) } }
}
