import PodModel
import Testing
@testable import PodAPI

/// Field selectors as the API server reads them: the fields each resource's lists select on,
/// and the values a pod left to the API server's defaults has.
struct FieldSelectorTests {
    let pod = try! JSONValue.parse(Array(#"""
        {"metadata": {"name": "web", "namespace": "default"},
         "spec": {"nodeName": "vm", "restartPolicy": "Always", "hostNetwork": true},
         "status": {"phase": "Running", "podIP": "10.88.0.7"}}
        """#.utf8))

    @Test func podsSelectOnKubernetesPodFields() throws {
        #expect(try FieldSelector("status.podIP=10.88.0.7,spec.hostNetwork=true").matches(pod))
        #expect(try !FieldSelector("status.podIP!=10.88.0.7").matches(pod))
        // Left out: what the API server fills in.
        #expect(try FieldSelector("spec.schedulerName=default-scheduler,spec.serviceAccountName=default").matches(pod))
        #expect(try FieldSelector("status.nominatedNodeName=").matches(pod))
        #expect(try !FieldSelector("spec.hostNetwork=false").matches(pod))
    }

    @Test func eachResourceHasItsOwnFields() throws {
        #expect(throws: StatusError.self) { try FieldSelector("status.phase=Running", fields: FieldSelector.fields(of: "configmaps")) }
        #expect(throws: StatusError.self) { try FieldSelector("metadata.namespace=x", fields: FieldSelector.fields(of: "priorityclasses")) }
        let secret = try JSONValue.parse(Array(#"{"metadata": {"name": "s"}, "type": "Opaque"}"#.utf8))
        #expect(try FieldSelector("type=Opaque", fields: FieldSelector.fields(of: "secrets")).matches(secret))
        let node = try JSONValue.parse(Array(#"{"metadata": {"name": "vm"}, "spec": {}}"#.utf8))
        #expect(try FieldSelector("spec.unschedulable=false", fields: FieldSelector.fields(of: "nodes")).matches(node))
    }
}
