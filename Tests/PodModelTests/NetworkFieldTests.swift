import Testing

@testable import PodModel

@Suite struct NetworkFieldTests {
    @Test func networkFieldsDecodeAndRoundTrip() throws {
        let pod = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              hostNetwork: true
              dnsPolicy: ClusterFirstWithHostNet
              dnsConfig: {nameservers: [192.0.2.53], searches: [svc.example], options: [{name: ndots, value: "2"}, {name: edns0}]}
              hostAliases: [{ip: 10.1.2.3, hostnames: [db.local]}]
              subdomain: web
              containers:
              - name: app
                image: busybox
                ports: [{containerPort: 80, hostPort: 80, hostIP: 127.0.0.1, protocol: UDP}]
            """)
        #expect(pod.spec.hostNetwork)
        #expect(pod.spec.dnsPolicy == .clusterFirstWithHostNet)
        #expect(pod.spec.dnsConfig?.options.map(\.name) == ["ndots", "edns0"])
        #expect(pod.spec.dnsConfig?.options.first?.value == "2")
        #expect(pod.spec.hostAliases == [HostAlias(ip: "10.1.2.3", hostnames: ["db.local"])])
        #expect(pod.spec.subdomain == "web")
        let port = pod.spec.containers[0].ports[0]
        #expect(port.hostPort == 80 && port.hostIP == "127.0.0.1" && port.protocol == .udp)
        #expect(try PodSpec(json: pod.spec.json, path: FieldPath("spec")) == pod.spec)
        #expect(PodValidation.validate(pod).isEmpty)
    }

    @Test func theDefaultDNSPolicyIsNotWrittenBack() throws {
        let pod = try Fixture.pod(Fixture.minimal)
        #expect(pod.spec.dnsPolicy == .clusterFirst)
        #expect(pod.spec.json["dnsPolicy"] == nil)
    }

    @Test func badNetworkFieldsAreRefusedWithTheirPaths() throws {
        let messages = try Fixture.validationMessages("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              hostNetwork: true
              dnsPolicy: None
              subdomain: Not_A_Label
              hostAliases: [{ip: 10.1.2, hostnames: [ok.local, "bad name"]}]
              containers:
              - name: app
                image: busybox
                ports:
                - {containerPort: 80, hostPort: 8080}
                - {containerPort: 81, hostPort: 70000}
                - {containerPort: 82, hostPort: 82, protocol: SCTP}
                - {containerPort: 83, hostPort: 83, hostIP: "1.2.3"}
              - name: side
                image: busybox
                ports: [{containerPort: 83, hostPort: 83, hostIP: "1.2.3"}]
            """)
        let joined = messages.joined(separator: "\n")
        #expect(joined.contains("spec.containers[0].ports[0].hostPort: Invalid value: 8080: must match `containerPort` when `hostNetwork` is true"))
        #expect(joined.contains("spec.containers[0].ports[1].hostPort: Invalid value: 70000"))
        #expect(joined.contains("spec.containers[0].ports[2].protocol: Unsupported value: \"SCTP\""))
        #expect(joined.contains("spec.containers[0].ports[3].hostIP: Invalid value: \"1.2.3\": must be a valid IP address"))
        #expect(joined.contains("spec.containers[1].ports[0].hostPort: Duplicate value"))
        #expect(joined.contains("spec.subdomain: Invalid value: \"Not_A_Label\""))
        #expect(joined.contains("spec.dnsConfig: Required value: must provide `dnsConfig` when `dnsPolicy` is None"))
        #expect(joined.contains("spec.hostAliases[0].ip: Invalid value: \"10.1.2\""))
        #expect(joined.contains("spec.hostAliases[0].hostnames[1]: Invalid value: \"bad name\""))
        #expect(!joined.contains("hostnames[0]"))
    }

    @Test func ipAddressesAreReadAsGoReadsThem() {
        for good in ["10.0.0.1", "0.0.0.0", "::1", "fd00::5", "2001:db8::1:0:0:1", "::ffff:10.1.2.3", "1:2:3:4:5:6:7:8"] {
            #expect(IPAddressText.isValid(good), "\(good)")
        }
        for bad in ["10.0.0", "256.1.1.1", "1.2.3.4.5", "a.b.c.d", ":::1", "1:2:3:4:5:6:7:8:9", "1::2::3", "", "fd00::g"] {
            #expect(!IPAddressText.isValid(bad), "\(bad)")
        }
    }
}
