/// The names kubelet gives a pod's UTS namespace (GeneratePodHostNameAndDomain,
/// GetNodenameForKernel): its hostname (spec.hostname, else its name cut to 63 characters
/// without a trailing `-` or `.`), its domain (SUBDOMAIN.NAMESPACE.svc.cluster.local when it has
/// a subdomain), and the kernel's nodename: the FQDN when `setHostnameAsFQDN` asks for it and
/// there is a domain, else the hostname.
public struct PodHostname: Sendable, Equatable {
    /// The cluster domain of every pod's FQDN (kubelet's default `--cluster-domain`).
    public static let clusterDomain = "cluster.local"
    /// The kernel's limit on a nodename (64 characters, as kubelet counts it).
    public static let kernelLimit = 64

    /// The pod's hostname (in /etc/hosts beside its FQDN).
    public var hostname: String
    /// SUBDOMAIN.NAMESPACE.svc.cluster.local, or nil without a subdomain.
    public var domain: String?
    /// Whether the kernel's nodename is the FQDN.
    public var asFQDN: Bool

    public init(_ pod: Pod) {
        var hostname = pod.spec.hostname.flatMap { $0.isEmpty ? nil : $0 } ?? pod.metadata.name
        if hostname.count > 63 {
            hostname = String(hostname.prefix(63))
            while hostname.last == "-" || hostname.last == "." { hostname.removeLast() }
        }
        self.hostname = hostname
        if let subdomain = pod.spec.subdomain, !subdomain.isEmpty {
            domain = "\(subdomain).\(pod.metadata.namespace).svc.\(Self.clusterDomain)"
        }
        asFQDN = pod.spec.setHostnameAsFQDN == true
    }

    /// The name the pod's UTS namespace gets, or kubelet's error when the FQDN it asks for
    /// is longer than the kernel takes (the sandbox is then not made).
    public var kernelName: Result<String, TooLong> {
        guard asFQDN, let domain else { return .success(hostname) }
        let fqdn = "\(hostname).\(domain)"
        guard fqdn.utf8.count <= Self.kernelLimit else { return .failure(TooLong(fqdn: fqdn)) }
        return .success(fqdn)
    }

    public struct TooLong: Error, Sendable, Equatable, CustomStringConvertible {
        public var fqdn: String
        public var description: String {
            "failed to construct FQDN from pod hostname and cluster domain, FQDN \(fqdn) is too long "
                + "(\(PodHostname.kernelLimit) characters is the max, \(fqdn.utf8.count) characters requested)"
        }
    }
}
