import Glibc
import PodImages

/// How an image's config fills in what a container's spec leaves out, as kubelet does
/// (pkg/kubelet/kuberuntime/kuberuntime_container.go, container/helpers.go): pure
/// functions, unit-tested case by case.
public enum ImageRunDefaults {
    /// Why a container cannot run.
    public enum Failure: Error, Equatable, Sendable {
        /// Neither the container nor its image gives a command (kubelet's
        /// "no command specified").
        case noCommand
    }

    /// The container's argv, kubelet's rules:
    /// - neither command nor args: the image's Entrypoint + Cmd;
    /// - command only: command (the image's Cmd is dropped too);
    /// - args only: the image's Entrypoint + args;
    /// - both: command + args.
    /// `$(VAR)` in command and args is expanded with `env` (the container's own env), as
    /// Kubernetes does.
    public static func argv(command: [String], args: [String], entrypoint: [String], cmd: [String],
                            env: [String: String]) throws(Failure) -> [String] {
        let expandedCommand = command.map { expand($0, env) }
        let expandedArgs = args.map { expand($0, env) }
        let argv: [String]
        switch (command.isEmpty, args.isEmpty) {
        case (true, true): argv = entrypoint + cmd
        case (false, true): argv = expandedCommand
        case (true, false): argv = entrypoint + expandedArgs
        case (false, false): argv = expandedCommand + expandedArgs
        }
        guard let first = argv.first, !first.isEmpty else { throw .noCommand }
        return argv
    }

    /// Kubernetes' `$(VAR)` expansion (third_party/forked/golang/expansion): `$(NAME)` is
    /// NAME's value when it is defined, else kept as written; `$$` is a literal `$`; any
    /// other `$` is kept.
    public static func expand(_ input: String, _ env: [String: String]) -> String {
        let bytes = Array(input.utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "$"), i + 1 < bytes.count else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let next = bytes[i + 1]
            if next == UInt8(ascii: "$") {
                out.append(next)
                i += 2
            } else if next == UInt8(ascii: "("), let close = bytes[(i + 2)...].firstIndex(of: UInt8(ascii: ")")) {
                let name = String(decoding: bytes[(i + 2)..<close], as: UTF8.self)
                if let value = env[name] { out += Array(value.utf8) } else { out += bytes[i...close] }
                i = close + 1
            } else {
                out.append(bytes[i])
                out.append(next)
                i += 2
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The environment: the runtime's defaults, then the image's Env over them, then the
    /// container's env over both (a later entry replaces an earlier one of the same name).
    public static func environment(defaults: [(String, String)], image: [String], container: [(String, String)]) -> [(String, String)] {
        var env = defaults
        func set(_ name: String, _ value: String) {
            if let i = env.firstIndex(where: { $0.0 == name }) { env[i].1 = value } else { env.append((name, value)) }
        }
        for entry in image {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = parts.first, !name.isEmpty else { continue }
            set(String(name), parts.count == 2 ? String(parts[1]) : "")
        }
        for (name, value) in container { set(name, value) }
        return env
    }

    /// The working directory: the container's, else the image's, else `/`.
    public static func workingDirectory(container: String?, image: String) -> String {
        if let container, !container.isEmpty { return container }
        return image.isEmpty ? "/" : image
    }
}

/// The user an image says its processes run as (config `User`), resolved to numbers.
public struct ImageUser: Sendable, Equatable {
    public var uid: UInt32
    public var gid: UInt32
    /// The groups /etc/group lists the user in (kubelet and runc add them).
    public var supplementaryGroups: [UInt32]

    /// Why a User cannot be resolved.
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public var description: String
    }

    /// Resolves `user` (`""`, `name`, `uid`, `name:group`, `uid:gid`) with the image's
    /// /etc/passwd and /etc/group (their text; nil when the image has none). Empty means root.
    /// A numeric uid not in /etc/passwd runs with gid 0, as runc does; a name not in it is an
    /// error, as kubelet reports (CreateContainerError).
    public static func resolve(_ user: String, passwd: String?, group: String?) throws(Failure) -> ImageUser {
        guard !user.isEmpty else { return ImageUser(uid: 0, gid: 0, supplementaryGroups: []) }
        let parts = user.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let userPart = parts[0]
        let passwdEntries = (passwd ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 4 }
        let groupEntries = (group ?? "").split(separator: "\n").map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
            .filter { $0.count >= 3 }
        let uid: UInt32
        var gid: UInt32 = 0
        var userName: String?
        if let number = UInt32(userPart) {
            uid = number
            if let entry = passwdEntries.first(where: { UInt32($0[2]) == number }) {
                gid = UInt32(entry[3]) ?? 0
                userName = entry[0]
            }
        } else if let entry = passwdEntries.first(where: { $0[0] == userPart }), let number = UInt32(entry[2]) {
            uid = number
            gid = UInt32(entry[3]) ?? 0
            userName = entry[0]
        } else {
            throw Failure(description: "unable to find user \(userPart): no matching entries in passwd file")
        }
        if parts.count == 2 {
            let groupPart = parts[1]
            if let number = UInt32(groupPart) {
                gid = number
            } else if let entry = groupEntries.first(where: { $0[0] == groupPart }), let number = UInt32(entry[2]) {
                gid = number
            } else {
                throw Failure(description: "unable to find group \(groupPart): no matching entries in group file")
            }
        }
        var supplementary: [UInt32] = []
        if let userName, parts.count == 1 {
            for entry in groupEntries where entry.count >= 4 && entry[3].split(separator: ",").contains(Substring(userName)) {
                if let number = UInt32(entry[2]), number != gid, !supplementary.contains(number) { supplementary.append(number) }
            }
        }
        return ImageUser(uid: uid, gid: gid, supplementaryGroups: supplementary)
    }

    /// `etc/NAME` of the top-most layer that has it (a whiteout hides it: nil), read without
    /// following a symlink out of the layer.
    public static func imageFile(_ name: String, lowerDirectories: [String]) -> String? {
        for layer in lowerDirectories {
            var st = stat()
            guard lstat(layer + "/etc", &st) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFDIR else { return nil }
            guard lstat(layer + "/etc/" + name, &st) == 0 else { continue }
            guard (st.st_mode & S_IFMT) == S_IFREG, st.st_size < 4 << 20 else { return nil }
            let fd = open(layer + "/etc/" + name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: Int(st.st_size))
            let n = read(fd, &bytes, bytes.count)
            guard n >= 0 else { return nil }
            return String(decoding: bytes[0..<n], as: UTF8.self)
        }
        return nil
    }
}
