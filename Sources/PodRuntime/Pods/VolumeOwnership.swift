import Glibc
import PodModel
import PodOS

/// fsGroup on a volume as kubelet applies it (SetVolumeOwnership): every file and directory
/// gets the group, group read-write, and directories group-search and setgid, so that what
/// containers create inside is the group's too. With `OnRootMismatch` nothing is walked when
/// the volume's root already has the group and those bits.
enum VolumeOwnership {
    static let readWrite: mode_t = 0o660
    static let search: mode_t = 0o110

    /// Applies `gid` to the tree at `path`; errors name the file.
    static func apply(_ path: String, gid: Int64, policy: FSGroupChangePolicy?) throws(OSError) {
        let group = gid_t(truncatingIfNeeded: gid)
        if policy == .onRootMismatch, rootMatches(path, group) { return }
        try walk(path, group)
    }

    private static func rootMatches(_ path: String, _ group: gid_t) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        let required = readWrite | search | mode_t(S_ISGID)
        return st.st_gid == group && st.st_mode & required == required
    }

    private static func walk(_ path: String, _ group: gid_t) throws(OSError) {
        var st = stat()
        guard lstat(path, &st) == 0 else { throw OSError("fsGroup: stat \(path)", code: errno) }
        // Symlinks keep their modes (there are none to set); their group changes, as Lchown does.
        guard lchown(path, uid_t.max, group) == 0 else { throw OSError("fsGroup: chown \(path)", code: errno) }
        let kind = st.st_mode & mode_t(S_IFMT)
        if kind == mode_t(S_IFLNK) { return }
        let isDirectory = kind == mode_t(S_IFDIR)
        let mask = readWrite | (isDirectory ? search | mode_t(S_ISGID) : 0)
        guard chmod(path, (st.st_mode & 0o7777) | mask) == 0 else { throw OSError("fsGroup: chmod \(path)", code: errno) }
        if isDirectory {
            for name in FileSystem.listDirectory(path) { try walk(path + "/" + name, group) }
        }
    }
}
