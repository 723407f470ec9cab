/// A resolv.conf: nameservers, search domains and options. Read from the host's (the
/// systemd-resolved way when the host's nameserver is its stub, 127.0.0.53, which a pod's
/// network namespace cannot reach), merged with a pod's dnsConfig as kubelet merges them
/// (pkg/kubelet/network/dns/dns.go), and written as container runtimes write it.
public struct ResolvConf: Sendable, Equatable {
    public var nameservers: [String]
    public var searches: [String]
    public var options: [String]

    public init(nameservers: [String] = [], searches: [String] = [], options: [String] = []) {
        self.nameservers = nameservers
        self.searches = searches
        self.options = options
    }

    /// Kubernetes' limits: 3 nameservers (glibc's MAXNS), 32 search domains.
    public static let maxNameservers = 3
    public static let maxSearches = 32

    /// Parses a resolv.conf's text (comments and unknown lines are ignored; the last
    /// `search` line wins, as in glibc).
    public init(parsing text: String) {
        self.init()
        for raw in text.split(separator: "\n") {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let key = fields.first else { continue }
            switch key {
            case "nameserver" where fields.count > 1: nameservers.append(fields[1])
            case "search", "domain": searches = Array(fields.dropFirst())
            case "options": options += fields.dropFirst()
            default: continue
            }
        }
    }

    /// The host's resolvers as a pod should see them: /etc/resolv.conf, or systemd-resolved's
    /// list of upstream servers when /etc/resolv.conf names only its local stub.
    public static func host(read: (String) -> String?) -> ResolvConf {
        let etc = ResolvConf(parsing: read("/etc/resolv.conf") ?? "")
        if etc.nameservers.contains("127.0.0.53"), let upstream = read("/run/systemd/resolve/resolv.conf") {
            return ResolvConf(parsing: upstream)
        }
        return etc
    }

    /// `self` with a pod's dnsConfig merged in, as kubelet does: nameservers and searches
    /// appended (duplicates dropped, cut to the limits), options replacing same-named ones.
    public func merging(nameservers extraServers: [String], searches extraSearches: [String],
                        options extraOptions: [(name: String, value: String?)]) -> ResolvConf {
        var merged = self
        for s in extraServers where !merged.nameservers.contains(s) { merged.nameservers.append(s) }
        merged.nameservers = Array(merged.nameservers.prefix(Self.maxNameservers))
        for s in extraSearches where !merged.searches.contains(s) { merged.searches.append(s) }
        merged.searches = Array(merged.searches.prefix(Self.maxSearches))
        for o in extraOptions {
            let text = o.value.map { "\(o.name):\($0)" } ?? o.name
            if let i = merged.options.firstIndex(where: { $0 == o.name || $0.hasPrefix(o.name + ":") }) {
                merged.options[i] = text
            } else {
                merged.options.append(text)
            }
        }
        return merged
    }

    public var text: String {
        var lines: [String] = []
        if !searches.isEmpty { lines.append("search " + searches.joined(separator: " ")) }
        lines += nameservers.map { "nameserver " + $0 }
        if !options.isEmpty { lines.append("options " + options.joined(separator: " ")) }
        return lines.map { $0 + "\n" }.joined()
    }
}
