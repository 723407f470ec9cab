import Testing

@testable import PodModel

/// Kubernetes' messages, spelled out once.
private enum Message {
    static let label = #"a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"#
    static let subdomain = #"a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"#
    static let labelKeyName = #"name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"#
    static let labelValue = #"a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"#
}

/// A pod manifest from a spec body (indented as under `spec:`) and optional metadata lines.
private func manifest(spec: String, metadata: String = "  name: web") -> String {
    "apiVersion: v1\nkind: Pod\nmetadata:\n\(metadata)\nspec:\n\(spec)"
}

@Suite struct MetadataValidationTests {
    @Test func validPodHasNoErrors() throws {
        #expect(try Fixture.validationMessages(Fixture.minimal).isEmpty)
        #expect(try Fixture.validationMessages(Fixture.full).isEmpty)
    }

    @Test func nameIsARequiredSubdomain() throws {
        let spec = "  containers: [{name: app, image: busybox}]"
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  namespace: default")) == [
            "metadata.name: Required value: name or generateName is required",
        ])
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: Web_1")) == [
            #"metadata.name: Invalid value: "Web_1": "# + Message.subdomain,
        ])
        let long = String(repeating: "a", count: 254)
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: \(long)")) == [
            "metadata.name: Invalid value: \"\(long)\": must be no more than 253 characters",
        ])
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web.example.com")).isEmpty)
    }

    @Test func namespaceIsALabel() throws {
        let spec = "  containers: [{name: app, image: busybox}]"
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web\n  namespace: My_NS")) == [
            #"metadata.namespace: Invalid value: "My_NS": "# + Message.label,
        ])
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web\n  namespace: team.a")) == [
            #"metadata.namespace: Invalid value: "team.a": must not contain dots"#,
        ])
        var pod = try Fixture.pod(Fixture.minimal)
        pod.metadata.namespace = ""
        #expect(PodValidation.validate(pod).map(\.description) == ["metadata.namespace: Required value"])
    }

    @Test func labelsFollowKubernetesRules() throws {
        let spec = "  containers: [{name: app, image: busybox}]"
        let messages = try Fixture.validationMessages(manifest(spec: spec, metadata: """
              name: web
              labels:
                -bad: x
                good: bad value
                Example.com/app: x
                a/b/c: x
                example.com/: x
                ok.example.com/App_1: v-1.2_3
            """))
        #expect(messages == [
            #"metadata.labels: Invalid value: "-bad": "# + Message.labelKeyName,
            #"metadata.labels: Invalid value: "Example.com/app": prefix part "# + Message.subdomain,
            #"metadata.labels: Invalid value: "a/b/c": a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"#,
            #"metadata.labels: Invalid value: "example.com/": name part must be non-empty"#,
            #"metadata.labels: Invalid value: "example.com/": "# + Message.labelKeyName,
            #"metadata.labels: Invalid value: "bad value": "# + Message.labelValue,
        ])
        let longValue = String(repeating: "v", count: 64)
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web\n  labels: {app: \(longValue)}")) == [
            "metadata.labels: Invalid value: \"\(longValue)\": must be no more than 63 bytes",
        ])
    }

    @Test func annotationKeysIgnoreCaseAndSizeIsLimited() throws {
        let spec = "  containers: [{name: app, image: busybox}]"
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: """
              name: web
              annotations: {Example.com/Owner: me, "bad key": x}
            """)) == [
            #"metadata.annotations: Invalid value: "bad key": "# + Message.labelKeyName,
        ])
        var pod = try Fixture.pod(Fixture.minimal)
        pod.metadata.annotations = ["big": String(repeating: "x", count: 256 * 1024)]
        #expect(PodValidation.validate(pod).map(\.description) == ["metadata.annotations: Too long: may not be more than 262144 bytes"])
        #expect(PodValidation.validate(pod).first?.reason == "FieldValueTooLong")
    }

    @Test func restartScopeIsPodOrContainer() throws {
        let spec = "  containers: [{name: app, image: busybox}]"
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web\n  annotations: {podd.io/restart-scope: node}")) == [
            #"metadata.annotations[podd.io/restart-scope]: Unsupported value: "node": supported values: "pod", "container""#,
        ])
        #expect(try Fixture.validationMessages(manifest(spec: spec, metadata: "  name: web\n  annotations: {podd.io/restart-scope: pod}")).isEmpty)
    }
}

@Suite struct ContainerValidationTests {
    @Test func containersAreRequired() throws {
        #expect(try Fixture.validationMessages(manifest(spec: "  containers: []")) == ["spec.containers: Required value"])
        #expect(try Fixture.validationMessages(manifest(spec: "  restartPolicy: Never")) == ["spec.containers: Required value"])
    }

    @Test func namesAreUniqueLabelsAcrossAllContainerKinds() throws {
        let messages = try Fixture.validationMessages(manifest(spec: """
              initContainers:
              - {name: app, image: busybox}
              - {name: init, image: busybox}
              - {name: init, image: busybox}
              containers:
              - {name: Foo, image: busybox}
              - {name: app, image: busybox}
              - {name: app, image: busybox}
              - {image: busybox}
              ephemeralContainers:
              - {name: init, image: busybox}
              - {name: debug, image: busybox}
              - {name: debug, image: busybox}
            """), allowEphemeralContainers: true)
        #expect(messages == [
            #"spec.containers[0].name: Invalid value: "Foo": "# + Message.label,
            #"spec.containers[2].name: Duplicate value: "app""#,
            "spec.containers[3].name: Required value",
            #"spec.initContainers[0].name: Duplicate value: "app""#,
            #"spec.initContainers[2].name: Duplicate value: "init""#,
            #"spec.ephemeralContainers[0].name: Duplicate value: "init""#,
            #"spec.ephemeralContainers[2].name: Duplicate value: "debug""#,
        ])
    }

    @Test func theMessageOfTheBrief() throws {
        let pod = try Fixture.pod(manifest(spec: """
              containers:
              - {name: Foo, image: busybox}
              - {name: app, image: busybox}
              - {name: app, image: busybox}
            """))
        let error = ManifestError.invalid(PodValidation.validate(pod), objectName: pod.metadata.name)
        #expect(error.message == #"Pod "web" is invalid: [spec.containers[0].name: Invalid value: "Foo": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?'), spec.containers[2].name: Duplicate value: "app"]"#)
        let single = ManifestError.invalid([.required(FieldPath("spec.containers[0].image"))], objectName: "web")
        #expect(single.message == #"Pod "web" is invalid: spec.containers[0].image: Required value"#)
        let status = APIStatus(error)
        #expect(status.code == 422)
        #expect(status.reason == "Invalid")
        #expect(status.details?.causes.count == 2)
        #expect(status.details?.causes[1] == StatusCause(reason: "FieldValueDuplicate", message: #"Duplicate value: "app""#, field: "spec.containers[2].name"))
        #expect(status.details?.name == "web")
        #expect(status.details?.kind == "Pod")
    }

    @Test func imageIsRequiredWithoutSurroundingWhitespace() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              initContainers: [{name: init, image: "busybox "}]
              containers: [{name: app}, {name: b, image: " busybox"}]
            """)) == [
            "spec.containers[0].image: Required value",
            #"spec.containers[1].image: Invalid value: " busybox": must not have leading or trailing whitespace"#,
            #"spec.initContainers[0].image: Invalid value: "busybox ": must not have leading or trailing whitespace"#,
        ])
    }

    @Test func portsAreNumberedAndNamed() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              containers:
              - name: app
                image: busybox
                ports:
                - {containerPort: 0}
                - {containerPort: 70000}
                - {name: HTTP, containerPort: 80}
                - {name: web, containerPort: 81}
                - {name: web, containerPort: 82}
                - {name: "-a--very-long-port-name", containerPort: 83}
            """)) == [
            "spec.containers[0].ports[0].containerPort: Required value",
            "spec.containers[0].ports[1].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive",
            #"spec.containers[0].ports[2].name: Invalid value: "HTTP": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
            #"spec.containers[0].ports[2].name: Invalid value: "HTTP": must contain at least one letter (a-z)"#,
            #"spec.containers[0].ports[4].name: Duplicate value: "web""#,
            #"spec.containers[0].ports[5].name: Invalid value: "-a--very-long-port-name": must be no more than 15 characters"#,
            #"spec.containers[0].ports[5].name: Invalid value: "-a--very-long-port-name": must not contain consecutive hyphens"#,
            #"spec.containers[0].ports[5].name: Invalid value: "-a--very-long-port-name": must not begin or end with a hyphen"#,
        ])
    }

    @Test func envNamesAndSources() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              containers:
              - name: app
                image: busybox
                env:
                - {name: "A=B", value: x}
                - {value: x}
                - {name: "MY.weird-NAME 1", value: ok}
                - {name: IP, valueFrom: {fieldRef: {fieldPath: status.bogus}}}
                - {name: EMPTY, valueFrom: {}}
                - {name: BOTH, value: x, valueFrom: {fieldRef: {fieldPath: metadata.uid}}}
                - {name: V2, valueFrom: {fieldRef: {apiVersion: v2, fieldPath: metadata.name}}}
                - {name: NOPATH, valueFrom: {fieldRef: {}}}
                - {name: "é", value: x}
            """)) == [
            #"spec.containers[0].env[0].name: Invalid value: "A=B": a valid environment variable name must consist only of printable ASCII characters other than '='"#,
            "spec.containers[0].env[1].name: Required value",
            #"spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: "status.bogus": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName", "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs""#,
            #"spec.containers[0].env[4].valueFrom: Invalid value: "": must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`"#,
            #"spec.containers[0].env[5].valueFrom: Invalid value: "": may not be specified when `value` is not empty"#,
            #"spec.containers[0].env[6].valueFrom.fieldRef.fieldPath: Invalid value: "metadata.name": error converting fieldPath: unsupported pod version: v2"#,
            "spec.containers[0].env[7].valueFrom.fieldRef.fieldPath: Required value",
            #"spec.containers[0].env[8].name: Invalid value: "é": a valid environment variable name must consist only of printable ASCII characters other than '='"#,
        ])
    }

    @Test func mountsNameDefinedVolumesAtUniqueAbsolutePaths() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              volumes:
              - {name: data, emptyDir: {}}
              - {name: Bad_Name, emptyDir: {}}
              - {name: data, emptyDir: {}}
              containers:
              - name: app
                image: busybox
                volumeMounts:
                - {name: data, mountPath: /data}
                - {name: nope, mountPath: /nope}
                - {name: data, mountPath: data}
                - {name: data, mountPath: /data}
                - {name: Bad_Name, mountPath: /bad}
                - {name: data, mountPath: /a/../etc}
                - {mountPath: /x}
                - {name: data}
            """)) == [
            #"spec.volumes[1].name: Invalid value: "Bad_Name": "# + Message.label,
            #"spec.volumes[2].name: Duplicate value: "data""#,
            #"spec.containers[0].volumeMounts[1].name: Not found: "nope""#,
            #"spec.containers[0].volumeMounts[2].mountPath: Invalid value: "data": must be an absolute path"#,
            #"spec.containers[0].volumeMounts[3].mountPath: Invalid value: "/data": must be unique"#,
            #"spec.containers[0].volumeMounts[4].name: Not found: "Bad_Name""#,
            #"spec.containers[0].volumeMounts[5].mountPath: Invalid value: "/a/../etc": must not contain '..'"#,
            "spec.containers[0].volumeMounts[6].name: Required value",
            #"spec.containers[0].volumeMounts[6].name: Not found: """#,
            "spec.containers[0].volumeMounts[7].mountPath: Required value",
        ])
    }

    @Test func volumeSources() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              volumes:
              - {name: a, hostPath: {path: var/log}}
              - {name: b, hostPath: {path: /var/../etc}}
              - {name: c, hostPath: {path: ""}}
              - {name: d, emptyDir: {sizeLimit: -1Mi}}
              - {name: e, emptyDir: {medium: Memory, sizeLimit: "0"}}
              - {name: f, emptyDir: {medium: Memory, sizeLimit: 1Gi}}
              - {emptyDir: {}}
              containers: [{name: app, image: busybox}]
            """)) == [
            #"spec.volumes[0].hostPath.path: Invalid value: "var/log": must be an absolute path"#,
            #"spec.volumes[1].hostPath.path: Invalid value: "/var/../etc": must not contain '..'"#,
            "spec.volumes[2].hostPath.path: Required value",
            "spec.volumes[3].emptyDir.sizeLimit: Forbidden: SizeLimit field must be a valid resource quantity",
            #"spec.volumes[4].emptyDir.sizeLimit: Invalid value: "0": must be greater than zero"#,
            "spec.volumes[6].name: Required value",
        ])
    }

    @Test func podLevelFields() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              hostname: My_Host
              terminationGracePeriodSeconds: -1
              containers: [{name: app, image: busybox}]
            """)) == [
            #"spec.hostname: Invalid value: "My_Host": "# + Message.label,
            "spec.terminationGracePeriodSeconds: Invalid value: -1: must be greater than or equal to 0",
        ])
    }
}

/// Issue 9: numbers bounded as the API server bounds them, NUL bytes refused.
@Suite struct InputBoundsValidationTests {
    @Test(arguments: ["9223372036854775807", "1000000000000", "2147483648"])
    func gracePeriodsBeyondInt32AreRefused(value: String) throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              terminationGracePeriodSeconds: \(value)
              containers: [{name: app, image: busybox}]
            """)) == [
            "spec.terminationGracePeriodSeconds: Invalid value: \(value): must be between 0 and 2147483647, inclusive",
        ])
    }

    /// Numbers beyond Int64 (JSON reads them as floats) or beyond a field's int32 are refused
    /// while decoding, never wrapped or trapped on.
    @Test(arguments: [
        ("terminationGracePeriodSeconds: 1e19", "spec.terminationGracePeriodSeconds"),
        ("terminationGracePeriodSeconds: 18446744073709551615", "spec.terminationGracePeriodSeconds"),
        ("terminationGracePeriodSeconds: .inf", ""),
        ("containers: [{name: app, image: busybox, livenessProbe: {exec: {command: [x]}, periodSeconds: 2147483648}}]",
         "spec.containers[0].livenessProbe.periodSeconds"),
        ("containers: [{name: app, image: busybox, ports: [{containerPort: 4294967376}]}]", "spec.containers[0].ports[0].containerPort"),
    ])
    func numbersBeyondTheirTypeAreRefused(line: String, field: String) throws {
        let spec = line.hasPrefix("containers") ? "  \(line)" : "  \(line)\n  containers: [{name: app, image: busybox}]"
        let error = try #require(Fixture.decodingError(manifest(spec: spec)))
        if field.isEmpty {
            #expect(error.message.contains("cannot be represented in JSON"))
        } else {
            #expect(error.causes.map(\.field.description) == [field])
        }
    }

    @Test func theLargestGracePeriodIsAccepted() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              terminationGracePeriodSeconds: 2147483647
              containers: [{name: app, image: busybox, lifecycle: {preStop: {sleep: {seconds: 2147483647}}}}]
            """)).isEmpty)
    }

    /// As the API server: any int64 is taken, a negative one as 1 s; beyond podd's bound it
    /// saturates there, so no deadline overflows.
    @Test func deleteGracePeriods() {
        #expect(DeleteValidation.gracePeriod(0) == 0)
        #expect(DeleteValidation.gracePeriod(30) == 30)
        #expect(DeleteValidation.gracePeriod(2_147_483_647) == 2_147_483_647)
        for negative: Int64 in [-1, -5, .min] {
            #expect(DeleteValidation.gracePeriod(negative) == 1)
        }
        for huge: Int64 in [2_147_483_648, 10_000_000_000_000, .max] {
            #expect(DeleteValidation.gracePeriod(huge) == SecondsLimits.maximumGracePeriod)
        }
        // The saturated grace still makes a deadline RFC 3339 can write.
        let deadline = Timestamp(seconds: 1_767_225_600).adding(seconds: Double(DeleteValidation.gracePeriod(.max)))
        #expect(Timestamp(rfc3339: deadline.rfc3339) != nil)
    }

    @Test func portsAreOneTo65535() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              containers: [{name: app, image: busybox, ports: [{containerPort: 65536}, {containerPort: -1}, {containerPort: 65535}]}]
            """)) == [
            "spec.containers[0].ports[0].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive",
            "spec.containers[0].ports[1].containerPort: Invalid value: -1: must be between 1 and 65535, inclusive",
        ])
    }

    /// `/tmp\0/etc` used to mount /tmp: the kernel stops at the NUL.
    @Test func nulBytesInPathsAndArgvAreRefused() throws {
        let messages = try Fixture.validationMessages(#"""
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web"},
             "spec": {"volumes": [{"name": "h", "hostPath": {"path": "/tmp\u0000/etc"}}],
                      "containers": [{"name": "app", "image": "busybox\u0000x", "workingDir": "/w\u0000",
                                      "command": ["sh", "-c\u0000"], "args": ["a\u0000b"],
                                      "env": [{"name": "A", "value": "x\u0000y"}],
                                      "volumeMounts": [{"name": "h", "mountPath": "/m\u0000nt"}],
                                      "lifecycle": {"preStop": {"exec": {"command": ["k\u0000"]}}},
                                      "livenessProbe": {"exec": {"command": ["p\u0000"]}}}]}}
            """#)
        let nul = "must not contain a NUL byte (\\x00)"
        #expect(messages == [
            #"spec.volumes[0].hostPath.path: Invalid value: "/tmp\x00/etc": "# + nul,
            #"spec.containers[0].image: Invalid value: "busybox\x00x": "# + nul,
            #"spec.containers[0].command[1]: Invalid value: "-c\x00": "# + nul,
            #"spec.containers[0].args[0]: Invalid value: "a\x00b": "# + nul,
            #"spec.containers[0].workingDir: Invalid value: "/w\x00": "# + nul,
            #"spec.containers[0].env[0].value: Invalid value: "x\x00y": "# + nul,
            // The volume is invalid, so its mount names no volume, as Kubernetes reports it.
            #"spec.containers[0].volumeMounts[0].name: Not found: "h""#,
            #"spec.containers[0].volumeMounts[0].mountPath: Invalid value: "/m\x00nt": "# + nul,
            #"spec.containers[0].lifecycle.preStop.exec.command[0]: Invalid value: "k\x00": "# + nul,
            #"spec.containers[0].livenessProbe.exec.command[0]: Invalid value: "p\x00": "# + nul,
        ])
    }
}

@Suite struct ProbeAndHookValidationTests {
    @Test func probeRules() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              containers:
              - name: app
                image: busybox
                livenessProbe: {exec: {command: []}, successThreshold: 2, periodSeconds: -1}
                readinessProbe: {httpGet: {port: 0, httpHeaders: [{name: "X Bad", value: v}]}, successThreshold: 2}
                startupProbe: {tcpSocket: {port: Http}, successThreshold: 3, failureThreshold: -2}
              - name: b
                image: busybox
                livenessProbe: {grpc: {port: 70000}, initialDelaySeconds: -5, timeoutSeconds: -1}
            """)) == [
            "spec.containers[0].livenessProbe.exec.command: Required value",
            "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0",
            "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1",
            "spec.containers[0].readinessProbe.httpGet.port: Invalid value: 0: must be between 1 and 65535, inclusive",
            #"spec.containers[0].readinessProbe.httpGet.httpHeaders: Invalid value: "X Bad": a valid HTTP header must consist of alphanumeric characters or '-' (e.g. 'X-Header-Name', regex used for validation is '[-A-Za-z0-9]+')"#,
            #"spec.containers[0].startupProbe.tcpSocket.port: Invalid value: "Http": must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"#,
            "spec.containers[0].startupProbe.failureThreshold: Invalid value: -2: must be greater than or equal to 0",
            "spec.containers[0].startupProbe.successThreshold: Invalid value: 3: must be 1",
            "spec.containers[1].livenessProbe.grpc.port: Invalid value: 70000: must be between 1 and 65535, inclusive",
            "spec.containers[1].livenessProbe.initialDelaySeconds: Invalid value: -5: must be greater than or equal to 0",
            "spec.containers[1].livenessProbe.timeoutSeconds: Invalid value: -1: must be greater than or equal to 0",
        ])
    }

    @Test func hookRules() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              terminationGracePeriodSeconds: 30
              containers:
              - name: app
                image: busybox
                lifecycle:
                  postStart: {exec: {command: []}}
                  preStop: {sleep: {seconds: 100}}
              - name: b
                image: busybox
                lifecycle:
                  postStart: {httpGet: {port: 8080}}
                  preStop: {sleep: {seconds: -1}}
              - name: c
                image: busybox
                lifecycle: {preStop: {sleep: {seconds: 0}}}
            """)) == [
            "spec.containers[0].lifecycle.postStart.exec.command: Required value",
            "spec.containers[0].lifecycle.preStop.sleep: Invalid value: 100: must be non-negative and less than terminationGracePeriodSeconds (30)",
            "spec.containers[1].lifecycle.preStop.sleep: Invalid value: -1: must be non-negative and less than terminationGracePeriodSeconds (30)",
        ])
    }

    @Test func initContainersMayNotProbeOrHookUnlessSidecars() throws {
        #expect(try Fixture.validationMessages(manifest(spec: """
              initContainers:
              - name: init
                image: busybox
                lifecycle: {preStop: {exec: {command: [sh]}}}
                livenessProbe: {exec: {command: [sh]}}
                readinessProbe: {exec: {command: [sh]}}
                startupProbe: {exec: {command: [sh]}}
              - name: sidecar
                image: busybox
                restartPolicy: Always
                lifecycle: {preStop: {exec: {command: [sh]}}}
                livenessProbe: {exec: {command: [sh]}, successThreshold: 2}
                readinessProbe: {exec: {command: [sh]}}
                startupProbe: {exec: {command: [sh]}}
              containers:
              - {name: app, image: busybox, restartPolicy: Always}
            """)) == [
            "spec.containers[0].restartPolicy: Forbidden: may not be set for non-init containers",
            "spec.initContainers[0].lifecycle: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].livenessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].readinessProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[0].startupProbe: Forbidden: may not be set for init containers without restartPolicy=Always",
            "spec.initContainers[1].livenessProbe.successThreshold: Invalid value: 2: must be 1",
        ])
    }
}

@Suite struct EphemeralValidationTests {
    static let withEphemeral = manifest(spec: """
          initContainers: [{name: init, image: busybox}]
          containers: [{name: app, image: busybox}]
          ephemeralContainers:
          - name: debugger
            image: busybox
            targetContainerName: app
            ports: [{containerPort: 80}]
            restartPolicy: Always
            livenessProbe: {exec: {command: [sh]}}
            readinessProbe: {exec: {command: [sh]}}
            startupProbe: {exec: {command: [sh]}}
            lifecycle: {preStop: {exec: {command: [sh]}}}
          - {name: other, image: busybox, targetContainerName: nope}
          - {name: on-init, image: busybox, targetContainerName: init}
        """)

    @Test func cannotBeSetOnCreate() throws {
        let messages = try Fixture.validationMessages(manifest(spec: """
              containers: [{name: app, image: busybox}]
              ephemeralContainers: [{name: debugger, image: busybox}]
            """))
        #expect(messages == ["spec.ephemeralContainers: Forbidden: cannot be set on create"])
    }

    @Test func mayNotHavePortsProbesHooksOrRestartPolicy() throws {
        #expect(try Fixture.validationMessages(Self.withEphemeral, allowEphemeralContainers: true) == [
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].restartPolicy: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].livenessProbe: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].readinessProbe: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].startupProbe: Forbidden: cannot be set for an Ephemeral Container",
            "spec.ephemeralContainers[0].lifecycle: Forbidden: cannot be set for an Ephemeral Container",
            #"spec.ephemeralContainers[1].targetContainerName: Not found: "nope""#,
        ])
    }

    @Test func updatesAreAppendOnly() throws {
        let running = try Fixture.pod(manifest(spec: """
              containers: [{name: app, image: busybox}]
              volumes: [{name: data, emptyDir: {}}]
            """))
        let first = EphemeralContainer(Container(name: "debugger-1", image: "busybox", volumeMounts: [VolumeMount(name: "data", mountPath: "/data")]),
                                       targetContainerName: "app")
        #expect(PodValidation.validateEphemeralUpdate(old: running, new: [first]).isEmpty)

        var withOne = running
        withOne.spec.ephemeralContainers = [first]
        let second = EphemeralContainer(Container(name: "debugger-2", image: "busybox"))
        #expect(PodValidation.validateEphemeralUpdate(old: withOne, new: [first, second]).isEmpty)
        #expect(PodValidation.validateEphemeralUpdate(old: withOne, new: [second]).map(\.description) == [
            #"spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be removed"#,
        ])
        var changed = first
        changed.image = "alpine"
        #expect(PodValidation.validateEphemeralUpdate(old: withOne, new: [changed]).map(\.description) == [
            #"spec.ephemeralContainers: Forbidden: existing ephemeral containers "debugger-1" may not be changed"#,
        ])
        let clashing = EphemeralContainer(Container(name: "app", image: "busybox", ports: [ContainerPort(containerPort: 1)]),
                                          targetContainerName: "ghost")
        #expect(PodValidation.validateEphemeralUpdate(old: withOne, new: [first, clashing]).map(\.description) == [
            #"spec.ephemeralContainers[1].name: Duplicate value: "app""#,
            #"spec.ephemeralContainers[1].targetContainerName: Not found: "ghost""#,
            "spec.ephemeralContainers[1].ports: Forbidden: cannot be set for an Ephemeral Container",
        ])
    }
}

@Suite struct DNS1123Tests {
    @Test(arguments: ["a", "my-name", "123-abc", "a1", String(repeating: "a", count: 63)])
    func labels(value: String) {
        #expect(DNS1123.isLabel(value))
        #expect(DNS1123.isSubdomain(value))
    }

    @Test(arguments: ["", "-a", "a-", "A", "a_b", "a.b", "é", String(repeating: "a", count: 64)])
    func notLabels(value: String) {
        #expect(!DNS1123.isLabel(value))
    }

    @Test func subdomains() {
        #expect(DNS1123.isSubdomain("example.com"))
        #expect(DNS1123.isSubdomain("a.b-c.d1"))
        #expect(!DNS1123.isSubdomain("a..b"))
        #expect(!DNS1123.isSubdomain(".a"))
        #expect(!DNS1123.isSubdomain("a."))
        #expect(!DNS1123.isSubdomain(String(repeating: "a.", count: 127) + "a"))
        #expect(DNS1123.labelErrors(String(repeating: "a", count: 64)) == ["must be no more than 63 characters"])
        #expect(DNS1123.labelErrors("a.b") == ["must not contain dots"])
    }
}

@Suite struct PodFeaturesTests {
    static let everything = manifest(spec: """
          initContainers:
          - {name: sidecar, image: busybox, restartPolicy: Always, startupProbe: {exec: {command: [sh]}}}
          containers:
          - name: app
            image: busybox
            stdin: true
            tty: true
            livenessProbe: {exec: {command: [sh]}}
            readinessProbe: {exec: {command: [sh]}}
            lifecycle: {postStart: {exec: {command: [sh]}}, preStop: {sleep: {seconds: 1}}}
          ephemeralContainers:
          - {name: debugger, image: busybox, stdin: true, stdinOnce: true, tty: true}
        """)

    @Test func namesEachFieldOfAnUnsupportedFeature() throws {
        let pod = try Fixture.pod(Self.everything)
        #expect(PodFeatures.unsupported(pod, supported: []).map(\.description) == [
            "spec.initContainers[0].restartPolicy: Forbidden: not supported by podd yet",
            "spec.initContainers[0].startupProbe: Forbidden: not supported by podd yet",
            "spec.containers[0].livenessProbe: Forbidden: not supported by podd yet",
            "spec.containers[0].readinessProbe: Forbidden: not supported by podd yet",
            "spec.containers[0].lifecycle.postStart: Forbidden: not supported by podd yet",
            "spec.containers[0].lifecycle.preStop: Forbidden: not supported by podd yet",
            "spec.containers[0].stdin: Forbidden: not supported by podd yet",
            "spec.containers[0].tty: Forbidden: not supported by podd yet",
            "spec.ephemeralContainers: Forbidden: not supported by podd yet",
        ])
        #expect(PodFeatures.unsupported(pod, supported: .all).isEmpty)
        #expect(PodValidation.unsupported(pod, supported: [.probes, .lifecycleHooks, .nativeSidecars, .ephemeralContainers]).map(\.description) == [
            "spec.containers[0].stdin: Forbidden: not supported by podd yet",
            "spec.containers[0].tty: Forbidden: not supported by podd yet",
            "spec.ephemeralContainers[0].stdin: Forbidden: not supported by podd yet",
            "spec.ephemeralContainers[0].stdinOnce: Forbidden: not supported by podd yet",
            "spec.ephemeralContainers[0].tty: Forbidden: not supported by podd yet",
        ])
        #expect(PodFeatures.unsupported(try Fixture.pod(Fixture.minimal), supported: []).isEmpty)
    }
}
