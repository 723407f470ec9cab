import Glibc
import PodModel
import PodNetwork
import PodOS

/// podd's one node as a Node object (`GET /api/v1/nodes`), as kubelet registers it and keeps
/// its status: the machine's name and labels (NodeScheduling's `Node`), its capacity (CPUs,
/// memory, the state dir's disk, huge pages), its addresses, what it runs (nodeInfo), and
/// conditions read when asked: MemoryPressure and DiskPressure against kubelet's default hard
/// eviction thresholds (memory.available < 100Mi; nodefs.available < 10% or inodesFree < 5%
/// on the state dir), Ready while podd serves. Its labels and cordon are the registry's
/// (PodRegistry+Node), the only parts of it the API changes.
public struct NodeReport: Sendable {
    let stateDir: String
    /// podd's version: the kubelet and container runtime the node reports.
    let version: String
    /// When this podd started: Ready's lastTransitionTime.
    let startedAt: Timestamp

    public init(stateDir: String, version: String, startedAt: Timestamp) {
        self.stateDir = stateDir
        self.version = version
        self.startedAt = startedAt
    }

    /// kubelet's default hard eviction thresholds (pkg/kubelet/eviction/defaults_linux.go).
    static let memoryAvailableThreshold: Int64 = 100 << 20
    static let diskAvailableFraction = 0.10
    static let inodesFreeFraction = 0.05

    /// `node` at `resourceVersion` (its conditions, read when asked, change no version), cordoned
    /// since `cordonedAt` if it is.
    public func json(node: Node, annotations: [String: String] = [:], resourceVersion: Int64, cordonedAt: Timestamp?, now: Timestamp) -> JSONValue {
        let machineID = Self.firstLine("/etc/machine-id") ?? ""
        var metadata = JSONObject([("name", .string(node.name)), ("uid", .string(Self.uuid(fromHex: machineID, name: node.name))),
                                   ("resourceVersion", .string(String(resourceVersion)))])
        if let boot = Self.bootTime() { metadata["creationTimestamp"] = .string(boot.rfc3339) }
        metadata["labels"] = .object(JSONObject(node.labels.keys.sorted().map { ($0, .string(node.labels[$0] ?? "")) }))
        if !annotations.isEmpty {
            metadata["annotations"] = .object(JSONObject(annotations.keys.sorted().map { ($0, .string(annotations[$0] ?? "")) }))
        }
        let resources = capacity()
        let status = JSONObject([
            ("capacity", .object(resources)), ("allocatable", .object(resources)),
            ("conditions", .array(conditions(now: now))),
            ("addresses", .array(addresses(node))),
            ("daemonEndpoints", .object(JSONObject([("kubeletEndpoint", .object(JSONObject([("Port", .int(0))])))]))),
            ("nodeInfo", .object(nodeInfo(node, machineID: machineID))),
        ])
        var spec = JSONObject()
        var taints = node.taints.map(\.json)
        if node.unschedulable {
            spec["unschedulable"] = true
            // The taint the node lifecycle controller puts on a cordoned node.
            taints.append(Taint(key: NodeScheduling.unschedulableTaint, effect: "NoSchedule", timeAdded: cordonedAt ?? now).json)
        }
        if !taints.isEmpty { spec["taints"] = .array(taints) }
        return .object(JSONObject([("kind", "Node"), ("apiVersion", "v1"), ("metadata", .object(metadata)),
                                   ("spec", .object(spec)), ("status", .object(status))]))
    }

    /// The machine's CPUs, memory and the state dir's disk, as the downward API reads them
    /// (NodeResources), and its huge page pools.
    func capacity() -> JSONObject {
        let machine = NodeResources.detect(stateDir: stateDir)
        var members: [(String, JSONValue)] = [("cpu", .string(String(machine.cpuMillis / 1000))),
                                              ("ephemeral-storage", .string("\(machine.ephemeralStorageBytes / 1024)Ki"))]
        for pool in Self.hugePages() { members.append(("hugepages-\(pool.size)", .string(Self.bytes(pool.bytes)))) }
        members.append(("memory", .string("\(machine.memoryBytes / 1024)Ki")))
        return JSONObject(members)
    }

    /// What the scheduler may place on the node (status.allocatable, the same as its capacity:
    /// podd reserves nothing), in thousandths of a unit, as NodeResourcesFit weighs it.
    public static func allocatable(stateDir: String) -> [String: Int64] {
        let machine = NodeResources.detect(stateDir: stateDir)
        var amounts = ["cpu": machine.cpuMillis, "memory": machine.memoryBytes &* 1000, "ephemeral-storage": machine.ephemeralStorageBytes &* 1000]
        for pool in hugePages() { amounts["hugepages-\(pool.size)"] = pool.bytes &* 1000 }
        return amounts
    }

    func conditions(now: Timestamp) -> [JSONValue] {
        func condition(_ type: String, _ status: Bool, _ reason: String, _ message: String) -> JSONValue {
            .object(JSONObject([("type", .string(type)), ("status", .string(status ? "True" : "False")),
                                ("lastHeartbeatTime", .string(now.rfc3339)), ("lastTransitionTime", .string(startedAt.rfc3339)),
                                ("reason", .string(reason)), ("message", .string(message))]))
        }
        let memoryPressure = MemoryInfo.read()["MemAvailable"].map { $0 < Self.memoryAvailableThreshold } ?? false
        var fs = statvfs()
        var diskPressure = false
        if statvfs(stateDir, &fs) == 0, fs.f_blocks > 0 {
            let available = Double(fs.f_bavail) / Double(fs.f_blocks)
            let inodes = fs.f_files > 0 ? Double(fs.f_favail) / Double(fs.f_files) : 1
            diskPressure = available < Self.diskAvailableFraction || inodes < Self.inodesFreeFraction
        }
        return [
            memoryPressure
                ? condition("MemoryPressure", true, "KubeletHasInsufficientMemory", "podd has insufficient memory available (under 100Mi)")
                : condition("MemoryPressure", false, "KubeletHasSufficientMemory", "podd has sufficient memory available"),
            diskPressure
                ? condition("DiskPressure", true, "KubeletHasDiskPressure", "podd has disk pressure: its state dir has under 10% of its space or 5% of its inodes free")
                : condition("DiskPressure", false, "KubeletHasNoDiskPressure", "podd has no disk pressure"),
            condition("PIDPressure", false, "KubeletHasSufficientPID", "podd has sufficient PID available"),
            condition("Ready", true, "KubeletReady", "podd is posting ready status"),
        ]
    }

    func addresses(_ node: Node) -> [JSONValue] {
        var out: [JSONValue] = []
        if let ip = HostAddress.current() { out.append(.object(JSONObject([("type", "InternalIP"), ("address", .string(ip))]))) }
        out.append(.object(JSONObject([("type", "Hostname"), ("address", .string(node.name))])))
        return out
    }

    func nodeInfo(_ node: Node, machineID: String) -> JSONObject {
        var names = utsname()
        let kernel = uname(&names) == 0 ? withUnsafeBytes(of: &names.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } : ""
        let osImage = FileSystem.readString("/etc/os-release").flatMap { text in
            text.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
                .map { line in String(line.dropFirst("PRETTY_NAME=".count).filter { $0 != "\"" }) }
        } ?? "Linux"
        return JSONObject([
            ("machineID", .string(machineID)),
            ("systemUUID", .string(Self.firstLine("/sys/class/dmi/id/product_uuid")?.lowercased() ?? "")),
            ("bootID", .string(Self.firstLine("/proc/sys/kernel/random/boot_id") ?? "")),
            ("kernelVersion", .string(kernel)), ("osImage", .string(osImage)),
            ("containerRuntimeVersion", .string("podd://" + version)),
            ("kubeletVersion", .string(version)), ("kubeProxyVersion", ""),
            ("operatingSystem", "linux"), ("architecture", .string(node.labels["kubernetes.io/arch"] ?? "")),
        ])
    }

    // MARK: - The machine's files

    static func firstLine(_ path: String) -> String? {
        guard let text = FileSystem.readString(path) else { return nil }
        let line = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return line.isEmpty ? nil : line
    }

    /// The boot time (btime of /proc/stat): the node's creationTimestamp.
    static func bootTime() -> Timestamp? {
        guard let text = FileSystem.readString("/proc/stat"),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") }),
              let seconds = Int64(line.dropFirst("btime ".count)) else { return nil }
        return Timestamp(seconds: seconds, nanoseconds: 0)
    }

    /// Each huge page size the kernel has (its Kubernetes name, such as 2Mi) and the bytes of
    /// its pool.
    static func hugePages() -> [(size: String, bytes: Int64)] {
        let base = "/sys/kernel/mm/hugepages"
        return FileSystem.listDirectory(base).sorted().compactMap { entry in
            // hugepages-2048kB
            guard entry.hasPrefix("hugepages-"), entry.hasSuffix("kB"), let kib = Int64(entry.dropFirst(10).dropLast(2)),
                  let count = firstLine(base + "/" + entry + "/nr_hugepages").flatMap({ Int64($0) }) else { return nil }
            return (bytes(kib * 1024), count * kib * 1024)
        }
    }

    /// Bytes in Kubernetes' binary suffixes, the largest that divides them (2Mi, 1Gi, 512Ki).
    static func bytes(_ n: Int64) -> String {
        for (suffix, unit) in [("Ti", Int64(1) << 40), ("Gi", Int64(1) << 30), ("Mi", Int64(1) << 20), ("Ki", Int64(1) << 10)]
            where n >= unit && n % unit == 0 {
            return "\(n / unit)\(suffix)"
        }
        return String(n)
    }

    /// A stable UUID for the node, from the machine ID (32 hex digits), else its name.
    static func uuid(fromHex hex: String, name: String) -> String {
        var digits = Array(hex.lowercased().filter { $0.isHexDigit })
        if digits.count < 32 {
            var h: UInt64 = 14_695_981_039_346_656_037
            for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 1_099_511_628_211 }
            let text = String(h, radix: 16)
            digits = Array((String(repeating: "0", count: 16 - text.count) + text) + (String(repeating: "0", count: 16 - text.count) + text))
        }
        let s = String(digits.prefix(32))
        let parts = [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { r in
            String(s[s.index(s.startIndex, offsetBy: r.lowerBound)..<s.index(s.startIndex, offsetBy: r.upperBound)])
        }
        return parts.joined(separator: "-")
    }
}
