import Testing

@testable import PodModel

/// What a new version of a stored pod asks of its containers (PUT, PATCH, label, annotate).
@Suite struct PodUpdateTests {
    private func stored() throws -> Pod {
        var pod = try Fixture.pod(Fixture.minimal)
        pod.metadata.uid = "0b0c"
        pod.metadata.resourceVersion = "7"
        pod.metadata.labels = ["app": "web"]
        pod.metadata.annotations = ["note": "a"]
        return pod
    }

    @Test func theSameObjectIsUnchanged() throws {
        let old = try stored()
        #expect(PodUpdate.classify(old: old, new: old) == .unchanged)
    }

    @Test func serverSetFieldsAndStatusDoNotCount() throws {
        let old = try stored()
        var new = old
        new.metadata.resourceVersion = "8"
        new.metadata.creationTimestamp = Timestamp(seconds: 1)
        new.status.phase = .running
        #expect(PodUpdate.classify(old: old, new: new) == .unchanged)
    }

    @Test func labelsOrAnnotationsAloneAreMetadataOnly() throws {
        let old = try stored()
        var relabelled = old
        relabelled.metadata.labels["tier"] = "front"
        #expect(PodUpdate.classify(old: old, new: relabelled) == .metadataOnly)
        var annotated = old
        annotated.metadata.annotations["note"] = nil
        #expect(PodUpdate.classify(old: old, new: annotated) == .metadataOnly)
    }

    @Test func aChangedSpecRestarts() throws {
        let old = try stored()
        var new = old
        new.spec.containers[0].image = "busybox:1.36"
        new.metadata.labels["tier"] = "front"
        #expect(PodUpdate.classify(old: old, new: new) == .restart)
    }

    @Test func theRestartScopeAnnotationRestarts() throws {
        let old = try stored()
        var new = old
        new.metadata.annotations["podd.io/restart-scope"] = "container"
        #expect(PodUpdate.classify(old: old, new: new) == .restart)
    }
}
