import PodModel
import PodRuntime
import Testing

@testable import PodAPI

/// The one mapping from the runtime's errors to Kubernetes Status objects: codes, reasons,
/// messages and details as the API server sends them.
@Suite struct StatusErrorTests {
    private func json(_ error: StatusError) -> JSONValue { error.status.json }

    @Test func notFound() {
        let status = StatusError(RuntimeError.notFound(kind: "pods", name: "web"))
        #expect(status.code == 404)
        #expect(status.reason == "NotFound")
        #expect(status.message == "pods \"web\" not found")
        let body = json(status)
        #expect(body["kind"]?.stringValue == "Status")
        #expect(body["apiVersion"]?.stringValue == "v1")
        #expect(body["status"]?.stringValue == "Failure")
        #expect(body["code"]?.intValue == 404)
        #expect(body["details"]?["name"]?.stringValue == "web")
        #expect(body["details"]?["kind"]?.stringValue == "pods")
    }

    @Test func notFoundOfAPartKeepsItsWording() {
        let status = StatusError(RuntimeError.notFound(kind: "pods", name: "web", detail: "ephemeral container \"dbg\" not found in pod \"web\""))
        #expect(status.code == 404)
        #expect(status.message == "ephemeral container \"dbg\" not found in pod \"web\"")
    }

    @Test func alreadyExistsAndConflictAre409() {
        let exists = StatusError(RuntimeError.alreadyExists(kind: "pods", name: "web"))
        #expect(exists.code == 409)
        #expect(exists.reason == "AlreadyExists")
        #expect(exists.message == "pods \"web\" already exists")
        let modified = StatusError(RuntimeError.modified(pod: "web"))
        #expect(modified.code == 409)
        #expect(modified.reason == "Conflict")
        #expect(modified.message.hasPrefix("Operation cannot be fulfilled on pods \"web\": the object has been modified"))
        #expect(json(modified)["details"]?["kind"]?.stringValue == "pods")
    }

    @Test func invalidCarriesOneCausePerField() {
        let causes = [RuntimeError.Cause(reason: "FieldValueRequired", message: "Required value", field: "spec.containers[0].image"),
                      RuntimeError.Cause(reason: "FieldValueInvalid", message: "Invalid value: \"x\"", field: nil)]
        let status = StatusError(RuntimeError.invalid(kind: "pods", name: "web", causes: causes))
        #expect(status.code == 422)
        #expect(status.reason == "Invalid")
        #expect(status.message == "Pod \"web\" is invalid: [spec.containers[0].image: Required value, Invalid value: \"x\"]")
        let listed = json(status)["details"]?["causes"]?.arrayValue ?? []
        #expect(listed.count == 2)
        #expect(listed.first?["reason"]?.stringValue == "FieldValueRequired")
        #expect(listed.first?["field"]?.stringValue == "spec.containers[0].image")
        #expect(listed.first?["message"]?.stringValue == "Required value")
        #expect(listed.last?["field"] == nil)
        let single = StatusError(RuntimeError.invalid(kind: "pods", name: "web", causes: [causes[0]]))
        #expect(single.message == "Pod \"web\" is invalid: spec.containers[0].image: Required value")
    }

    @Test func theOtherCases() {
        let bad = StatusError(RuntimeError.invalidRequest("container c is not valid for pod web"))
        #expect(bad.code == 400)
        #expect(bad.reason == "BadRequest")
        #expect(json(bad)["details"] == nil)
        let forbidden = StatusError(RuntimeError.forbidden(kind: "pods", name: "web", reason: "pod \"web\" is a static pod"))
        #expect(forbidden.code == 403)
        #expect(forbidden.reason == "Forbidden")
        #expect(forbidden.message == "pod \"web\" is a static pod")
        let full = StatusError(RuntimeError.insufficientStorage(what: "cannot store pod \"web\"", reason: "write: No space left on device"))
        #expect(full.code == 507)
        #expect(full.reason == "InsufficientStorage")
        #expect(full.message == "cannot store pod \"web\": write: No space left on device")
        let broken = StatusError(RuntimeError.internalError("the monitor went away"))
        #expect(broken.code == 500)
        #expect(broken.reason == "InternalError")
        #expect(broken.message == "Internal error occurred: the monitor went away")
    }

    @Test func tooManyConnectionsSaysWhenToRetry() {
        let status = StatusError.tooManyConnections(limit: 8)
        #expect(status.code == 429)
        #expect(status.reason == "TooManyRequests")
        #expect(json(status)["details"]?["retryAfterSeconds"]?.intValue == 1)
        guard case let .full(code, _, _, headers) = status.response else {
            Issue.record("expected a whole answer")
            return
        }
        #expect(code.code == 429)
        #expect(headers.contains { $0.0 == "Retry-After" && $0.1 == "1" })
    }

    @Test func manifestErrorsAre400Or422() {
        let decoding = ManifestError.decoding([.unknownField(FieldPath("spec.bogus"))])
        #expect(StatusError(decoding, name: "web").code == 400)
        let invalid = ManifestError.invalid([.required(FieldPath("spec.containers"), "")], objectName: "web")
        let status = StatusError(invalid, name: "web")
        #expect(status.code == 422)
        #expect(status.reason == "Invalid")
        #expect(json(status)["details"]?["causes"]?.arrayValue?.first?["field"]?.stringValue == "spec.containers")
    }
}
