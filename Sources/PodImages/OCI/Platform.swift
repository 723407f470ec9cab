import Glibc
import PodJSON

/// An OS and CPU an image is built for (`linux/amd64`, `linux/arm/v7`).
public struct Platform: Sendable, Equatable, CustomStringConvertible {
    public var os: String
    public var architecture: String
    public var variant: String?
    public var osVersion: String?
    public var osFeatures: [String]

    public init(os: String, architecture: String, variant: String? = nil, osVersion: String? = nil, osFeatures: [String] = []) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
        self.osVersion = osVersion
        self.osFeatures = osFeatures
    }

    public init(json: JSONValue, what: String) throws(OCIDocumentError) {
        guard let os = json["os"]?.stringValue, let architecture = json["architecture"]?.stringValue else {
            throw OCIDocumentError("\(what): os and architecture are required")
        }
        self.init(os: os, architecture: architecture, variant: json["variant"]?.stringValue,
                  osVersion: json["os.version"]?.stringValue,
                  osFeatures: json["os.features"]?.arrayValue?.compactMap(\.stringValue) ?? [])
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("architecture", .string(architecture)), ("os", .string(os))]
        if let variant { members.append(("variant", .string(variant))) }
        if let osVersion { members.append(("os.version", .string(osVersion))) }
        if !osFeatures.isEmpty { members.append(("os.features", .array(osFeatures.map { .string($0) }))) }
        return .object(JSONObject(members))
    }

    public var description: String {
        variant.map { "\(os)/\(architecture)/\($0)" } ?? "\(os)/\(architecture)"
    }

    /// This machine's platform, in Go's names as images use them (`uname -m` x86_64 is amd64,
    /// aarch64 is arm64 with variant v8, armv7l is arm/v7).
    public static let host: Platform = {
        var names = utsname()
        uname(&names)
        let machine = withUnsafeBytes(of: &names.machine) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        switch machine {
        case "x86_64": return Platform(os: "linux", architecture: "amd64")
        case "aarch64", "arm64": return Platform(os: "linux", architecture: "arm64", variant: "v8")
        case "armv7l", "armv7": return Platform(os: "linux", architecture: "arm", variant: "v7")
        case "armv6l": return Platform(os: "linux", architecture: "arm", variant: "v6")
        case "i386", "i686": return Platform(os: "linux", architecture: "386")
        case "ppc64le": return Platform(os: "linux", architecture: "ppc64le")
        case "s390x": return Platform(os: "linux", architecture: "s390x")
        case "riscv64": return Platform(os: "linux", architecture: "riscv64")
        default: return Platform(os: "linux", architecture: machine)
        }
    }()

    /// Whether an image built for `candidate` runs here, as containerd's platform matcher
    /// decides: same os and architecture; a variant, when both give one, must agree (arm64's
    /// missing variant means v8).
    public func runs(_ candidate: Platform) -> Bool {
        guard candidate.os == os, candidate.architecture == architecture else { return false }
        func normal(_ v: String?) -> String? { architecture == "arm64" ? (v ?? "v8") : v }
        guard let mine = normal(variant), let theirs = normal(candidate.variant) else { return true }
        return mine == theirs
    }
}
