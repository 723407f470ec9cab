import Testing

@testable import PodModel

@Suite struct StatusTypesTests {
    @Test func containerStatusCarriesTheRequiredFields() {
        let waiting = ContainerStatus(name: "app", image: "busybox")
        #expect(waiting.json == [
            "name": "app", "state": [:], "lastState": [:], "ready": false, "restartCount": 0, "image": "busybox", "imageID": "",
        ])
        #expect(waiting.json.objectValue?.keys == ["name", "state", "lastState", "ready", "restartCount", "image", "imageID"])
    }

    @Test func containerStatusRoundTrips() throws {
        let status = ContainerStatus(
            name: "app", image: "busybox", imageID: "sha256:1",
            state: ContainerState(waiting: ContainerStateWaiting(reason: "CrashLoopBackOff", message: "back-off 10s restarting failed container=app pod=web_default(uid)")),
            lastState: ContainerState(terminated: ContainerStateTerminated(
                exitCode: 137, signal: 9, reason: "Error", startedAt: Timestamp(seconds: 10), finishedAt: Timestamp(seconds: 20), containerID: "podd://1")),
            restartCount: 3, containerID: "podd://1", started: false)
        #expect(try ContainerStatus(json: status.json) == status)
        #expect(status.json["lastState"] == ["terminated": [
            "exitCode": 137, "signal": 9, "reason": "Error", "startedAt": "1970-01-01T00:00:10Z", "finishedAt": "1970-01-01T00:00:20Z",
            "containerID": "podd://1",
        ]])
        #expect(status.lastState.terminated?.exitCode == 137)
        #expect(status.state.running == nil)
    }

    @Test func podStatusAlwaysHasPhaseAndRoundTrips() throws {
        #expect(PodStatus().json == ["phase": "Pending"])
        let status = PodStatus(
            phase: .running,
            conditions: [PodCondition(type: "Initialized", status: "False", lastTransitionTime: Timestamp(seconds: 5),
                                      reason: "ContainersNotInitialized", message: "containers with incomplete status: [init1 init2]")],
            hostIP: "127.0.0.1", podIP: "10.0.0.2", startTime: Timestamp(seconds: 1),
            initContainerStatuses: [ContainerStatus(name: "init1", image: "busybox")],
            containerStatuses: [ContainerStatus(name: "app", image: "busybox", state: ContainerState(running: ContainerStateRunning(startedAt: Timestamp(seconds: 2))))],
            qosClass: "BestEffort",
            ephemeralContainerStatuses: [ContainerStatus(name: "debugger", image: "busybox")])
        #expect(try PodStatus(json: status.json) == status)
        let json = status.json
        #expect(json.objectValue?.keys == [
            "phase", "conditions", "hostIP", "hostIPs", "podIP", "podIPs", "startTime", "initContainerStatuses", "containerStatuses",
            "qosClass", "ephemeralContainerStatuses",
        ])
        #expect(json["hostIPs"] == [["ip": "127.0.0.1"]])
        #expect(json["conditions"]?[0] == [
            "type": "Initialized", "status": "False", "lastProbeTime": nil, "lastTransitionTime": "1970-01-01T00:00:05Z",
            "reason": "ContainersNotInitialized", "message": "containers with incomplete status: [init1 init2]",
        ])
        #expect(PodPhase.succeeded.isTerminal && !PodPhase.running.isTerminal)
    }

    @Test func unknownPhaseIsRefused() {
        #expect(throws: ManifestError.self) { try PodStatus(json: ["phase": "Sleeping"]) }
    }
}

@Suite struct EventTests {
    @Test func writesAsTheAPIServerAndRoundTrips() throws {
        let pod = try Fixture.pod(Fixture.minimal)
        let event = Event(
            metadata: ObjectMeta(name: "web.1800a", namespace: "default", uid: "e-1", resourceVersion: "7", creationTimestamp: Timestamp(seconds: 100)),
            involvedObject: ObjectReference(pod: pod, fieldPath: "spec.containers{app}"),
            reason: "BackOff", message: "Back-off restarting failed container app in pod web_default(uid)",
            source: EventSource(component: "podd", host: "node"),
            firstTimestamp: Timestamp(seconds: 100), lastTimestamp: Timestamp(seconds: 160), count: 4, type: .warning,
            reportingComponent: "podd", reportingInstance: "node")
        let json = event.json
        #expect(json.objectValue?.keys == [
            "kind", "apiVersion", "metadata", "involvedObject", "reason", "message", "source", "firstTimestamp", "lastTimestamp", "count",
            "type", "eventTime", "reportingComponent", "reportingInstance",
        ])
        #expect(json["involvedObject"] == ["kind": "Pod", "namespace": "default", "name": "web", "apiVersion": "v1", "fieldPath": "spec.containers{app}"])
        #expect(json["eventTime"] == .null)
        #expect(json["type"] == "Warning")
        #expect(try Event(json: json) == event)
        var micro = event
        micro.eventTime = Timestamp(seconds: 100, nanoseconds: 123_456_000)
        #expect(micro.json["eventTime"] == "1970-01-01T00:01:40.123456Z")
        #expect(try Event(json: micro.json) == micro)
    }
}

@Suite struct APIStatusTests {
    @Test func notFoundAndAlreadyExistsAreWordedAsKubernetes() {
        #expect(APIStatus.notFound(name: "web").json == [
            "kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure", "message": #"pods "web" not found"#,
            "reason": "NotFound", "details": ["name": "web", "kind": "pods"], "code": 404,
        ])
        #expect(APIStatus.alreadyExists(name: "web").message == #"pods "web" already exists"#)
        #expect(APIStatus.alreadyExists(name: "web").code == 409)
        #expect(APIStatus.badRequest("bad").reason == "BadRequest")
    }

    @Test func fromADecodingError() {
        let error = ManifestError.decoding([.unknownField(FieldPath("spec.foo"))])
        let status = APIStatus(error)
        #expect(status.code == 400)
        #expect(status.reason == "BadRequest")
        #expect(status.message == #"strict decoding error: unknown field "spec.foo""#)
        #expect(status.details?.causes == [StatusCause(reason: "FieldValueInvalid", message: #"unknown field "spec.foo""#, field: "spec.foo")])
        #expect(APIStatus(ManifestError.decoding(message: "error parsing YAML: x")).details == nil)
    }

    @Test func roundTrips() throws {
        let status = APIStatus(status: .failure, message: "m", reason: "Invalid",
                               details: StatusDetails(name: "web", kind: "Pod", causes: [StatusCause(reason: "FieldValueRequired", message: "Required value", field: "spec.containers")]),
                               code: 422)
        #expect(try APIStatus(json: status.json) == status)
        // An exec stream's exit status, as kubectl reads it from channel 3.
        let exit = APIStatus(status: .failure, message: "command terminated with non-zero exit code: exit status 7", reason: "NonZeroExitCode",
                             details: StatusDetails(causes: [StatusCause(reason: "ExitCode", message: "7")]))
        #expect(exit.json["details"] == ["causes": [["reason": "ExitCode", "message": "7"]]])
        #expect(APIStatus(status: .success).json == ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success"])
    }
}

@Suite struct ManifestErrorTests {
    @Test func deduplicatesRepeatedMessages() {
        let cause = FieldError.required(FieldPath("spec.containers"))
        #expect(ManifestError.invalid([cause, cause], objectName: "web").message == #"Pod "web" is invalid: spec.containers: Required value"#)
        #expect(ManifestError.invalid([], objectName: "web").message == #"Pod "web" is invalid"#)
    }

    @Test func fieldErrorWording() {
        #expect(FieldError.invalid("a", .string("x\ny\"z"), "bad").description == #"a: Invalid value: "x\ny\"z": bad"#)
        #expect(FieldError.invalid("a", .bool(true), "").description == "a: Invalid value: true")
        #expect(FieldError.invalid("a", ["k": 1], "d").description == #"a: Invalid value: {"k":1}: d"#)
        #expect(FieldError.notFound("a", .string("v")).reason == "FieldValueNotFound")
        #expect(FieldError.tooLong("a", maxLength: 1).description == "a: Too long: may not be more than 1 byte")
        #expect(FieldError.forbidden("a", "no").message == "Forbidden: no")
        #expect(FieldError.required("a").message == "Required value")
        #expect(FieldError.goQuoted("tab\there\u{01}") == #""tab\there\x01""#)
    }
}
