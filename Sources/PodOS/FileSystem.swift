import Glibc

/// File operations podd needs, on plain paths, with errors that name the path.
public enum FileSystem {
    /// Writes `bytes` so that readers see the old or the new content, never a mix, and the
    /// new content survives a crash once this returns: write a temporary file, fsync it,
    /// rename it over `path`, fsync the directory.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o600) throws(OSError) {
        let tmp = path + ".tmp"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw OSError.last("open(\(tmp))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                let error = OSError.last("write(\(tmp))")
                close(fd)
                unlink(tmp)
                throw error
            }
            written += n
        }
        if fsync(fd) != 0 {
            let error = OSError.last("fsync(\(tmp))")
            close(fd)
            unlink(tmp)
            throw error
        }
        close(fd)
        guard rename(tmp, path) == 0 else {
            let error = OSError.last("rename(\(path))")
            unlink(tmp)
            throw error
        }
        try syncDirectory(of: path)
    }

    /// Writes a small file in place, without fsync: for runtime files that are recreated
    /// when lost (a pod's /etc/hosts), where a sync would only cost start-up time.
    public static func write(_ path: String, _ bytes: [UInt8], mode: mode_t = 0o644) throws(OSError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw OSError.last("open(\(path))") }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 {
                if errno == EINTR { continue }
                throw OSError.last("write(\(path))")
            }
            written += n
        }
    }

    /// fsync of the directory holding `path`, so that a rename or unlink in it is durable.
    public static func syncDirectory(of path: String) throws(OSError) {
        let dir = parent(path)
        let dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dfd >= 0 else { throw OSError.last("open(\(dir))") }
        defer { close(dfd) }
        guard fsync(dfd) == 0 else { throw OSError.last("fsync(\(dir))") }
    }

    public static func parent(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    public static func read(_ path: String, limit: Int = 64 << 20) throws(OSError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw OSError.last("open(\(path))") }
        defer { close(fd) }
        // Read straight into the result, 4 KiB first and doubling: most files read here
        // (/proc entries, pid files, status checkpoints) are small, and a zeroed 64 KiB
        // scratch buffer per read was most of the cost of re-adopting 1,000 pods.
        var out: [UInt8] = []
        var step = 4096
        while out.count < limit {
            let start = out.count
            let want = min(step, limit - start)
            out.append(contentsOf: repeatElement(0, count: want))
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress.map { $0 + start }, want) }
            out.removeLast(want - max(n, 0))
            if n < 0 {
                if errno == EINTR { continue }
                throw OSError.last("read(\(path))")
            }
            if n == 0 { break }
            step = min(step * 2, 1 << 20)
        }
        return out
    }

    /// The last `limit` bytes of a regular file (all of it when smaller), not following a
    /// symlink at `path`; nil when it cannot be read or is not a regular file.
    public static func readTail(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFREG else { return nil }
        let start = max(0, Int(st.st_size) - limit)
        var out = [UInt8](repeating: 0, count: min(limit, Int(st.st_size)))
        var filled = 0
        while filled < out.count {
            let n = out.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + filled, $0.count - filled, off_t(start + filled)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            filled += n
        }
        return Array(out.prefix(filled))
    }

    /// The file's text, or nil when it cannot be read: for files whose absence is an answer
    /// (/proc entries of a process that is gone, a pidfile); use `read` where it is an error.
    public static func readString(_ path: String) -> String? {
        guard let bytes = try? read(path) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    public static func isDirectory(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
    }

    /// mkdir -p.
    public static func makeDirectories(_ path: String, mode: mode_t = 0o755) throws(OSError) {
        if isDirectory(path) { return }
        let up = parent(path)
        if up != path && up != "." && up != "/" { try makeDirectories(up, mode: mode) }
        if mkdir(path, mode) != 0 && errno != EEXIST { throw OSError.last("mkdir(\(path))") }
    }

    public static func listDirectory(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    /// The subdirectories of `path`, by name, unsorted: the entries' types come with the
    /// listing (d_type), so a cgroup directory's dozens of control files cost no stat each;
    /// a file system that gives no type is asked with lstat.
    public static func listSubdirectories(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let type = entry.pointee.d_type
            guard type == UInt8(DT_DIR) || type == UInt8(DT_UNKNOWN) else { continue }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard name != "." && name != ".." else { continue }
            if type == UInt8(DT_UNKNOWN) {
                var st = stat()
                guard lstat(path + "/" + name, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else { continue }
            }
            names.append(name)
        }
        return names
    }

    /// rm -rf that never crosses into another filesystem (a mount point left behind by a
    /// crash is reported, not emptied) and never follows symlinks.
    public static func removeTree(_ path: String) throws(OSError) {
        guard let st = try lstatIfPresent(path) else { return }
        try removeTree(path, device: st.st_dev)
    }

    /// removeTree of everything `path` holds, `path` itself kept: the same rules, the file
    /// system being `path`'s.
    public static func removeContents(_ path: String) throws(OSError) {
        guard let st = try lstatIfPresent(path) else { return }
        guard (st.st_mode & S_IFMT) == S_IFDIR else { throw OSError("removeContents(\(path)): not a directory", code: ENOTDIR) }
        for name in listDirectory(path) { try removeTree(path + "/" + name, device: st.st_dev) }
    }

    private static func removeTree(_ path: String, device: dev_t) throws(OSError) {
        guard let st = try lstatIfPresent(path) else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            guard st.st_dev == device else { throw OSError("remove(\(path)): still a mount point", code: EBUSY) }
            for name in listDirectory(path) { try removeTree(path + "/" + name, device: device) }
            if rmdir(path) != 0 && errno != ENOENT { throw OSError.last("rmdir(\(path))") }
        } else if unlink(path) != 0 && errno != ENOENT {
            throw OSError.last("unlink(\(path))")
        }
    }

    /// `lstat` of `path`; nil when there is nothing there (what a removal has no work for).
    private static func lstatIfPresent(_ path: String) throws(OSError) -> stat? {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            if errno == ENOENT { return nil }
            throw OSError.last("lstat(\(path))")
        }
        return st
    }

    /// Free bytes for unprivileged writers on the filesystem holding `path`.
    public static func availableBytes(_ path: String) -> UInt64? {
        var s = statvfs()
        guard statvfs(path, &s) == 0 else { return nil }
        return UInt64(s.f_bavail) * UInt64(s.f_frsize)
    }
}
