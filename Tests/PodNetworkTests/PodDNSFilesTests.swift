import Testing

@testable import PodNetwork

@Suite struct HostsFileTests {
    @Test func kubeletsLayoutWithThePodIPAliasesAndPeers() {
        let file = HostsFile(hostname: "web", namespace: "default", podIPs: ["10.88.0.5"],
                             aliases: [.init(ip: "10.1.2.3", hostnames: ["foo.local", "bar.local"])],
                             peers: [.init(name: "db", namespace: "default", ip: "10.88.0.6"),
                                     .init(name: "cache", namespace: "other", ip: "10.88.0.7")])
        #expect(file.text == """
            # Kubernetes-managed hosts file.
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::0\tip6-localnet
            fe00::0\tip6-mcastprefix
            fe00::1\tip6-allnodes
            fe00::2\tip6-allrouters
            10.88.0.5\tweb

            # Entries added by HostAliases.
            10.1.2.3\tfoo.local\tbar.local

            # Pods on this machine (podd): NAME.NAMESPACE, and NAME in the pod's own namespace.
            10.88.0.6\tdb.default\tdb
            10.88.0.7\tcache.other

            """)
    }

    @Test func subdomainGivesTheFQDNFirst() {
        let file = HostsFile(hostname: "web-0", subdomain: "web", namespace: "shop", podIPs: ["10.88.0.9"])
        #expect(file.text.contains("10.88.0.9\tweb-0.web.shop.svc.cluster.local\tweb-0\n"))
    }

    @Test func withoutAnAddressTheHostnameIsOnLoopback() {
        #expect(HostsFile(hostname: "solo", namespace: "default", podIPs: []).text.contains("127.0.1.1\tsolo\n"))
    }

    @Test func hostNetworkKeepsTheHostsFile() {
        let text = HostsFile.hostNetwork(hostFile: "127.0.0.1 localhost\n192.168.1.2 box", aliases: [])
        #expect(text == "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.168.1.2 box\n")
    }
}

@Suite struct ResolvConfTests {
    @Test func parsesAndRenders() {
        let conf = ResolvConf(parsing: "# generated\nnameserver 1.1.1.1\nnameserver 8.8.8.8 # second\nsearch a.example b.example\noptions ndots:2 edns0\n")
        #expect(conf.nameservers == ["1.1.1.1", "8.8.8.8"])
        #expect(conf.searches == ["a.example", "b.example"])
        #expect(conf.options == ["ndots:2", "edns0"])
        #expect(conf.text == "search a.example b.example\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:2 edns0\n")
    }

    @Test func theSystemdStubIsReplacedByItsUpstreamServers() {
        let files = ["/etc/resolv.conf": "nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch lan\n",
                     "/run/systemd/resolve/resolv.conf": "nameserver 192.168.1.1\nsearch lan\n"]
        let host = ResolvConf.host { files[$0] }
        #expect(host.nameservers == ["192.168.1.1"])
        #expect(host.searches == ["lan"])
        let plain = ResolvConf.host { $0 == "/etc/resolv.conf" ? "nameserver 10.0.0.2\n" : nil }
        #expect(plain.nameservers == ["10.0.0.2"])
    }

    @Test func dnsConfigMergesAsKubeletDoes() {
        let base = ResolvConf(nameservers: ["10.0.0.2", "10.0.0.3"], searches: ["lan"], options: ["ndots:1", "edns0"])
        let merged = base.merging(nameservers: ["10.0.0.3", "9.9.9.9", "1.1.1.1"], searches: ["svc.example", "lan"],
                                  options: [("ndots", "5"), ("rotate", nil)])
        #expect(merged.nameservers == ["10.0.0.2", "10.0.0.3", "9.9.9.9"])
        #expect(merged.searches == ["lan", "svc.example"])
        #expect(merged.options == ["ndots:5", "edns0", "rotate"])
    }
}
