import PodModel
import PodOS

/// A `Localhost` seccomp profile: a JSON file under podd's `seccompProfileRoot`, in the OCI
/// runtime spec's format (`defaultAction`, `defaultErrnoRet`, `architectures`, `syscalls`
/// with `names`, `action`, `errnoRet`, `args`), which is also what containerd loads for
/// kubelet; Docker's extras (`archMap`, `includes`/`excludes` by capability) are read too.
/// Turned into the monitor's seccomp keys (docs/monitor-protocol.md).
enum SeccompProfileFile {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The monitor keys for the profile at `path`, for a container with bounding set `caps`.
    static func fields(path: String, caps: LinuxCapabilities) throws(Failure) -> [(String, String)] {
        let bytes: [UInt8]
        do { bytes = try FileSystem.read(path, limit: 1 << 20) } catch {
            throw Failure(description: "cannot load seccomp profile \"\(path)\": \(error)")
        }
        let json: JSONValue
        do { json = try JSONValue.parse(bytes) } catch {
            throw Failure(description: "decoding seccomp profile \"\(path)\" failed: \(error)")
        }
        return try fields(json, path: path, caps: caps)
    }

    static func fields(_ json: JSONValue, path: String, caps: LinuxCapabilities) throws(Failure) -> [(String, String)] {
        func fail(_ why: String) -> Failure { Failure(description: "seccomp profile \"\(path)\": \(why)") }
        guard json.objectValue != nil else { throw fail("expected a JSON object") }
        let defaultErrno = json["defaultErrnoRet"]?.intValue
        guard let defaultAction = try action(json["defaultAction"]?.stringValue ?? "", errno: defaultErrno, fail) else {
            throw fail("defaultAction is required")
        }
        var out: [(String, String)] = [("seccomp", "profile"), ("seccomp.default", defaultAction)]
        var arches: [String] = []
        for a in json["architectures"]?.arrayValue ?? [] { if let s = a.stringValue { arches.append(s) } }
        for entry in json["archMap"]?.arrayValue ?? [] {
            if let s = entry["architecture"]?.stringValue { arches.append(s) }
            for sub in entry["subArchitectures"]?.arrayValue ?? [] { if let s = sub.stringValue { arches.append(s) } }
        }
        for a in arches {
            guard let name = archName(a) else { throw fail("unknown architecture \(a)") }
            if !out.contains(where: { $0 == ("seccomp.arch", name) }) { out.append(("seccomp.arch", name)) }
        }
        for (index, rule) in (json["syscalls"]?.arrayValue ?? []).enumerated() {
            if !applies(rule, caps: caps) { continue }
            var names = (rule["names"]?.arrayValue ?? []).compactMap(\.stringValue)
            if let one = rule["name"]?.stringValue { names.append(one) }
            guard let act = try action(rule["action"]?.stringValue ?? "", errno: rule["errnoRet"]?.intValue, fail) else {
                throw fail("syscalls[\(index)]: action is required")
            }
            var conditions: [String] = []
            for arg in rule["args"]?.arrayValue ?? [] {
                guard let argIndex = arg["index"]?.intValue, (0...5).contains(argIndex), let op = operation(arg["op"]?.stringValue ?? "") else {
                    throw fail("syscalls[\(index)].args: each needs an index 0-5 and an op such as SCMP_CMP_EQ")
                }
                let value = arg["value"]?.intValue.map { UInt64(bitPattern: $0) } ?? arg["value"].flatMap { $0.doubleValue.map { UInt64($0) } } ?? 0
                let valueTwo = arg["valueTwo"]?.intValue.map { UInt64(bitPattern: $0) } ?? 0
                conditions.append("\(argIndex):\(op):\(value)" + (op == "masked_eq" ? ":\(valueTwo)" : ""))
            }
            for name in names where !name.isEmpty && !name.contains(" ") {
                out.append(("seccomp.rule", ([act, name] + conditions).joined(separator: " ")))
            }
        }
        return out
    }

    /// Docker's includes/excludes: only their `caps` are checked (arches and kernel
    /// versions are the runtime's business and always match here).
    private static func applies(_ rule: JSONValue, caps: LinuxCapabilities) -> Bool {
        func names(_ v: JSONValue?) -> [String] {
            (v?["caps"]?.arrayValue ?? []).compactMap(\.stringValue).map { $0.hasPrefix("CAP_") ? String($0.dropFirst(4)) : $0 }
        }
        let include = names(rule["includes"]), exclude = names(rule["excludes"])
        if !include.isEmpty && !include.allSatisfy({ caps.contains($0) }) { return false }
        if !exclude.isEmpty && exclude.contains(where: { caps.contains($0) }) { return false }
        return true
    }

    private static func action(_ name: String, errno: Int64?, _ fail: (String) -> Failure) throws(Failure) -> String? {
        switch name {
        case "": return nil
        case "SCMP_ACT_ALLOW": return "allow"
        case "SCMP_ACT_ERRNO": return "errno:\(errno ?? 1)"
        case "SCMP_ACT_KILL", "SCMP_ACT_KILL_THREAD": return "kill"
        case "SCMP_ACT_KILL_PROCESS": return "kill_process"
        case "SCMP_ACT_TRAP": return "trap"
        case "SCMP_ACT_LOG": return "log"
        default: throw fail("action \(name) is not supported (SCMP_ACT_ALLOW, SCMP_ACT_ERRNO, SCMP_ACT_KILL, SCMP_ACT_KILL_PROCESS, SCMP_ACT_TRAP, SCMP_ACT_LOG)")
        }
    }

    private static func operation(_ op: String) -> String? {
        let table = ["SCMP_CMP_NE": "ne", "SCMP_CMP_LT": "lt", "SCMP_CMP_LE": "le", "SCMP_CMP_EQ": "eq",
                     "SCMP_CMP_GE": "ge", "SCMP_CMP_GT": "gt", "SCMP_CMP_MASKED_EQ": "masked_eq"]
        return table[op]
    }

    /// libseccomp's name of an OCI architecture (`SCMP_ARCH_X86_64` is `x86_64`).
    private static func archName(_ oci: String) -> String? {
        let known = ["SCMP_ARCH_X86": "x86", "SCMP_ARCH_X86_64": "x86_64", "SCMP_ARCH_X32": "x32", "SCMP_ARCH_ARM": "arm",
                     "SCMP_ARCH_AARCH64": "aarch64", "SCMP_ARCH_RISCV64": "riscv64", "SCMP_ARCH_S390X": "s390x",
                     "SCMP_ARCH_PPC64LE": "ppc64le"]
        return known[oci]
    }
}
