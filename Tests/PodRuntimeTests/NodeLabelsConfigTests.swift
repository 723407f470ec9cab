import Testing
@testable import PodRuntime

/// `nodeLabels`: the node's labels besides kubelet's own, checked as the API server checks
/// labels; a bad one stops podd with a message naming it.
struct NodeLabelsConfigTests {
    @Test func labelsAreReadAndReachTheNode() throws {
        #expect(try PoddConfig.parse("", source: "t.yaml").nodeLabels.isEmpty)
        let config = try PoddConfig.parse("nodeLabels: {disktype: ssd, example.com/tier: gold, zone: 3}", source: "t.yaml")
        #expect(config.nodeLabels == ["disktype": "ssd", "example.com/tier": "gold", "zone": "3"])
    }

    @Test func badLabelsAreRefusedByName() {
        for (text, expected) in [("nodeLabels: [a]", "nodeLabels: expected a mapping"),
                                 ("nodeLabels: {\"bad key\": x}", "nodeLabels.bad key: key \"bad key\""),
                                 ("nodeLabels: {a: -x-}", "nodeLabels.a: value \"-x-\""),
                                 ("nodeLabels: {a: {b: c}}", "nodeLabels.a: expected a label value")] {
            do {
                _ = try PoddConfig.parse(text, source: "t.yaml")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }
}
