import Testing

@testable import PodModel

@Suite struct PodDecodingTests {
    @Test func readsEveryField() throws {
        let pod = try Fixture.pod(Fixture.full)
        #expect(pod.metadata.name == "web")
        #expect(pod.metadata.namespace == "team-a")
        #expect(pod.metadata.labels == ["app": "web", "tier": "front"])
        #expect(pod.restartScope == "container")
        #expect(pod.key == "team-a/web")

        let spec = pod.spec
        #expect(spec.hostname == "web-host")
        #expect(spec.restartPolicy == .onFailure)
        #expect(spec.terminationGracePeriodSeconds == 5)
        #expect(spec.shareProcessNamespace)
        #expect(spec.volumes.map(\.name) == ["data", "scratch", "host"])
        #expect(spec.volumes[0].source == .emptyDir(EmptyDirVolumeSource()))
        guard case .emptyDir(let scratch) = spec.volumes[1].source else {
            Issue.record("scratch is not an emptyDir")
            return
        }
        #expect(scratch.medium == .memory)
        #expect(scratch.sizeLimit?.value == Int64(64 * 1024 * 1024))
        #expect(spec.volumes[2].source == .hostPath(HostPathVolumeSource(path: "/var/log", type: .directory)))

        #expect(spec.initContainers.map(\.name) == ["init", "proxy"])
        #expect(!spec.initContainers[0].isSidecar)
        #expect(spec.initContainers[1].isSidecar)
        #expect(spec.initContainers[1].startupProbe == Probe(handler: .tcpSocket(TCPSocketAction(port: .int(9901))),
                                                              periodSeconds: 1, failureThreshold: 30))

        let app = spec.containers[0]
        #expect(app.command == ["httpd", "-f"])
        #expect(app.args == ["-p", "8080"])
        #expect(app.workingDir == "/srv")
        #expect(app.ports == [ContainerPort(name: "http", containerPort: 8080), ContainerPort(containerPort: 9000, protocol: .udp)])
        #expect(app.env == [EnvVar(name: "MODE", value: "prod"),
                            EnvVar(name: "POD_NAME", valueFrom: EnvVarSource(fieldRef: ObjectFieldSelector(fieldPath: "metadata.name")))])
        #expect(app.volumeMounts == [VolumeMount(name: "data", mountPath: "/data", readOnly: true), VolumeMount(name: "scratch", mountPath: "/tmp")])
        #expect(app.imagePullPolicy == .ifNotPresent)
        #expect(app.livenessProbe == Probe(handler: .httpGet(HTTPGetAction(port: .string("http"), httpHeaders: [HTTPHeader(name: "X-Probe", value: "1")])),
                                           initialDelaySeconds: 3))
        #expect(app.readinessProbe == Probe(handler: .exec(command: ["cat", "/data/ready"]), successThreshold: 2))
        #expect(app.lifecycle == Lifecycle(postStart: .exec(command: ["touch", "/tmp/started"]), preStop: .sleep(seconds: 2)))
        #expect(app.stdin && app.stdinOnce && app.tty)

        let grpc = spec.containers[1]
        #expect(grpc.livenessProbe?.handler == .grpc(GRPCAction(port: 50051, service: "health")))
        #expect(grpc.lifecycle?.preStop == .httpGet(HTTPGetAction(path: "/quit", port: .int(8081), host: "127.0.0.1", scheme: .https)))
        #expect(PodValidation.validate(pod).isEmpty)
    }

    @Test func appliesKubernetesDefaults() throws {
        let pod = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              containers:
              - name: app
                image: busybox
                ports: [{containerPort: 80}]
                env: [{name: NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]
                readinessProbe:
                  httpGet: {port: 80}
                  periodSeconds: 0
            """)
        #expect(pod.metadata.namespace == "default")
        #expect(pod.spec.restartPolicy == .always)
        #expect(pod.spec.terminationGracePeriodSeconds == 30)
        #expect(!pod.spec.shareProcessNamespace)
        #expect(pod.status.phase == .pending)
        let container = pod.spec.containers[0]
        #expect(container.ports[0].protocol == .tcp)
        #expect(container.env[0].valueFrom?.fieldRef?.apiVersion == "v1")
        let probe = try #require(container.readinessProbe)
        #expect(probe.initialDelaySeconds == 0)
        #expect(probe.timeoutSeconds == 1)
        #expect(probe.periodSeconds == 10)
        #expect(probe.successThreshold == 1)
        #expect(probe.failureThreshold == 3)
        #expect(probe.handler == .httpGet(HTTPGetAction(path: "/", port: .int(80), scheme: .http)))
    }

    @Test func roundTripsThroughJSON() throws {
        let pod = try Fixture.pod(Fixture.full)
        let again = try Pod(json: pod.json)
        #expect(again == pod)
        let reparsed = try PodManifest.decodePod(try JSONValue.parse(pod.json.serialized(pretty: true)))
        #expect(reparsed == pod)
    }

    @Test func writesKubernetesOrderAndOmitsUnsetFields() throws {
        let pod = try Fixture.pod(Fixture.minimal)
        #expect(pod.json.objectValue?.keys == ["kind", "apiVersion", "metadata", "spec", "status"])
        #expect(pod.json["metadata"] == ["name": "web", "namespace": "default"])
        #expect(pod.json["spec"]?.objectValue?.keys == ["containers", "restartPolicy", "terminationGracePeriodSeconds"])
        #expect(pod.json["spec"]?["containers"] == [["name": "app", "image": "busybox"]])
        #expect(pod.json["status"] == ["phase": "Pending"])
        let full = try Fixture.pod(Fixture.full).json
        #expect(full["spec"]?.objectValue?.keys == [
            "volumes", "initContainers", "containers", "restartPolicy", "terminationGracePeriodSeconds", "shareProcessNamespace", "hostname",
        ])
        #expect(full["spec"]?["containers"]?[0]?.objectValue?.keys == [
            "name", "image", "command", "args", "workingDir", "ports", "env", "volumeMounts", "livenessProbe", "readinessProbe",
            "lifecycle", "imagePullPolicy", "stdin", "stdinOnce", "tty",
        ])
        #expect(full["spec"]?["containers"]?[0]?["livenessProbe"] == [
            "httpGet": ["path": "/", "port": "http", "scheme": "HTTP", "httpHeaders": [["name": "X-Probe", "value": "1"]]],
            "initialDelaySeconds": 3, "timeoutSeconds": 1, "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3,
        ])
        #expect(full["spec"]?["volumes"]?[2] == ["name": "host", "hostPath": ["path": "/var/log", "type": "Directory"]])
        #expect(full["spec"]?["volumes"]?[0] == ["name": "data", "emptyDir": [:]])
        #expect(full["metadata"]?["labels"]?.objectValue?.keys == ["app", "tier"])
    }

    @Test func keepsServerFieldsSoGetApplyRoundTrips() throws {
        var pod = try Fixture.pod(Fixture.full)
        pod.metadata.uid = "4f1c7a52-0000-4000-8000-000000000001"
        pod.metadata.resourceVersion = "42"
        pod.metadata.generation = 1
        pod.metadata.creationTimestamp = Timestamp(seconds: 1_795_615_872)
        pod.metadata.deletionTimestamp = Timestamp(seconds: 1_795_615_900)
        pod.metadata.deletionGracePeriodSeconds = 5
        pod.status = PodStatus(
            phase: .running, conditions: [PodCondition(type: "Ready", status: "True", lastTransitionTime: Timestamp(seconds: 1_795_615_880))],
            hostIP: "127.0.0.1", startTime: Timestamp(seconds: 1_795_615_872),
            containerStatuses: [ContainerStatus(name: "app", image: "busybox", imageID: "sha256:abc",
                                                state: ContainerState(running: ContainerStateRunning(startedAt: Timestamp(seconds: 1_795_615_873))),
                                                ready: true, started: true)],
            qosClass: "BestEffort")
        // What `podctl get pod web -o json` prints, with fields podd drops (managedFields).
        var printed = pod.json
        if case .object(var object) = printed, case .object(var metadata) = object["metadata"] ?? .null {
            metadata["managedFields"] = [["manager": "kubectl", "operation": "Update"]]
            metadata["selfLink"] = "/api/v1/namespaces/team-a/pods/web"
            object["metadata"] = .object(metadata)
            printed = .object(object)
        }
        let documents = try PodManifest.documents(fromText: printed.serializedString(pretty: true))
        let applied = try PodManifest.decodePod(documents[0])
        #expect(applied.metadata == pod.metadata)
        #expect(applied.spec == pod.spec)
        // Status is ignored on create, as the API server does.
        #expect(applied.status == PodStatus())
        // A client reading the answer keeps the status.
        #expect(try Pod(json: pod.json).status == pod.status)
    }

    @Test func acceptsValuesTheAPIServerFillsIn() throws {
        // Defaults `kubectl get -o yaml` shows for a pod created on Kubernetes.
        let pod = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web, namespace: default}
            spec:
              dnsPolicy: ClusterFirst
              enableServiceLinks: true
              preemptionPolicy: PreemptLowerPriority
              priority: 0
              schedulerName: default-scheduler
              securityContext: {}
              serviceAccountName: default
              tolerations: []
              containers:
              - name: app
                image: busybox
                resources: {}
                terminationMessagePath: /dev/termination-log
                terminationMessagePolicy: File
                volumeMounts: []
            status: {phase: Running, somethingNew: 1}
            """)
        #expect(pod.spec.containers[0].name == "app")
    }

    /// The account a pod runs as: `default` unless named; the deprecated `serviceAccount`
    /// names it when `serviceAccountName` is left out; both are written, as the API server
    /// writes them, except for `default` (left out as podd leaves out the other defaults).
    @Test func serviceAccountNameAndItsDeprecatedTwin() throws {
        func spec(_ fields: String) throws -> PodSpec {
            try Fixture.pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web}\nspec:\n  containers: [{name: app, image: busybox}]\n" + fields).spec
        }
        #expect(try spec("").serviceAccountName == "default")
        #expect(try spec("  serviceAccount: builder\n").serviceAccountName == "builder")
        #expect(try spec("  serviceAccountName: builder\n  serviceAccount: other\n").serviceAccountName == "builder")
        let written = try spec("  serviceAccountName: builder\n").json
        #expect(written["serviceAccountName"] == "builder" && written["serviceAccount"] == "builder")
        #expect(try spec("  serviceAccountName: default\n").json["serviceAccountName"] == nil)
        let errors = PodValidation.validate(try Fixture.pod("apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: default}\nspec:\n  serviceAccountName: Bad_Name\n  containers: [{name: app, image: busybox}]\n"))
        #expect(errors.contains { $0.description.hasPrefix(#"spec.serviceAccountName: Invalid value: "Bad_Name""#) }, "\(errors)")
    }

    @Test func serviceAccountsRoundTripAndRefuseUnknownFields() throws {
        func account(_ yaml: String) throws -> ServiceAccount {
            let json = try #require(try JSONValue.parseYAMLDocuments("apiVersion: v1\nkind: ServiceAccount\n" + yaml).first)
            return try ServiceAccount(json: json, path: .root)
        }
        let builder = try account("metadata: {name: builder, namespace: default}\nsecrets: [{name: s}]\nimagePullSecrets: [{name: regcred}]\nautomountServiceAccountToken: false\n")
        #expect(builder.imagePullSecrets.map { $0.name } == ["regcred"] && builder.secrets.map { $0.name } == ["s"])
        #expect(try ServiceAccount(json: builder.json, path: .root) == builder)
        #expect(ServiceAccount.validate(builder, old: nil).isEmpty)
        #expect(throws: ManifestError.self) { try account("metadata: {name: b}\ntokens: []\n") }
        let errors = ServiceAccount.validate(try account("metadata: {name: Bad_Name, namespace: default}\n"), old: nil)
        #expect(errors.map(\.description).first?.hasPrefix(#"metadata.name: Invalid value: "Bad_Name""#) == true, "\(errors)")
    }

    @Test func acceptsQuantityAsNumber() throws {
        let pod = try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              volumes: [{name: v, emptyDir: {sizeLimit: 1000}}]
              containers: [{name: app, image: busybox}]
            """)
        #expect(pod.spec.volumes[0].source == .emptyDir(EmptyDirVolumeSource(sizeLimit: Quantity(1000))))
    }
}

@Suite struct StrictDecodingTests {
    @Test func collectsEveryUnknownFieldWithItsPath() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web, baz: 1}
            spec:
              bar: true
              containers:
              - {name: app, image: busybox, foo: x}
              - name: b
                image: busybox
                livenessProbe: {exec: {command: [sh], shell: sh}}
            """))
        #expect(error.kind == .decoding)
        #expect(error.code == 400)
        #expect(error.reason == "BadRequest")
        #expect(error.causes.map(\.field.description) == [
            "metadata.baz", "spec.containers[0].foo", "spec.containers[1].livenessProbe.exec.shell", "spec.bar",
        ])
        #expect(error.causes.allSatisfy { $0.type == .unknownField })
        #expect(error.message == #"strict decoding error: unknown field "metadata.baz", unknown field "spec.containers[0].foo", unknown field "spec.containers[1].livenessProbe.exec.shell", unknown field "spec.bar""#)
    }

    @Test func reportsWrongTypes() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web, labels: {app: 1}}
            spec:
              terminationGracePeriodSeconds: "30"
              containers:
              - name: app
                image: busybox
                command: [sh, -c, 1]
                stdin: "yes"
                ports: [{containerPort: 99999999999}]
              - notAContainer
            """))
        #expect(error.kind == .decoding)
        #expect(error.causes.map(\.description) == [
            "metadata.labels[app]: Invalid value: 1: must be a string",
            "spec.containers[0].command[2]: Invalid value: 1: must be a string",
            "spec.containers[0].ports[0].containerPort: Invalid value: 99999999999: must fit in a 32-bit integer",
            "spec.containers[0].stdin: Invalid value: \"yes\": must be a boolean",
            "spec.containers[1]: Invalid value: \"notAContainer\": must be an object, not a string",
            "spec.terminationGracePeriodSeconds: Invalid value: \"30\": must be an integer",
        ])
        #expect(error.causes.first?.reason == "FieldValueTypeInvalid")
        #expect(error.message.hasPrefix(#"Pod in version "v1" cannot be handled as a Pod: metadata.labels[app]: Invalid value: 1: must be a string, "#))
    }

    @Test func refusesBadQuantitiesAndTimes() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web, creationTimestamp: yesterday}
            spec:
              volumes: [{name: v, emptyDir: {sizeLimit: lots}}]
              containers: [{name: app, image: busybox}]
            """))
        #expect(error.causes.map(\.description) == [
            #"metadata.creationTimestamp: Invalid value: "yesterday": must be an RFC 3339 time such as "2006-01-02T15:04:05Z""#,
            #"spec.volumes[0].emptyDir.sizeLimit: Invalid value: "lots": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"#,
        ])
    }

    @Test func malformedInputWinsOverUnsupportedFields() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              containers: [{name: app, image: busybox, resources: {limits: {cpu: 1}}, foo: 1}]
            """))
        #expect(error.kind == .decoding)
        #expect(error.causes.map(\.description) == [#"unknown field "spec.containers[0].foo""#])
    }
}

@Suite struct UnsupportedFieldTests {
    @Test func refusesKubernetesFieldsPoddLacksWithTheirPaths() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web, generateName: web-, ownerReferences: [{apiVersion: v1, kind: Pod, name: x, uid: "1"}]}
            spec:
              nodeName: node-1
              hostNetwork: true
              dnsPolicy: Default
              volumes:
              - {name: cfg, configMap: {name: cfg}}
              - {name: empty, secret: {}}
              containers:
              - name: app
                image: busybox
                resources: {limits: {memory: 64Mi}}
                envFrom: [{configMapRef: {name: x}}]
                env: [{name: A, valueFrom: {secretKeyRef: {name: s, key: k}}}]
                volumeMounts: [{name: cfg, mountPath: /cfg, subPath: a}]
                terminationMessagePath: /tmp/msg
                lifecycle: {preStop: {tcpSocket: {port: 80}}}
              - name: web
                image: busybox
                ports: [{containerPort: 80, hostPort: 8080, hostIP: 0.0.0.0}]
                livenessProbe: {exec: {command: [sh]}, terminationGracePeriodSeconds: 5}
            """))
        #expect(error.kind == .invalid)
        #expect(error.code == 422)
        #expect(error.causes.map(\.description) == [
            "metadata.ownerReferences: Forbidden: not supported by podd",
            "spec.containers[0].lifecycle.preStop.tcpSocket: Forbidden: not supported by podd",
        ])
        #expect(error.causes.allSatisfy { $0.reason == "FieldValueForbidden" })
        #expect(error.message.hasPrefix(#"Pod "web" is invalid: [metadata.ownerReferences: Forbidden: not supported by podd, "#))
    }

    @Test func reportsValuesOutsideEnumerationsAsKubernetesDoes() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              restartPolicy: Sometimes
              volumes:
              - {name: a, hostPath: {path: /x, type: Folder}}
              - {name: b, emptyDir: {medium: HugePages}}
              initContainers:
              - {name: init, image: busybox, restartPolicy: Never}
              containers:
              - name: app
                image: busybox
                imagePullPolicy: Sometimes
                ports: [{containerPort: 80, protocol: ICMP}]
                readinessProbe: {httpGet: {port: 80, scheme: FTP}}
            """))
        #expect(error.kind == .invalid)
        #expect(error.causes.map(\.description) == [
            #"spec.volumes[0].hostPath.type: Unsupported value: "Folder": supported values: "", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate", "Socket""#,
            #"spec.volumes[1].emptyDir.medium: Unsupported value: "HugePages": supported values: "", "Memory""#,
            #"spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always""#,
            #"spec.containers[0].ports[0].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP""#,
            #"spec.containers[0].imagePullPolicy: Unsupported value: "Sometimes": supported values: "Always", "IfNotPresent", "Never""#,
            #"spec.containers[0].readinessProbe.httpGet.scheme: Unsupported value: "FTP": supported values: "HTTP", "HTTPS""#,
            #"spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never""#,
        ])
        #expect(error.causes.first?.reason == "FieldValueNotSupported")
    }

    @Test func requiresExactlyOneHandlerAndVolumeSource() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              volumes:
              - {name: none}
              - {name: two, hostPath: {path: /x}, emptyDir: {}}
              containers:
              - name: app
                image: busybox
                livenessProbe: {periodSeconds: 5}
                readinessProbe: {exec: {command: [sh]}, tcpSocket: {port: 80}}
                lifecycle: {postStart: {}, preStop: {exec: {command: [sh]}, sleep: {seconds: 1}}}
            """))
        #expect(error.causes.map(\.description) == [
            "spec.volumes[0]: Required value: must specify a volume type",
            "spec.volumes[1].emptyDir: Forbidden: may not specify more than 1 volume type",
            "spec.containers[0].livenessProbe: Required value: must specify a handler type",
            "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type",
            "spec.containers[0].lifecycle.postStart: Required value: must specify a handler type",
            "spec.containers[0].lifecycle.preStop.sleep: Forbidden: may not specify more than 1 handler type",
        ])
    }
}

@Suite struct ManifestTests {
    @Test func checksKindAndAPIVersion() throws {
        let wrongKind = try #require(Fixture.decodingError("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\n"))
        #expect(wrongKind.kind == .decoding)
        #expect(wrongKind.message == "the kind in the data (Deployment) does not match the expected kind (Pod)")
        let wrongVersion = try #require(Fixture.decodingError("apiVersion: v2\nkind: Pod\nmetadata: {name: x}\n"))
        #expect(wrongVersion.message == "the API version in the data (v2) does not match the expected API version (v1)")
        let noKind = try #require(Fixture.decodingError("apiVersion: v1\nmetadata: {name: x}\n"))
        #expect(noKind.message == "Object 'Kind' is missing in the Pod manifest")
        let noVersion = try #require(Fixture.decodingError("kind: Pod\nmetadata: {name: x}\n"))
        #expect(noVersion.message == "Object 'apiVersion' is missing in the Pod manifest")
        #expect(throws: ManifestError.self) { try PodManifest.decodePod(["a", "b"]) }
    }

    @Test func missingNamespaceTakesTheDefaultGiven() throws {
        let json = try JSONValue.parseYAMLDocuments(Fixture.minimal)[0]
        #expect(try PodManifest.decodePod(json).metadata.namespace == "default")
        #expect(try PodManifest.decodePod(json, defaultNamespace: "team-a").metadata.namespace == "team-a")
        let explicit = try JSONValue.parseYAMLDocuments(Fixture.minimal.replacingOccurrences(of: "name: web", with: "name: web\n  namespace: prod"))[0]
        #expect(try PodManifest.decodePod(explicit, defaultNamespace: "team-a").metadata.namespace == "prod")
    }

    @Test func namesThePodInInvalidErrors() throws {
        let error = try #require(Fixture.decodingError("""
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec: {runtimeClassName: x, containers: [{name: app, image: busybox}]}
            """))
        #expect(error.message == "Pod \"web\" is invalid: spec.runtimeClassName: Forbidden: not supported by podd")
    }

    @Test func splitsMultiDocumentYAMLAndExpandsLists() throws {
        let documents = try PodManifest.documents(fromText: """
            apiVersion: v1
            kind: Pod
            metadata: {name: a}
            ---
            # a comment-only document is skipped
            ---
            apiVersion: v1
            kind: List
            items:
            - {apiVersion: v1, kind: Pod, metadata: {name: b}}
            - apiVersion: v1
              kind: PodList
              items:
              - metadata: {name: c}
            ---
            apiVersion: v1
            kind: PodList
            items:
            - metadata: {name: d}
            """)
        #expect(documents.compactMap { $0["metadata"]?["name"]?.stringValue } == ["a", "b", "c", "d"])
        #expect(documents[2]["kind"] == "Pod")
        #expect(documents[2]["apiVersion"] == "v1")
        #expect(documents[3]["kind"] == "Pod")
    }

    @Test func readsJSONStreamsAndJSONLists() throws {
        let documents = try PodManifest.documents(fromText: """
            {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a"}}
            {"apiVersion": "v1", "kind": "List", "items": [{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b"}}]}
            """)
        #expect(documents.compactMap { $0["metadata"]?["name"]?.stringValue } == ["a", "b"])
    }

    @Test func wrapsParseErrors() throws {
        do {
            _ = try PodManifest.documents(fromText: "a: [1, 2\nb: 3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .decoding)
            #expect(error.message.hasPrefix("error parsing YAML: line "))
        }
        do {
            _ = try PodManifest.documents(fromText: "{\"a\": }")
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "error parsing JSON: line 1, column 7: invalid character '}' looking for beginning of value")
        }
    }

    @Test func listWithoutItemsArrayIsRefused() {
        #expect(throws: ManifestError.self) { try PodManifest.documents(fromText: "kind: List\nitems: {a: 1}\n") }
    }

    @Test func decodeValidPodCombinesBothSteps() throws {
        #expect(try PodManifest.decodeValidPod(try JSONValue.parseYAMLDocuments(Fixture.minimal)[0]).metadata.name == "web")
        do {
            _ = try PodManifest.decodeValidPod(["apiVersion": "v1", "kind": "Pod", "metadata": ["name": "Web"], "spec": ["containers": []]])
            Issue.record("expected an error")
        } catch {
            #expect(error.kind == .invalid)
            #expect(error.objectName == "Web")
            #expect(error.causes.map(\.field.description) == ["metadata.name", "spec.containers"])
        }
    }
}

@Suite struct EphemeralContainerTests {
    @Test func exposesContainerFieldsAndWritesTarget() throws {
        let ephemeral = try EphemeralContainer(json: [
            "name": "debugger-abcde", "image": "busybox", "command": ["sh"], "stdin": true, "tty": true, "targetContainerName": "app",
        ], path: FieldPath("spec.ephemeralContainers").index(0))
        #expect(ephemeral.name == "debugger-abcde")
        #expect(ephemeral.image == "busybox")
        #expect(ephemeral.stdin && ephemeral.tty)
        #expect(ephemeral.targetContainerName == "app")
        #expect(ephemeral.json.objectValue?.keys == ["name", "image", "command", "stdin", "tty", "targetContainerName"])
        var changed = ephemeral
        changed.image = "alpine"
        #expect(changed.common.image == "alpine")
    }

    @Test func unknownFieldPathsIncludeTheList() {
        do {
            _ = try EphemeralContainer(json: ["name": "d", "image": "busybox", "resourcez": [:]], path: FieldPath("spec.ephemeralContainers").index(2))
            Issue.record("expected an error")
        } catch {
            #expect(error.causes.map(\.description) == [#"unknown field "spec.ephemeralContainers[2].resourcez""#])
        }
    }
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// The names kubelet gives a pod's UTS namespace.
struct PodHostnameTests {
    func pod(_ spec: String, name: String = "web") throws -> Pod {
        try Fixture.pod("""
            apiVersion: v1
            kind: Pod
            metadata: {name: \(name), namespace: shop}
            spec:
              containers: [{name: a, image: busybox}]
            \(spec)
            """)
    }

    @Test func theKernelsNameIsTheFQDNOnlyWhenAskedWithADomain() throws {
        let fqdn = PodHostname(try pod("  hostname: web-0\n  subdomain: web\n  setHostnameAsFQDN: true"))
        #expect(fqdn.hostname == "web-0" && fqdn.domain == "web.shop.svc.cluster.local")
        #expect(try fqdn.kernelName.get() == "web-0.web.shop.svc.cluster.local")
        #expect(try PodHostname(try pod("  subdomain: web")).kernelName.get() == "web")
        #expect(try PodHostname(try pod("  setHostnameAsFQDN: true")).kernelName.get() == "web")
    }

    @Test func longNamesAreCutAndLongFQDNsRefused() throws {
        // A name of 70 characters whose 63rd is a dash: cut to 62.
        let name = String(repeating: "a", count: 62) + "-" + String(repeating: "b", count: 7)
        #expect(PodHostname(try pod("", name: name)).hostname == String(repeating: "a", count: 62))
        let long = PodHostname(try pod("  hostname: \(String(repeating: "h", count: 40))\n  subdomain: s\n  setHostnameAsFQDN: true"))
        guard case let .failure(tooLong) = long.kernelName else { Issue.record("accepted"); return }
        #expect("\(tooLong)".hasSuffix("is too long (64 characters is the max, 65 characters requested)"))
    }
}
