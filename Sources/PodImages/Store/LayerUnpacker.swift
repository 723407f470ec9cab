import CImageCodecs
import Glibc

/// Unpacks one layer's tar into an empty directory, safely and as an overlayfs lower layer:
///
/// - Nothing outside the directory is ever touched. Every path is walked component by
///   component with `openat(O_NOFOLLOW | O_DIRECTORY)`, so a member never passes through a
///   symlink (one made by an earlier member pointing at `/` or `..` included); a member that
///   would is refused, as is a member whose path has a `..` component. Leading `/` and `./`
///   are dropped (as tar does). Symlinks are created as they are: their targets are only
///   resolved later, inside the container's root.
/// - Hardlinks must point at a member of the same layer (walked the same way).
/// - Device nodes are not created (counted in `skippedDevices`): a container's /dev is the
///   runtime's, as with containerd in user namespaces and podman rootless; an image's
///   /dev/sda would otherwise be the host's disk. FIFOs are created.
/// - OCI whiteouts become overlayfs ones: `.wh.NAME` a 0:0 character device NAME, and
///   `.wh..wh..opq` the `trusted.overlay.opaque=y` xattr on its directory.
/// - Owners, modes (setuid included), mtimes and xattrs (PAX `SCHILY.xattr.*`, but never
///   `trusted.overlay.*`, which would forge whiteouts) are kept, as root keeps them.
public final class LayerUnpacker {
    public struct Result: Sendable, Equatable {
        /// The sha256 of the uncompressed tar.
        public var diffID: Digest
        /// The digest of the blob as read (compressed, when it is).
        public var blobDigest: Digest
        /// The uncompressed tar's size.
        public var size: Int64
        public var skippedDevices: Int
    }

    private let rootFD: Int32
    private let what: String
    private var cachedParent: [String]?
    private var cachedParentFD: Int32 = -1
    private var directoryTimes: [([String], timespec)] = []
    private var skippedDevices = 0
    private let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 262_144, alignment: 16)

    private init(rootFD: Int32, what: String) {
        self.rootFD = rootFD
        self.what = what
    }

    deinit {
        if cachedParentFD >= 0 { close(cachedParentFD) }
        close(rootFD)
        chunk.deallocate()
    }

    /// Unpacks the blob at `blobPath` (compressed as `compression`) into `directory`, which
    /// must exist and be empty. `what` names the layer in errors. The caller checks the
    /// returned digests against what the manifest and config promise.
    public static func unpack(blobPath: String, compression: MediaType.Compression, into directory: String,
                              what: String) throws(ImageStoreError) -> Result {
        let blob = HashingSource(try FileSource(path: blobPath))
        let decompressed: any ByteSource = compression == .none
            ? blob : try DecompressingSource(blob, compression: compression, what: what)
        let tar = HashingSource(decompressed)
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError.system("open \(directory)") }
        let unpacker = LayerUnpacker(rootFD: fd, what: what)
        let reader = TarReader(tar, what: what)
        var members = 0
        while let entry = try reader.next() {
            try unpacker.apply(entry, reader: reader)
            members += 1
        }
        guard members > 0 else { throw ImageStoreError.invalid("\(what): the archive is empty") }
        try unpacker.setDirectoryTimes()
        let diffID = try tar.finish()
        let blobDigest = try blob.finish()
        return Result(diffID: diffID, blobDigest: blobDigest, size: tar.count, skippedDevices: unpacker.skippedDevices)
    }

    // MARK: Members

    private func apply(_ entry: TarEntry, reader: TarReader) throws(ImageStoreError) {
        let parts = try components(entry.path)
        guard let name = parts.last else {
            // The layer's root itself ("./"): its owner and mode.
            if entry.kind == .directory {
                fchown(rootFD, entry.uid, entry.gid)
                fchmod(rootFD, mode_t(entry.mode))
            }
            return
        }
        let parentParts = Array(parts.dropLast())
        if name == ".wh..wh..opq" {
            guard !parentParts.isEmpty else { return }
            let dir = try walk(parentParts, create: true)
            defer { close(dir) }
            guard pod_fsetxattr(dir, "trusted.overlay.opaque", "y", 1) == 0 else {
                throw ImageStoreError.system("\(what): mark \(parentParts.joined(separator: "/")) opaque (trusted.overlay.opaque)")
            }
            return
        }
        let parent = try parentFD(parentParts)
        if name.hasPrefix(".wh.") {
            let hidden = String(name.dropFirst(4))
            guard !hidden.isEmpty, hidden != ".", hidden != ".." else {
                throw ImageStoreError.invalid("\(what): member \"\(entry.path)\" is not a valid whiteout")
            }
            try removeExisting(parent, hidden, keepDirectory: false)
            guard mknodat(parent, hidden, S_IFCHR, 0) == 0 else {
                throw ImageStoreError.system("\(what): whiteout \(entry.path)")
            }
            return
        }
        var times = [timespec(tv_sec: Int(entry.mtime), tv_nsec: Int(entry.mtimeNanoseconds)),
                     timespec(tv_sec: Int(entry.mtime), tv_nsec: Int(entry.mtimeNanoseconds))]
        switch entry.kind {
        case .directory:
            try removeExisting(parent, name, keepDirectory: true)
            if mkdirat(parent, name, 0o700) != 0, errno != EEXIST { throw ImageStoreError.system("\(what): mkdir \(entry.path)") }
            let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { throw ImageStoreError.system("\(what): open \(entry.path)") }
            defer { close(fd) }
            try own(fd, entry)
            directoryTimes.append((parts, times[0]))
        case .regular:
            try removeExisting(parent, name, keepDirectory: false)
            let fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw ImageStoreError.system("\(what): create \(entry.path)") }
            defer { close(fd) }
            while true {
                let n = try reader.read(into: chunk)
                if n == 0 { break }
                var written = 0
                while written < n, let base = chunk.baseAddress {
                    let w = write(fd, base + written, n - written)
                    if w < 0, errno == EINTR { continue }
                    guard w > 0 else { throw ImageStoreError.system("\(what): write \(entry.path)") }
                    written += w
                }
            }
            try own(fd, entry)
            futimens(fd, &times)
        case .symlink:
            try removeExisting(parent, name, keepDirectory: false)
            guard !entry.linkName.isEmpty, symlinkat(entry.linkName, parent, name) == 0 else {
                throw ImageStoreError.system("\(what): symlink \(entry.path)")
            }
            fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW)
            utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
        case .hardlink:
            let targetParts = try components(entry.linkName)
            guard let targetName = targetParts.last else {
                throw ImageStoreError.invalid("\(what): hardlink \"\(entry.path)\" has no target")
            }
            let targetParent = try walk(Array(targetParts.dropLast()), create: false)
            defer { close(targetParent) }
            try removeExisting(parent, name, keepDirectory: false)
            guard linkat(targetParent, targetName, parent, name, 0) == 0 else {
                if errno == ENOENT {
                    throw ImageStoreError.invalid("\(what): hardlink \"\(entry.path)\" points at \"\(entry.linkName)\", which is not in the layer")
                }
                throw ImageStoreError.system("\(what): hardlink \(entry.path)")
            }
        case .fifo:
            try removeExisting(parent, name, keepDirectory: false)
            guard mknodat(parent, name, S_IFIFO | 0o600, 0) == 0 else { throw ImageStoreError.system("\(what): mkfifo \(entry.path)") }
            fchownat(parent, name, entry.uid, entry.gid, AT_SYMLINK_NOFOLLOW)
            fchmodat(parent, name, mode_t(entry.mode), 0)
            utimensat(parent, name, &times, AT_SYMLINK_NOFOLLOW)
        case .characterDevice, .blockDevice:
            skippedDevices += 1
        }
    }

    /// Owner, then mode (chown clears setuid bits, so the mode goes second), then xattrs.
    private func own(_ fd: Int32, _ entry: TarEntry) throws(ImageStoreError) {
        guard fchown(fd, entry.uid, entry.gid) == 0, fchmod(fd, mode_t(entry.mode)) == 0 else {
            throw ImageStoreError.system("\(what): set owner and mode of \(entry.path)")
        }
        for (key, value) in entry.xattrs where !key.hasPrefix("trusted.overlay.") {
            if pod_fsetxattr(fd, key, value, value.count) != 0, errno != ENOTSUP, errno != EPERM {
                throw ImageStoreError.system("\(what): set xattr \(key) of \(entry.path)")
            }
        }
    }

    private func setDirectoryTimes() throws(ImageStoreError) {
        if cachedParentFD >= 0 { close(cachedParentFD) }
        cachedParentFD = -1
        cachedParent = nil
        for (parts, time) in directoryTimes.reversed() {
            guard let fd = try? walk(parts, create: false) else { continue }
            var times = [time, time]
            futimens(fd, &times)
            close(fd)
        }
    }

    // MARK: Paths

    /// A member's path as components: leading `/` and `.` dropped; `..` refused.
    private func components(_ path: String) throws(ImageStoreError) -> [String] {
        var parts: [String] = []
        for component in path.split(separator: "/") where component != "." {
            guard component != ".." else {
                throw ImageStoreError.invalid("\(what): member \"\(path)\" has a \"..\" component that would leave the layer; refusing the layer")
            }
            guard component.utf8.count <= 255, !component.utf8.contains(0) else {
                throw ImageStoreError.invalid("\(what): member \"\(path)\" has an invalid path component")
            }
            parts.append(String(component))
        }
        return parts
    }

    /// The directory `parts` as a new descriptor, walked without following any symlink;
    /// missing directories are made when `create`.
    private func walk(_ parts: [String], create: Bool) throws(ImageStoreError) -> Int32 {
        var current = dup(rootFD)
        guard current >= 0 else { throw ImageStoreError.system("\(what): dup") }
        for (i, part) in parts.enumerated() {
            var next = openat(current, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(current, part, 0o755) != 0, errno != EEXIST {
                    let code = errno
                    close(current)
                    throw ImageStoreError.system("\(what): mkdir \(parts[0...i].joined(separator: "/"))", code)
                }
                next = openat(current, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let code = errno
            close(current)
            guard next >= 0 else {
                let path = parts[0...i].joined(separator: "/")
                if code == ELOOP || code == ENOTDIR {
                    throw ImageStoreError.invalid("\(what): \"\(path)\" is a symlink or a file, and a member's path goes through it (it could escape the layer); refusing the layer")
                }
                if code == ENOENT {
                    throw ImageStoreError.invalid("\(what): \"\(path)\" is not in the layer")
                }
                throw ImageStoreError.system("\(what): open \(path)", code)
            }
            current = next
        }
        return current
    }

    /// The parent directory of the next member: the last one is kept open, as a tar lists
    /// a directory's members together.
    private func parentFD(_ parts: [String]) throws(ImageStoreError) -> Int32 {
        if let cachedParent, cachedParent == parts, cachedParentFD >= 0 { return cachedParentFD }
        if cachedParentFD >= 0 { close(cachedParentFD) }
        cachedParentFD = -1
        cachedParent = nil
        let fd = try walk(parts, create: true)
        cachedParent = parts
        cachedParentFD = fd
        return fd
    }

    /// Makes room for a member: a later member replaces an earlier one of the same path (a
    /// directory stays a directory when the new member is one too).
    private func removeExisting(_ parent: Int32, _ name: String, keepDirectory: Bool) throws(ImageStoreError) {
        var st = stat()
        guard fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) == 0 else { return }
        if (st.st_mode & S_IFMT) == S_IFDIR {
            if keepDirectory { return }
            // The cached parent may be inside what goes.
            if cachedParentFD >= 0, cachedParentFD != parent { close(cachedParentFD); cachedParentFD = -1; cachedParent = nil }
            try TreeRemoval.remove(at: parent, name)
        } else if unlinkat(parent, name, 0) != 0 {
            throw ImageStoreError.system("\(what): replace \(name)")
        }
    }
}

/// Removes directory trees without following symlinks.
public enum TreeRemoval {
    /// Removes `name` in the directory `parent` (a file, or a directory and all it holds).
    public static func remove(at parent: Int32, _ name: String) throws(ImageStoreError) {
        if unlinkat(parent, name, 0) == 0 || errno == ENOENT { return }
        guard errno == EISDIR || errno == EPERM else { throw ImageStoreError.system("remove \(name)") }
        let fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw ImageStoreError.system("open \(name)") }
        guard let dir = fdopendir(fd) else {
            close(fd)
            throw ImageStoreError.system("opendir \(name)")
        }
        var names: [String] = []
        while let entry = readdir(dir) {
            let child = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if child != ".", child != ".." { names.append(child) }
        }
        var failure: ImageStoreError?
        for child in names {
            do { try remove(at: fd, child) } catch { failure = failure ?? error }
        }
        closedir(dir)
        if let failure { throw failure }
        guard unlinkat(parent, name, AT_REMOVEDIR) == 0 || errno == ENOENT else { throw ImageStoreError.system("rmdir \(name)") }
    }

    /// Removes the tree at `path` (nothing when it does not exist).
    public static func remove(_ path: String) throws(ImageStoreError) {
        try remove(at: AT_FDCWD, path)
    }
}
