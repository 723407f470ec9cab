import Glibc
import PodModel
import PodOS

/// Checks and prepares a hostPath volume per its type, as kubelet does.
enum HostPathCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// `resolved`: the path as the policy checked it (HostPathPolicy.resolve): what is missing
    /// is made along it, one component at a time and never through a symlink, so that one
    /// swapped in after the check (by a pod writing into a directory it mounts) fails the
    /// start instead of making a directory or file where the policy never allowed one.
    static func prepare(_ h: HostPathVolumeSource, resolved: String) throws {
        var st = stat()
        let exists = stat(h.path, &st) == 0
        let kind = st.st_mode & S_IFMT
        switch h.type.rawValue {
        case "DirectoryOrCreate":
            if !exists { try make(resolved, file: false) }
        case "Directory":
            guard exists && kind == S_IFDIR else { throw Failure(description: "hostPath type check failed: \(h.path) is not a directory") }
        case "FileOrCreate":
            if !exists { try make(resolved, file: true) }
        case "File":
            guard exists && kind == S_IFREG else { throw Failure(description: "hostPath type check failed: \(h.path) is not a file") }
        case "Socket":
            guard exists && kind == S_IFSOCK else { throw Failure(description: "hostPath type check failed: \(h.path) is not a socket") }
        case "CharDevice":
            guard exists && kind == S_IFCHR else { throw Failure(description: "hostPath type check failed: \(h.path) is not a character device") }
        case "BlockDevice":
            guard exists && kind == S_IFBLK else { throw Failure(description: "hostPath type check failed: \(h.path) is not a block device") }
        default:
            // Unset: no check, and a missing path is created as a directory by the bind (as
            // container runtimes do).
            if !exists { try make(resolved, file: false) }
        }
    }

    /// `mkdir -p` (or, `file`, the last component as an empty file) of the absolute `path`,
    /// each component opened with O_NOFOLLOW in its parent's descriptor.
    static func make(_ path: String, file: Bool) throws {
        let components = path.split(separator: "/").map(String.init)
        var parent = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw OSError.last("open(/)") }
        defer { close(parent) }
        for (index, name) in components.enumerated() {
            let last = index == components.count - 1
            if last && file {
                let fd = openat(parent, name, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o644)
                guard fd >= 0 else { throw failure(errno, path, at: name) }
                close(fd)
                return
            }
            if mkdirat(parent, name, 0o755) != 0 && errno != EEXIST { throw failure(errno, path, at: name) }
            let next = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { throw failure(errno, path, at: name) }
            close(parent)
            parent = next
        }
    }

    private static func failure(_ code: Int32, _ path: String, at name: String) -> Failure {
        if code == ELOOP || code == ENOTDIR {
            return Failure(description: "hostPath \(path): \(name) became a symlink or a file while podd made the path: refused")
        }
        return Failure(description: "hostPath \(path): making \(name): \(String(cString: strerror(code)))")
    }
}
