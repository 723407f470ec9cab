import PodModel

/// Who a container's process is: its uid, primary gid and supplementary groups. The
/// securityContext's runAsUser/runAsGroup win; otherwise the image's config `User`, resolved as
/// containerd and runc resolve it in the image's own /etc/passwd and /etc/group (ImageUser).
struct ContainerUser: Equatable {
    var uid: UInt32
    var gid: UInt32
    /// The groups of /etc/group that list the user by name (containerd's WithAdditionalGIDs).
    var groups: [UInt32]

    /// `lowerDirectories`: the image's layers, top first (where /etc/passwd is looked up).
    /// Throws kubelet's "unable to find user" when the image names a user its passwd lacks.
    static func resolve(lowerDirectories: [String], runAsUser: Int64?, runAsGroup: Int64?,
                        imageUser: String) throws(ImageUser.Failure) -> ContainerUser {
        let passwd = ImageUser.imageFile("passwd", lowerDirectories: lowerDirectories)
        let group = ImageUser.imageFile("group", lowerDirectories: lowerDirectories)
        var user: ImageUser
        if let runAsUser {
            // A numeric runAsUser: its passwd entry (if any) gives the primary group and the
            // name whose memberships count, as for a numeric image User.
            let numeric = (try? ImageUser.resolve(String(UInt32(clamping: runAsUser)), passwd: passwd, group: group))
            user = numeric ?? ImageUser(uid: UInt32(clamping: runAsUser), gid: 0, supplementaryGroups: [])
        } else {
            user = try ImageUser.resolve(imageUser, passwd: passwd, group: group)
        }
        if let runAsGroup { user.gid = UInt32(clamping: runAsGroup) }
        return ContainerUser(uid: user.uid, gid: user.gid, groups: user.supplementaryGroups)
    }
}
