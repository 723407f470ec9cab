import PodImages
import PodModel

/// podd's configuration: the YAML file of DESIGN.md, overridden by command-line flags.
/// An unknown key or a bad value is an error naming it: podd must not start half-configured.
public struct PoddConfig: Sendable, Equatable {
    public var socket = "/run/podd/podd.sock"
    public var stateDir = "/var/lib/podd"
    public var runDir = "/run/podd"
    public var manifestsDir = "/etc/podd/pods.d"
    public var logLevel = "info"
    public var restartBackoff = RestartBackoff.Settings.kubernetes
    public var journal = "auto"
    /// The image `podctl debug` uses when none is given.
    public var debugImage = "busybox"
    /// The group that may use the API socket besides root (created by sysusers.d).
    public var socketGroup = "podd"
    /// The API server's connection limits (`api:`).
    public var api = APISettings()
    /// The largest image upload podd takes, in bytes (`images: {maxUploadBytes: N}`).
    public var maxImageUploadBytes = 16 << 30
    /// How many image fetches run at once (`images: {maxParallelPulls: N}`, kubelet's
    /// maxParallelImagePulls); the others wait their turn.
    public var maxParallelImagePulls = ImagePulls.defaultMaxParallel
    /// Registries: the auth file, plain-HTTP registries, mirrors (`registries:`).
    public var registries = RegistrySettings()

    /// How many connections the API serves at a time, and how long one may stay idle or take
    /// to send a request's head (seconds).
    public struct APISettings: Sendable, Equatable {
        public var maxConnections = 1024
        public var idleTimeout = 120.0
        public var requestHeaderTimeout = 10.0

        public init() {}
    }

    /// Container log rotation, as kubelet's containerLogMaxSize and containerLogMaxFiles.
    public var logs = LogRotation()
    /// The cgroup (v2) under which pod groups are made, relative to the cgroup2 mount.
    public var cgroupParent = "podd"
    /// Host directories hostPath volumes may mount (below them); empty: any but the host's
    /// root and podd's own directories, which are never allowed (HostPathPolicy).
    public var hostPathAllow: [String] = []
    /// `network:`: the pods' CNI network, or `none` (NetworkSettings.swift).
    public var network = NetworkSettings()

    /// Container security defaults, as kubelet's flags of the same names.
    public var security = SecuritySettings()

    /// hostUsers: false pods: the host IDs their user namespaces map to.
    public var userNamespaces = UserNamespaceSettings()

    /// `userNamespaces: {firstID, maxPods}`: pod N of those running with hostUsers: false maps
    /// its IDs 0-65535 to firstID + N*65536 onwards.
    public struct UserNamespaceSettings: Sendable, Equatable {
        /// The first host ID given to pods (default 1048576 = 16 * 65536, above the IDs of
        /// regular users and of /etc/subuid's usual 100000-165535).
        public var firstID: UInt32 = 1 << 20
        /// How many such pods may run at once (default 1024).
        public var maxPods = 1024
        public init() {}

        static func parse(_ value: JSONValue, source: String) throws(ConfigError) -> UserNamespaceSettings {
            var settings = UserNamespaceSettings()
            guard let object = value.objectValue else {
                throw ConfigError(message: "\(source): userNamespaces: expected a mapping with firstID, maxPods")
            }
            for (key, v) in object {
                guard let n = v.intValue, n > 0 else { throw ConfigError(message: "\(source): userNamespaces.\(key): expected a positive integer") }
                switch key {
                case "firstID": settings.firstID = UInt32(clamping: n)
                case "maxPods": settings.maxPods = Int(clamping: n)
                default: throw ConfigError(message: "\(source): userNamespaces.\(key): unknown key (known: firstID, maxPods)")
                }
            }
            guard UInt64(settings.firstID) + UInt64(settings.maxPods) * 65536 <= UInt64(UInt32.max) else {
                throw ConfigError(message: "\(source): userNamespaces: firstID + maxPods * 65536 must stay below 4294967295")
            }
            return settings
        }
    }

    /// `seccompDefault` and `seccompProfileRoot`.
    public struct SecuritySettings: Sendable, Equatable {
        /// The seccomp profile of a container that sets none (nor its pod): RuntimeDefault when
        /// true, Unconfined when false (kubelet's seccompDefault; podd's default is true).
        public var seccompDefault = true
        /// Where `Localhost` profiles are looked up; nil: `<stateDir>/seccomp`, as kubelet
        /// uses `<root-dir>/seccomp`.
        public var seccompProfileRoot: String?
        public init() {}

        mutating func parse(_ key: String, _ value: JSONValue, source: String) throws(ConfigError) {
            switch key {
            case "seccompDefault":
                guard let flag = value.boolValue else { throw ConfigError(message: "\(source): seccompDefault: expected true or false") }
                seccompDefault = flag
            default:
                guard let path = value.stringValue, path.hasPrefix("/") else {
                    throw ConfigError(message: "\(source): seccompProfileRoot: must be an absolute path, such as /var/lib/podd/seccomp")
                }
                seccompProfileRoot = path
            }
        }
    }
    /// Local storage eviction (`eviction:`, EvictionSettings.swift).
    public var eviction = EvictionSettings()
    /// pids.max of every pod's cgroup (kubelet's podPidsLimit); -1: unlimited.
    public var podPidsLimit: Int64 = 4096
    /// Labels of podd's node besides kubelet's own (kubernetes.io/hostname, os, arch), for
    /// pods' nodeSelector (kubelet's --node-labels).
    public var nodeLabels: [String: String] = [:]

    /// When the monitor rotates a container's log file (kubelet's defaults: 10Mi, 5 files).
    public struct LogRotation: Sendable, Equatable {
        /// Bytes a log file may reach before it is rotated.
        public var containerLogMaxSize: Int64 = 10 << 20
        /// Files kept per container run, the current one included (at least 2).
        public var containerLogMaxFiles = 5
        public init() {}
    }

    public init() {}

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]

    public struct ConfigError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    /// The top-level keys of the config file, in config/podd.yaml's order: `parse` handles
    /// each (its switch is exhaustive) and names them all for an unknown one, so the list in
    /// that message cannot leave out a key podd takes.
    enum Key: String, CaseIterable {
        case socket, stateDir, runDir, manifestsDir, logLevel, restartBackoff, journal, debugImage, socketGroup, api, images,
             logs, cgroupParent, eviction, podPidsLimit, nodeLabels, hostPathAllow, seccompDefault, seccompProfileRoot, userNamespaces,
             network, registries
    }

    /// Parses the YAML config text. `source` names the file in messages.
    public static func parse(_ text: String, source: String) throws(ConfigError) -> PoddConfig {
        var config = PoddConfig()
        let documents: [JSONValue]
        do {
            documents = try JSONValue.parseYAMLDocuments(text)
        } catch {
            throw ConfigError(message: "\(source): not valid YAML: \(error)")
        }
        guard documents.count <= 1 else { throw ConfigError(message: "\(source): expected one YAML document, found \(documents.count)") }
        guard let doc = documents.first else { return config }
        guard let object = doc.objectValue else { throw ConfigError(message: "\(source): expected a mapping of settings at the top level") }
        for (text, value) in object {
            guard let key = Key(rawValue: text) else {
                throw ConfigError(message: "\(source): \(text): unknown key (known: \(Key.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            func string() throws(ConfigError) -> String {
                guard let s = value.stringValue, !s.isEmpty else {
                    throw ConfigError(message: "\(source): \(text): expected a non-empty string, got \(value.typeName)")
                }
                return s
            }
            func path() throws(ConfigError) -> String {
                let s = try string()
                guard s.hasPrefix("/") else { throw ConfigError(message: "\(source): \(text): must be an absolute path, got \"\(s)\"") }
                return s
            }
            switch key {
            case .socket: config.socket = try path()
            case .stateDir: config.stateDir = try path()
            case .runDir: config.runDir = try path()
            case .manifestsDir: config.manifestsDir = try path()
            case .logLevel:
                let level = try string()
                guard logLevels.contains(level) else {
                    throw ConfigError(message: "\(source): logLevel: \"\(level)\" is not one of \(logLevels.joined(separator: ", "))")
                }
                config.logLevel = level
            case .journal:
                // YAML 1.1 reads a bare on/off (yes/no, true/false) as a boolean.
                if let flag = value.boolValue {
                    config.journal = flag ? "on" : "off"
                    continue
                }
                let mode = try string()
                guard ["auto", "on", "off"].contains(mode) else {
                    throw ConfigError(message: "\(source): journal: \"\(mode)\" is not one of auto, on, off")
                }
                config.journal = mode
            case .debugImage: config.debugImage = try string()
            case .cgroupParent:
                let parent = try string()
                guard !parent.hasPrefix("/"), !parent.split(separator: "/").contains(where: { $0 == ".." || $0 == "." }) else {
                    throw ConfigError(message: "\(source): cgroupParent: \"\(parent)\" must be a relative path under the cgroup2 mount, without . or .. (example: podd)")
                }
                config.cgroupParent = parent
            case .hostPathAllow:
                guard let list = value.arrayValue else {
                    throw ConfigError(message: "\(source): hostPathAllow: expected a list of absolute directories, such as [/srv/data, /var/log]")
                }
                config.hostPathAllow = try list.map { (entry: JSONValue) throws(ConfigError) -> String in
                    guard let path = entry.stringValue, path.hasPrefix("/"), !path.utf8.contains(0) else {
                        throw ConfigError(message: "\(source): hostPathAllow: \"\(entry.stringValue ?? entry.typeName)\" is not an absolute path")
                    }
                    return path
                }
            case .podPidsLimit:
                guard let n = value.intValue, n == -1 || n > 0 else {
                    throw ConfigError(message: "\(source): podPidsLimit: expected a number of processes above 0, or -1 for no limit (default 4096)")
                }
                config.podPidsLimit = n
            case .nodeLabels:
                guard let map = value.objectValue else {
                    throw ConfigError(message: "\(source): nodeLabels: expected a mapping of label keys to values, such as {disktype: ssd}")
                }
                for (key, entry) in map {
                    guard let text = entry.stringValue ?? (entry.intValue.map { String($0) }) ?? (entry.boolValue.map { String($0) }) else {
                        throw ConfigError(message: "\(source): nodeLabels.\(key): expected a label value (a string)")
                    }
                    if let problem = Node.labelProblem(key: key, value: text) {
                        throw ConfigError(message: "\(source): nodeLabels.\(key): \(problem)")
                    }
                    config.nodeLabels[key] = text
                }
            case .logs: config.logs = try LogRotation.parse(value, source: source)
            case .seccompDefault, .seccompProfileRoot: try config.security.parse(key.rawValue, value, source: source)
            case .userNamespaces: config.userNamespaces = try UserNamespaceSettings.parse(value, source: source)
            case .network: config.network = try NetworkSettings.parse(value, source: source)
            case .eviction: config.eviction = try EvictionSettings.parse(value, source: source)
            case .socketGroup: config.socketGroup = try string()
            case .restartBackoff:
                guard let b = value.objectValue else {
                    throw ConfigError(message: "\(source): restartBackoff: expected a mapping with initial, max, resetAfter")
                }
                for (bk, bv) in b {
                    guard let seconds = Duration.parseSeconds(bv) else {
                        throw ConfigError(message: "\(source): restartBackoff.\(bk): \"\(bv.stringValue ?? bv.typeName)\" is not a duration (examples: 500ms, 10s, 5m, 1h)")
                    }
                    switch bk {
                    case "initial": config.restartBackoff.initial = seconds
                    case "max": config.restartBackoff.max = seconds
                    case "resetAfter": config.restartBackoff.resetAfter = seconds
                    default: throw ConfigError(message: "\(source): restartBackoff.\(bk): unknown key (known: initial, max, resetAfter)")
                    }
                }
                if config.restartBackoff.max < config.restartBackoff.initial {
                    throw ConfigError(message: "\(source): restartBackoff.max must not be less than restartBackoff.initial")
                }
            case .api:
                config.api = try parseAPISettings(value, source: source)
            case .registries: config.registries = try parseRegistries(value, source: source)
            case .images:
                guard let settings = value.objectValue else {
                    throw ConfigError(message: "\(source): images: expected a mapping with maxUploadBytes, maxParallelPulls")
                }
                for (ik, iv) in settings {
                    switch ik {
                    case "maxUploadBytes":
                        guard let bytes = iv.intValue, bytes > 0, bytes <= Int64(Int.max) else {
                            throw ConfigError(message: "\(source): images.maxUploadBytes: expected a positive number of bytes, got \(iv.stringValue ?? iv.typeName)")
                        }
                        config.maxImageUploadBytes = Int(bytes)
                    case "maxParallelPulls":
                        guard let n = iv.intValue, n > 0, n <= 256 else {
                            throw ConfigError(message: "\(source): images.maxParallelPulls: expected a number of pulls from 1 to 256 (default \(ImagePulls.defaultMaxParallel)), got \(iv.stringValue ?? iv.typeName)")
                        }
                        config.maxParallelImagePulls = Int(n)
                    default:
                        throw ConfigError(message: "\(source): images.\(ik): unknown key (known: maxUploadBytes, maxParallelPulls)")
                    }
                }
            }
        }
        return config
    }
}

extension PoddConfig {
    /// `api: {maxConnections: N, idleTimeout: DURATION, requestHeaderTimeout: DURATION}`.
    static func parseAPISettings(_ value: JSONValue, source: String) throws(ConfigError) -> APISettings {
        var settings = APISettings()
        guard let object = value.objectValue else {
            throw ConfigError(message: "\(source): api: expected a mapping with maxConnections, idleTimeout, requestHeaderTimeout")
        }
        for (key, v) in object {
            switch key {
            case "maxConnections":
                guard let n = v.intValue, n >= 1, n <= 1_000_000 else {
                    throw ConfigError(message: "\(source): api.maxConnections: expected a number from 1 to 1000000, got \(v.stringValue ?? v.typeName)")
                }
                settings.maxConnections = Int(n)
            case "idleTimeout", "requestHeaderTimeout":
                guard let seconds = Duration.parseSeconds(v), seconds > 0 else {
                    throw ConfigError(message: "\(source): api.\(key): \"\(v.stringValue ?? v.typeName)\" is not a positive duration (examples: 500ms, 10s, 2m)")
                }
                if key == "idleTimeout" { settings.idleTimeout = seconds } else { settings.requestHeaderTimeout = seconds }
            default:
                throw ConfigError(message: "\(source): api.\(key): unknown key (known: maxConnections, idleTimeout, requestHeaderTimeout)")
            }
        }
        return settings
    }
}

extension PoddConfig {
    /// `registries: {authFile: PATH, insecure: [HOST:PORT, ...], mirrors: {REGISTRY: [URL, ...]}}`.
    static func parseRegistries(_ value: JSONValue, source: String) throws(ConfigError) -> RegistrySettings {
        guard let object = value.objectValue else {
            throw ConfigError(message: "\(source): registries: expected a mapping with authFile, insecure, mirrors")
        }
        var settings = RegistrySettings()
        // insecure first: a plain-HTTP mirror must be listed there.
        if let list = object["insecure"] {
            guard let entries = list.arrayValue else {
                throw ConfigError(message: "\(source): registries.insecure: expected a list of HOST:PORT, such as [registry.local:5000]")
            }
            settings.insecure = try entries.map { (entry: JSONValue) throws(ConfigError) -> String in
                guard let text = entry.stringValue else {
                    throw ConfigError(message: "\(source): registries.insecure: expected HOST:PORT strings, got \(entry.typeName)")
                }
                if let problem = RegistrySettings.problem(withInsecureEntry: text) {
                    throw ConfigError(message: "\(source): registries.insecure: \(problem)")
                }
                return text
            }
        }
        for (key, v) in object {
            switch key {
            case "insecure": continue
            case "authFile":
                guard let path = v.stringValue, path.hasPrefix("/"), !path.utf8.contains(0) else {
                    throw ConfigError(message: "\(source): registries.authFile: must be an absolute path (a Docker-style config.json), got \(v.stringValue.map { "\"\($0)\"" } ?? v.typeName)")
                }
                settings.authFile = path
            case "mirrors":
                guard let mirrors = v.objectValue else {
                    throw ConfigError(message: "\(source): registries.mirrors: expected a mapping of registry to mirror URLs, such as {docker.io: [https://mirror.example]}")
                }
                for (registry, urls) in mirrors {
                    guard let list = urls.arrayValue else {
                        throw ConfigError(message: "\(source): registries.mirrors.\(registry): expected a list of mirror URLs, such as [https://mirror.example]")
                    }
                    settings.mirrors[registry] = try list.map { (entry: JSONValue) throws(ConfigError) -> String in
                        guard let url = entry.stringValue else {
                            throw ConfigError(message: "\(source): registries.mirrors.\(registry): expected URL strings, got \(entry.typeName)")
                        }
                        if let problem = settings.problem(withMirror: url, of: registry) {
                            throw ConfigError(message: "\(source): registries.mirrors.\(registry): \(problem)")
                        }
                        return url
                    }
                }
            default:
                throw ConfigError(message: "\(source): registries.\(key): unknown key (known: authFile, insecure, mirrors)")
            }
        }
        return settings
    }
}

extension PoddConfig.LogRotation {
    static func parse(_ value: JSONValue, source: String) throws(PoddConfig.ConfigError) -> Self {
        guard let object = value.objectValue else {
            throw PoddConfig.ConfigError(message: "\(source): logs: expected a mapping with containerLogMaxSize, containerLogMaxFiles")
        }
        var rotation = Self()
        for (key, v) in object {
            switch key {
            case "containerLogMaxSize":
                // A quantity as Kubernetes writes one: 10Mi, 512Ki, 1G, or a plain number of bytes.
                let text = v.stringValue ?? v.intValue.map { String($0) } ?? ""
                let size: Quantity
                do { size = try Quantity(parsing: text) } catch {
                    throw PoddConfig.ConfigError(message: "\(source): logs.containerLogMaxSize: \"\(text)\" is not a quantity (examples: 10Mi, 512Ki, 1G): \(error)")
                }
                guard size.value >= 1024 else {
                    throw PoddConfig.ConfigError(message: "\(source): logs.containerLogMaxSize: \(text) is less than 1Ki; give a size such as 10Mi")
                }
                rotation.containerLogMaxSize = size.value
            case "containerLogMaxFiles":
                guard let n = v.intValue, n >= 2, n <= 1000 else {
                    throw PoddConfig.ConfigError(message: "\(source): logs.containerLogMaxFiles: must be a whole number from 2 to 1000 (the current file and at least one rotated), got \(v.stringValue ?? v.typeName)")
                }
                rotation.containerLogMaxFiles = Int(n)
            default:
                throw PoddConfig.ConfigError(message: "\(source): logs.\(key): unknown key (known: containerLogMaxSize, containerLogMaxFiles)")
            }
        }
        return rotation
    }
}

extension Duration {
    /// "500ms", "10s", "5m", "1h", "1m30s", or a plain number of seconds.
    static func parseSeconds(_ value: JSONValue) -> Double? {
        if let i = value.intValue { return i >= 0 ? Double(i) : nil }
        guard let s = value.stringValue, !s.isEmpty else { return nil }
        var total = 0.0
        var number = ""
        var chars = Array(s)[...]
        while let c = chars.first {
            if c.isNumber || c == "." {
                number.append(c)
                chars = chars.dropFirst()
                continue
            }
            var unit = ""
            while let u = chars.first, u.isLetter {
                unit.append(u)
                chars = chars.dropFirst()
            }
            guard let n = Double(number) else { return nil }
            switch unit {
            case "ms": total += n / 1000
            case "s": total += n
            case "m": total += n * 60
            case "h": total += n * 3600
            default: return nil
            }
            number = ""
        }
        if !number.isEmpty {
            guard let n = Double(number), total == 0 else { return nil }
            total = n
        }
        return total
    }
}
