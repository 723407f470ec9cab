import Glibc
import PodOS

/// A pod's network namespace, pinned by a bind mount of its nsfs file (as `ip netns add`
/// and container runtimes pin theirs): it outlives the monitor that made it, so that the
/// pod's DEL finds its interface (and the bridge plugin the addresses whose NAT rules it
/// removes) even after the monitor died, and it is the CNI_NETNS path of the pod's CNI
/// operations.
public struct NetworkNamespacePin: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    /// Whether `path` is a pinned namespace (a bind mount of nsfs), not the empty file left
    /// after an unmount or after the mount namespace that held it went: every namespace file
    /// lives on the one nsfs superblock, so it has the device of podd's own.
    public var isPinned: Bool {
        var mine = stat(), pinned = stat()
        return stat("/proc/self/ns/net", &mine) == 0 && stat(path, &pinned) == 0 && pinned.st_dev == mine.st_dev
    }

    /// Pins the network namespace of process `pid`.
    public func pin(pid: pid_t) throws(OSError) {
        try FileSystem.makeDirectories(FileSystem.parent(path), mode: 0o700)
        if isPinned { unpin() }
        let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o444)
        guard fd >= 0 else { throw OSError.last("create \(path)") }
        close(fd)
        guard mount("/proc/\(pid)/ns/net", path, nil, UInt(MS_BIND), nil) == 0 else {
            let e = OSError.last("pin the pod's network namespace on \(path) (mount --bind /proc/\(pid)/ns/net)")
            unlink(path)
            throw e
        }
    }

    /// Unpins (the namespace goes once nothing else holds it) and removes the file.
    public func unpin() {
        while umount2(path, Int32(MNT_DETACH)) == 0 {}
        unlink(path)
    }
}
