import Testing

@testable import PodRuntime

@Suite struct NetworkSettingsTests {
    @Test func defaultsAreDESIGNs() throws {
        let network = try PoddConfig.parse("", source: "t.yaml").network
        #expect(network.enabled)
        #expect(network.cniConfDir == "/etc/podd/cni")
        #expect(network.cniBinDir == ["/usr/lib/cni", "/opt/cni/bin"])
        #expect(network.defaultNetwork == "podd")
        #expect(network.subnet.description == "10.88.0.0/16")
    }

    @Test func keysAndNone() throws {
        let network = try PoddConfig.parse("""
            network:
              cniConfDir: /srv/cni
              cniBinDir: [/opt/cni/bin]
              defaultNetwork: lab-net
              subnet: 10.99.0.0/24
            """, source: "t.yaml").network
        #expect(network.cniConfDir == "/srv/cni" && network.cniBinDir == ["/opt/cni/bin"])
        #expect(network.defaultNetwork == "lab-net" && network.subnet.description == "10.99.0.0/24")
        #expect(try PoddConfig.parse("network: none", source: "t.yaml").network.enabled == false)
    }

    @Test(arguments: [
        ("network: bridge", "network: expected `none` or a mapping"),
        ("network: {cniConfDir: relative}", "network.cniConfDir: must be an absolute directory"),
        ("network: {cniBinDir: [/a, b]}", "network.cniBinDir: expected a list of absolute directories"),
        ("network: {defaultNetwork: \"a b\"}", "network.defaultNetwork"),
        ("network: {subnet: 10.88.0.1/16}", "network.subnet: \"10.88.0.1/16\" is not an IPv4 network"),
        ("network: {subnet: 10.88.0.0/31}", "network.subnet"),
        ("network: {mtu: 1400}", "network.mtu: unknown key"),
    ])
    func badValuesAreNamed(text: String, named: String) {
        #expect {
            _ = try PoddConfig.parse(text, source: "t.yaml")
        } throws: { error in
            "\(error)".contains(named) && "\(error)".contains("t.yaml")
        }
    }
}
