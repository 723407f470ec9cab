/// A pod's /etc/hosts, as kubelet writes it (pkg/kubelet/kubelet_pods.go, managedHostsFile):
/// its header, the localhost lines, the pod's own address with its hostname (and FQDN when
/// it has a subdomain), the pod's hostAliases, and, podd's addition, the other pods of this
/// machine by name (podman's default network resolves container names too).
public struct HostsFile: Sendable, Equatable {
    public struct Alias: Sendable, Equatable {
        public var ip: String
        public var hostnames: [String]
        public init(ip: String, hostnames: [String]) {
            self.ip = ip
            self.hostnames = hostnames
        }
    }

    public struct Peer: Sendable, Equatable {
        public var name: String
        public var namespace: String
        public var ip: String
        public init(name: String, namespace: String, ip: String) {
            self.name = name
            self.namespace = namespace
            self.ip = ip
        }
    }

    public var hostname: String
    /// The pod's name (its name in the pod table of other pods' files).
    public var podName: String
    /// Kubernetes' subdomain: the FQDN becomes HOSTNAME.SUBDOMAIN.NAMESPACE.svc.cluster.local.
    public var subdomain: String?
    public var namespace: String
    /// The pod's addresses (none: the hostname goes on 127.0.1.1, as with `network: none`).
    public var podIPs: [String]
    public var aliases: [Alias]
    public var peers: [Peer]

    public init(hostname: String, podName: String? = nil, subdomain: String? = nil, namespace: String, podIPs: [String],
                aliases: [Alias] = [], peers: [Peer] = []) {
        self.hostname = hostname
        self.podName = podName ?? hostname
        self.subdomain = subdomain
        self.namespace = namespace
        self.podIPs = podIPs
        self.aliases = aliases
        self.peers = peers
    }

    /// The cluster domain kubelet's default `--cluster-domain` gives.
    public static let clusterDomain = "cluster.local"

    public var text: String {
        var lines = [
            "# Kubernetes-managed hosts file.",
            "127.0.0.1\tlocalhost",
            "::1\tlocalhost ip6-localhost ip6-loopback",
            "fe00::0\tip6-localnet",
            "fe00::0\tip6-mcastprefix",
            "fe00::1\tip6-allnodes",
            "fe00::2\tip6-allrouters",
        ]
        let names: String
        if let subdomain, !subdomain.isEmpty {
            names = "\(hostname).\(subdomain).\(namespace).svc.\(Self.clusterDomain)\t\(hostname)"
        } else {
            names = hostname
        }
        if podIPs.isEmpty {
            lines.append("127.0.1.1\t\(names)")
        } else {
            for ip in podIPs { lines.append("\(ip)\t\(names)") }
        }
        if !aliases.isEmpty {
            lines.append("")
            lines.append("# Entries added by HostAliases.")
            for a in aliases where !a.hostnames.isEmpty { lines.append("\(a.ip)\t\(a.hostnames.joined(separator: "\t"))") }
        }
        let others = peers.sorted { ($0.namespace, $0.name) < ($1.namespace, $1.name) }
        if !others.isEmpty {
            lines.append("")
            lines.append("# Pods on this machine (podd): NAME.NAMESPACE, and NAME in the pod's own namespace.")
            for p in others {
                lines.append(p.namespace == namespace ? "\(p.ip)\t\(p.name).\(p.namespace)\t\(p.name)" : "\(p.ip)\t\(p.name).\(p.namespace)")
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A host-network pod's /etc/hosts: the host's own, under kubelet's header for it.
    public static func hostNetwork(hostFile: String, aliases: [Alias]) -> String {
        var text = "# Kubernetes-managed hosts file (host network).\n" + hostFile
        if !text.hasSuffix("\n") { text += "\n" }
        if !aliases.isEmpty {
            text += "\n# Entries added by HostAliases.\n"
            for a in aliases where !a.hostnames.isEmpty { text += "\(a.ip)\t\(a.hostnames.joined(separator: "\t"))\n" }
        }
        return text
    }
}
