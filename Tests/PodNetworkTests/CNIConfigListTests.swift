import PodJSON
import Testing

@testable import PodNetwork

@Suite struct CNIConfigListTests {
    static let conflist = """
        {"cniVersion": "1.0.0", "name": "podd", "plugins": [
          {"type": "bridge", "bridge": "podd0", "ipam": {"type": "host-local"}},
          {"type": "portmap", "capabilities": {"portMappings": true}},
          {"type": "firewall"}
        ]}
        """

    @Test func readsNameVersionAndPluginsInOrder() throws {
        let list = try CNIConfigList(bytes: Array(Self.conflist.utf8), source: "x.conflist")
        #expect(list.name == "podd")
        #expect(list.cniVersion == "1.0.0")
        #expect(list.types == ["bridge", "portmap", "firewall"])
        #expect(list.plugin(1, has: "portMappings"))
        #expect(!list.plugin(0, has: "portMappings"))
        #expect(!list.disableCheck)
    }

    @Test func stdinCarriesNameVersionPrevResultAndOnlyDeclaredCapabilities() throws {
        let list = try CNIConfigList(bytes: Array(Self.conflist.utf8), source: "x.conflist")
        let runtime = JSONObject([("portMappings", .array([.object(JSONObject([("hostPort", 8080)]))]))])
        let prev: JSONValue = .object(JSONObject([("cniVersion", "1.0.0"), ("ips", .array([]))]))
        let bridge = try JSONValue.parse(list.stdinConfig(plugin: 0, runtimeConfig: runtime, prevResult: nil))
        #expect(bridge["name"]?.stringValue == "podd")
        #expect(bridge["cniVersion"]?.stringValue == "1.0.0")
        #expect(bridge["runtimeConfig"] == nil)
        #expect(bridge["prevResult"] == nil)
        #expect(bridge["bridge"]?.stringValue == "podd0")
        let portmap = try JSONValue.parse(list.stdinConfig(plugin: 1, runtimeConfig: runtime, prevResult: prev))
        #expect(portmap["runtimeConfig"]?["portMappings"]?[0]?["hostPort"]?.intValue == 8080)
        #expect(portmap["prevResult"] == prev)
    }

    @Test(arguments: [
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (#"{"cniVersion": "1.0.0", "plugins": [{"type": "bridge"}]}"#, "\"name\""),
        (#"{"name": "n", "plugins": [{"type": "bridge"}]}"#, "cniVersion"),
        (#"{"name": "n", "cniVersion": "9.9.9", "plugins": [{"type": "bridge"}]}"#, "9.9.9 is not supported"),
        (#"{"name": "n", "cniVersion": "1.0.0", "plugins": []}"#, "at least one plugin"),
        (#"{"name": "n", "cniVersion": "1.0.0", "plugins": [{"bridge": "x"}]}"#, "plugins[0].type"),
        (#"{"name": "n", "cniVersion": "1.0.0", "plugins": [{"type": "../bin/sh"}]}"#, "plain binary name"),
    ])
    func refusesBrokenLists(text: String, expected: String) {
        #expect {
            _ = try CNIConfigList(bytes: Array(text.utf8), source: "bad.conflist")
        } throws: { error in
            let d = "\(error)"
            return d.contains(expected) && d.contains("bad.conflist")
        }
    }

    @Test func defaultListIsPodmansBridgeWithPoddsNames() throws {
        let json = DefaultNetworkConfig.json(name: "podd", subnet: .poddDefault, ipamDataDir: "/run/podd/cni/ipam")
        let list = try CNIConfigList(json: json, source: "default")
        #expect(list.types == ["bridge", "portmap"])
        let guarded = DefaultNetworkConfig.json(name: "podd", subnet: .poddDefault, ipamDataDir: "/x", firewall: true)
        #expect(try CNIConfigList(json: guarded, source: "default").types == ["bridge", "portmap", "firewall"])
        let bridge = list.plugins[0]
        #expect(bridge["bridge"]?.stringValue == "podd0")
        #expect(bridge["isGateway"]?.boolValue == true)
        #expect(bridge["ipMasq"]?.boolValue == false)   // podd's one subnet-wide rule instead
        #expect(bridge["hairpinMode"]?.boolValue == true)
        #expect(bridge["ipam"]?["ranges"]?[0]?[0]?["subnet"]?.stringValue == "10.88.0.0/16")
        #expect(bridge["ipam"]?["ranges"]?[0]?[0]?["gateway"]?.stringValue == "10.88.0.1")
        #expect(bridge["ipam"]?["dataDir"]?.stringValue == "/run/podd/cni/ipam")
        #expect(list.plugin(1, has: "portMappings"))
    }

    @Test func subnetsParseAsCIDR() {
        #expect(IPv4Subnet("10.88.0.0/16")?.description == "10.88.0.0/16")
        #expect(IPv4Subnet("192.168.7.0/24")?.host(1) == "192.168.7.1")
        #expect(IPv4Subnet("10.88.0.1/16") == nil)   // host bits
        #expect(IPv4Subnet("10.88.0.0/31") == nil)   // no room
        #expect(IPv4Subnet("10.88.0/16") == nil)
        #expect(IPv4Subnet("300.1.0.0/16") == nil)
        #expect(IPv4Subnet("10.088.0.0/16") == nil)
    }
}

@Suite struct CNIResultTests {
    @Test func podIPsAreTheSandboxInterfacesAddressesIPv4First() throws {
        let text = """
            {"cniVersion": "1.0.0",
             "interfaces": [{"name": "podd0", "mac": "aa"}, {"name": "veth1", "mac": "bb"},
                            {"name": "eth0", "mac": "cc", "sandbox": "/run/podd/cni/netns/u"}],
             "ips": [{"address": "fd00::5/64", "interface": 2},
                     {"address": "10.88.0.5/16", "gateway": "10.88.0.1", "interface": 2},
                     {"address": "10.88.0.1/16", "interface": 0}],
             "routes": [{"dst": "0.0.0.0/0"}], "dns": {}}
            """
        let result = try CNIResult(json: JSONValue.parse(text))
        #expect(result.podIPs == ["10.88.0.5", "fd00::5"])
        #expect(result.ips[1].gateway == "10.88.0.1")
        #expect(result.interfaces[2].sandbox == "/run/podd/cni/netns/u")
    }

    @Test func anAddressWithoutPrefixIsRefused() throws {
        #expect(throws: CNIError.self) { try CNIResult(json: JSONValue.parse(#"{"ips": [{"address": "10.0.0.1"}]}"#)) }
    }

    @Test func errorsCarryThePluginsObjectVerbatim() {
        let e = CNIError.plugin(type: "bridge", operation: "add", code: 11, message: "failed to allocate for range 0",
                                details: "no IP addresses available in range set: 10.88.0.1-10.88.0.2")
        #expect(e.description == "plugin type=\"bridge\" failed (add): failed to allocate for range 0: no IP addresses available in range set: 10.88.0.1-10.88.0.2 (CNI error code 11)")
    }

    @Test func attachmentsRoundTripThroughTheirSavedForm() throws {
        let list = try CNIConfigList(bytes: Array(CNIConfigListTests.conflist.utf8), source: "x")
        let a = CNIAttachment(containerID: "u1", netns: "/run/podd/cni/netns/u1",
                              args: [("K8S_POD_NAMESPACE", "default"), ("K8S_POD_NAME", "web")],
                              runtimeConfig: JSONObject([("portMappings", .array([]))]), config: list,
                              result: .object(JSONObject([("cniVersion", "1.0.0")])))
        let back = try CNIAttachment(json: JSONValue.parse(a.json.serialized()))
        #expect(back == a)
        #expect(a.argsString == "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web")
    }
}
