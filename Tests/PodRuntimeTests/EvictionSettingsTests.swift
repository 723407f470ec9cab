import Testing
@testable import PodRuntime

/// `eviction: {checkInterval}`: kubelet's 10 s unless set; a bad value stops podd with a
/// message naming it.
struct EvictionSettingsTests {
    @Test func theDefaultIsKubeletsPeriodAndADurationSetsIt() throws {
        #expect(try PoddConfig.parse("", source: "t.yaml").eviction.checkInterval == 10)
        #expect(try PoddConfig.parse("eviction: {checkInterval: 1s}", source: "t.yaml").eviction.checkInterval == 1)
        #expect(try PoddConfig.parse("eviction: {checkInterval: 500ms}", source: "t.yaml").eviction.checkInterval == 0.5)
    }

    @Test func badValuesAreRefusedByName() {
        for (text, expected) in [("eviction: {checkInterval: soon}", "eviction.checkInterval"),
                                 ("eviction: {checkInterval: 0s}", "eviction.checkInterval"),
                                 ("eviction: {period: 1s}", "eviction.period: unknown key"),
                                 ("eviction: 10s", "eviction: expected a mapping")] {
            do {
                _ = try PoddConfig.parse(text, source: "t.yaml")
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.message.contains(expected), "\(error.message)")
            }
        }
    }
}
