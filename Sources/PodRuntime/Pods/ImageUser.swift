import PodModel
import PodOS

/// Who a container's process is: its uid, primary gid and supplementary groups, resolved as
/// containerd resolves them in the image's root (its /etc/passwd and /etc/group).
struct ImageUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    /// The groups of /etc/group that list the user by name (containerd's WithAdditionalGIDs).
    var groups: [UInt32]

    /// The user the image itself says to run as (its config's `User`: "name", "uid",
    /// "uid:gid"), nil when unknown. Images have no config in podd's store yet, so this is nil
    /// and the container runs as root, as it would with an image that sets no user: the one
    /// place to connect the image config to when the store keeps it.
    static func configuredUser(image: String, store: ImageStore) -> String? { nil }

    /// Resolves the user: `runAsUser`/`runAsGroup` when set, else the image's user (root when
    /// `imageUser` is nil or empty), looked up in `rootfs`'s /etc/passwd and /etc/group.
    static func resolve(rootfs: String, runAsUser: Int64?, runAsGroup: Int64?, imageUser: String?) -> ImageUser {
        let passwd = Self.entries(rootfs + "/etc/passwd")
        var uid: UInt32 = 0
        var gid: UInt32?
        var name: String?
        let spec = imageUser ?? ""
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        if let runAsUser {
            uid = UInt32(clamping: runAsUser)
        } else if let userPart = parts.first, !userPart.isEmpty {
            if let number = UInt32(userPart) {
                uid = number
            } else if let entry = passwd.first(where: { $0.first == userPart }), entry.count > 3, let number = UInt32(entry[2]) {
                uid = number
            }
        }
        if let entry = passwd.first(where: { $0.count > 3 && UInt32($0[2]) == uid }) {
            name = entry[0]
            if runAsUser == nil || parts.count < 2 { gid = UInt32(entry[3]) }
        }
        if parts.count == 2, runAsUser == nil, let number = UInt32(parts[1]) { gid = number }
        if let runAsGroup { gid = UInt32(clamping: runAsGroup) }
        var groups: [UInt32] = []
        if let name {
            for entry in Self.entries(rootfs + "/etc/group") where entry.count > 3 {
                let members = entry[3].split(separator: ",").map(String.init)
                if members.contains(name), let number = UInt32(entry[2]), !groups.contains(number) { groups.append(number) }
            }
        }
        return ImageUser(uid: uid, gid: gid ?? 0, groups: groups)
    }

    /// The colon-separated lines of a passwd-style file (empty when it is missing).
    private static func entries(_ path: String) -> [[String]] {
        guard let text = FileSystem.readString(path) else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }
            .map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
