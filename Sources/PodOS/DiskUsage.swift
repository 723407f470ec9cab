import Glibc

/// What a directory tree holds on disk, as `du -s -x` counts it: allocated blocks
/// (st_blocks * 512, so a sparse file counts what it really takes), symlinks not followed
/// (the link itself counts), other file systems not entered (a volume mounted inside is not
/// counted twice), and a file with several hard links inside the tree counted once.
/// kubelet measures emptyDir volumes and container layers so for its eviction manager.
public enum DiskUsage {
    /// Bytes allocated under `path` (the directory itself included); 0 when it does not
    /// exist. Entries that vanish during the walk (a container deleting files) are skipped,
    /// and a directory that cannot be opened counts only itself. The walk holds one
    /// descriptor and one stack frame per level, so it goes `maxDepth` levels down and no
    /// further: a container's tree 10,000 directories deep must not exhaust podd's
    /// descriptors or its thread's stack (what lies deeper is not counted).
    public static func bytes(under path: String) -> Int64 {
        var st = stat()
        guard lstat(path, &st) == 0 else { return 0 }
        var walk = Walk(device: st.st_dev)
        walk.count(st)
        if (st.st_mode & S_IFMT) == S_IFDIR {
            let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if fd >= 0 { walk.directory(fd, depth: 1) }
        }
        return walk.total
    }

    /// How many directory levels below the root a walk enters.
    public static let maxDepth = 256

    private struct Walk {
        let device: dev_t
        var total: Int64 = 0
        /// Inodes with more than one link already counted.
        var linked: Set<ino_t> = []

        init(device: dev_t) { self.device = device }

        mutating func count(_ st: stat) {
            if (st.st_mode & S_IFMT) != S_IFDIR && st.st_nlink > 1 {
                guard linked.insert(st.st_ino).inserted else { return }
            }
            total += Int64(st.st_blocks) * 512
        }

        /// Walks the directory open at `fd`, `depth` levels down (and closes it).
        mutating func directory(_ fd: Int32, depth: Int) {
            guard let dir = fdopendir(fd) else {
                close(fd)
                return
            }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                var child = stat()
                withUnsafePointer(to: entry.pointee.d_name) { raw in
                    raw.withMemoryRebound(to: CChar.self, capacity: 256) { name in
                        if name[0] == 0x2E && (name[1] == 0 || (name[1] == 0x2E && name[2] == 0)) { return }   // . and ..
                        guard fstatat(fd, name, &child, AT_SYMLINK_NOFOLLOW) == 0, child.st_dev == device else { return }
                        count(child)
                        guard (child.st_mode & S_IFMT) == S_IFDIR, depth < DiskUsage.maxDepth else { return }
                        let sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                        if sub >= 0 { directory(sub, depth: depth + 1) }
                    }
                }
            }
        }
    }
}
