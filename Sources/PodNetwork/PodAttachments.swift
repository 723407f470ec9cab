import Glibc
import PodJSON
import PodOS
import Synchronization

/// A hostPort published for a pod (CNI's `portMappings` capability argument).
public struct PortMapping: Sendable, Equatable {
    public var hostPort: Int32
    public var containerPort: Int32
    /// `tcp` or `udp`, as portmap takes it.
    public var `protocol`: String
    public var hostIP: String?

    public init(hostPort: Int32, containerPort: Int32, protocol: String, hostIP: String? = nil) {
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.protocol = `protocol`
        self.hostIP = hostIP
    }

    var json: JSONValue {
        var o = JSONObject([("hostPort", .int(Int64(hostPort))), ("containerPort", .int(Int64(containerPort))),
                            ("protocol", .string(`protocol`))])
        if let hostIP, !hostIP.isEmpty { o["hostIP"] = .string(hostIP) }
        return .object(o)
    }
}

/// The pods' attachments to podd's CNI network: which network (the conflist named
/// `network.defaultNetwork` in `network.cniConfDir`), each pod's pinned namespace and saved
/// attachment (under the run directory: they describe what exists until reboot), and the
/// ADD, CHECK and DEL that set up, verify and tear down a pod's network.
public final class PodAttachments: Sendable {
    public struct Settings: Sendable, Equatable {
        public var confDir: String
        public var binDirectories: [String]
        public var networkName: String
        public var subnet: IPv4Subnet
        /// podd's own directory for saved attachments, pins and IPAM leases (RUNDIR/cni).
        public var stateDirectory: String

        public init(confDir: String, binDirectories: [String], networkName: String, subnet: IPv4Subnet, stateDirectory: String) {
            self.confDir = confDir
            self.binDirectories = binDirectories
            self.networkName = networkName
            self.subnet = subnet
            self.stateDirectory = stateDirectory
        }
    }

    public let settings: Settings
    public let executor: CNIExecutor
    /// Whether the default network needs the firewall plugin (decided by `prepare`).
    private let defaultNeedsFirewall = Atomic<Bool>(false)
    /// Each conflist as last parsed, with the file's identity then: a pod's start re-reads a
    /// file only when it changed (inode, size, mtime or ctime), not on every pod.
    private let parsedLists = Mutex<[String: ParsedList]>([:])

    private struct ParsedList: Sendable {
        var identity: [Int]
        var list: CNIConfigList
    }

    public init(settings: Settings) {
        self.settings = settings
        executor = CNIExecutor(binDirectories: settings.binDirectories)
    }

    var attachmentsDirectory: String { settings.stateDirectory + "/attachments" }
    func attachmentPath(_ uid: String) -> String { attachmentsDirectory + "/" + uid + ".json" }
    public func pin(_ uid: String) -> NetworkNamespacePin { NetworkNamespacePin(path: settings.stateDirectory + "/netns/" + uid) }

    // MARK: - Configuration

    /// At podd's start: writes the default conflist when the directory holds none, and turns
    /// IP forwarding on. Returns what it did, for podd's log.
    public func prepare() throws(CNIError) -> [String] {
        var notes: [String] = []
        do throws(OSError) {
            try FileSystem.makeDirectories(attachmentsDirectory, mode: 0o700)
        } catch {
            throw .runtime("CNI state directory \(attachmentsDirectory): \(error)")
        }
        if conflistFiles().isEmpty {
            let path = settings.confDir + "/" + DefaultNetworkConfig.fileName
            let firewall = DefaultNetworkConfig.forwardingIsDropped(scratchFile: settings.stateDirectory + "/iptables-forward.txt")
            defaultNeedsFirewall.store(firewall, ordering: .relaxed)
            if firewall { notes.append("the FORWARD chain drops by default: the default network includes the firewall plugin") }
            let list = try defaultConfig(firewall: firewall)
            do throws(OSError) {
                try FileSystem.makeDirectories(settings.confDir, mode: 0o755)
                try FileSystem.writeAtomically(path, list.json.serialized(pretty: true), mode: 0o644)
                notes.append("wrote the default CNI network \(settings.networkName) (bridge \(DefaultNetworkConfig.bridgeName), \(settings.subnet)) to \(path)")
            } catch {
                notes.append("no CNI network configuration in \(settings.confDir) and none can be written there (\(error)): using the default network \(settings.networkName) (bridge \(DefaultNetworkConfig.bridgeName), \(settings.subnet)) from memory")
            }
        }
        if usesDefaultNetwork {
            do throws(CNIError) {
                try DefaultNetworkConfig.ensureOutboundNAT(subnet: settings.subnet, network: settings.networkName,
                                                           scratchFile: settings.stateDirectory + "/iptables.txt")
            } catch {
                notes.append("outbound NAT for \(settings.subnet) not set up: \(error)")
            }
        }
        do throws(OSError) {
            if try IPForwarding.enable() { notes.append("set net.ipv4.ip_forward=1: the pods' network routes through this host") }
        } catch {
            notes.append("could not set net.ipv4.ip_forward=1 (\(error)): pods may not reach beyond this host")
        }
        return notes
    }

    /// Whether the pods' network is podd's default one (the file podd wrote, or the list from
    /// memory when it could not): its outbound NAT is podd's to keep.
    var usesDefaultNetwork: Bool {
        let files = conflistFiles()
        return files.isEmpty || files.contains(settings.confDir + "/" + DefaultNetworkConfig.fileName)
    }

    /// podd's default list (DefaultNetworkConfig) for the configured name and subnet.
    public func defaultConfig(firewall: Bool = false) throws(CNIError) -> CNIConfigList {
        let json = DefaultNetworkConfig.json(name: settings.networkName, subnet: settings.subnet,
                                             ipamDataDir: settings.stateDirectory + "/ipam", firewall: firewall)
        return try CNIConfigList(json: json, source: "podd's default network")
    }

    private func conflistFiles() -> [String] {
        FileSystem.listDirectory(settings.confDir)
            .filter { $0.hasSuffix(".conflist") || $0.hasSuffix(".json") }
            .sorted()
            .map { settings.confDir + "/" + $0 }
    }

    /// The configuration list named `network.defaultNetwork`, as the files are now (as libcni
    /// reads them for each operation: an edited file counts from the next pod on); a file
    /// unchanged since it was last parsed is not parsed again.
    public func loadConfig() throws(CNIError) -> CNIConfigList {
        let files = conflistFiles()
        if files.isEmpty && !FileSystem.exists(settings.confDir + "/" + DefaultNetworkConfig.fileName) {
            // The directory could not be written: podd's default, from memory.
            return try defaultConfig(firewall: defaultNeedsFirewall.load(ordering: .relaxed))
        }
        var problems: [String] = []
        for path in files {
            var st = stat()
            let identity = stat(path, &st) == 0
                ? [Int(st.st_ino), Int(st.st_size), st.st_mtim.tv_sec, st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec]
                : []
            if !identity.isEmpty, let cached = parsedLists.withLock({ $0[path] }), cached.identity == identity {
                if cached.list.name == settings.networkName { return cached.list }
                continue
            }
            guard let bytes = try? FileSystem.read(path, limit: 1 << 20) else {
                problems.append("\(path): cannot be read")
                continue
            }
            do throws(CNIError) {
                let list = try CNIConfigList(bytes: bytes, source: path)
                if !identity.isEmpty { parsedLists.withLock { $0[path] = ParsedList(identity: identity, list: list) } }
                if list.name == settings.networkName { return list }
            } catch {
                problems.append(error.description)
            }
        }
        var message = "no network named \"\(settings.networkName)\" in \(settings.confDir) (network.defaultNetwork)"
        if !problems.isEmpty { message += "; " + problems.joined(separator: "; ") }
        throw .config(message)
    }

    // MARK: - Operations

    /// Sets up the network of a pod whose sandbox (monitor `monitorPID`) was just made: pins
    /// its namespace, saves the attachment, runs ADD. On failure nothing is left (the ADD
    /// undone, the pin and the saved attachment removed) and the error thrown.
    public func attach(uid: String, namespace: String, name: String, monitorPID: pid_t,
                       portMappings: [PortMapping]) throws(CNIError) -> CNIResult {
        let config = try loadConfig()
        let pin = pin(uid)
        do throws(OSError) { try pin.pin(pid: monitorPID) } catch { throw .runtime(error.description) }
        var runtimeConfig = JSONObject()
        if !portMappings.isEmpty { runtimeConfig["portMappings"] = .array(portMappings.map(\.json)) }
        var attachment = CNIAttachment(containerID: uid, netns: pin.path,
                                       args: [("K8S_POD_NAMESPACE", namespace), ("K8S_POD_NAME", name),
                                              ("K8S_POD_INFRA_CONTAINER_ID", uid), ("K8S_POD_UID", uid)],
                                       runtimeConfig: runtimeConfig, config: config)
        do throws(CNIError) {
            try save(attachment)
            var savedLast = false
            let result = try executor.add(attachment) { partial in
                attachment.result = partial
                savedLast = (try? save(attachment)) != nil
            }
            // The last plugin's result is the ADD's: saved already, unless that save failed.
            if !savedLast || attachment.result != result.json {
                attachment.result = result.json
                try save(attachment)
            }
            return result
        } catch {
            pin.unpin()
            unlink(attachmentPath(uid))
            throw error
        }
    }

    /// Tears down a pod's network with what its ADD saved (a no-op when nothing is saved).
    /// When the DEL fails, the attachment and the pin stay for the next try.
    public func detach(uid: String) throws(CNIError) {
        let pin = pin(uid)
        guard var attachment = saved(uid: uid) else {
            pin.unpin()
            return
        }
        // The namespace is gone when the pin went with a mount namespace (podd ran in one
        // of its own): DEL without it, as the spec allows; plugins clean what they can.
        if !pin.isPinned { attachment.netns = "" }
        try executor.delete(attachment)
        pin.unpin()
        unlink(attachmentPath(uid))
    }

    /// CHECKs a re-adopted pod's network; re-pins its namespace from its monitor first when
    /// the pin was lost.
    public func check(uid: String, monitorPID: pid_t) throws(CNIError) {
        guard let attachment = saved(uid: uid) else { return }
        let pin = pin(uid)
        if !pin.isPinned {
            do throws(OSError) { try pin.pin(pid: monitorPID) } catch { throw .runtime(error.description) }
        }
        try executor.check(attachment)
    }

    public func saved(uid: String) -> CNIAttachment? {
        guard let bytes = try? FileSystem.read(attachmentPath(uid)), let json = try? JSONValue.parse(bytes) else { return nil }
        return try? CNIAttachment(json: json)
    }

    /// The uids of every pod with a saved attachment.
    public func savedUIDs() -> [String] {
        FileSystem.listDirectory(attachmentsDirectory).filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }
    }

    private func save(_ attachment: CNIAttachment) throws(CNIError) {
        do throws(OSError) {
            try FileSystem.makeDirectories(attachmentsDirectory, mode: 0o700)
            try FileSystem.writeAtomically(attachmentPath(attachment.containerID), attachment.json.serialized(), mode: 0o600)
        } catch {
            throw .runtime("saving the pod's CNI attachment: \(error)")
        }
    }
}
