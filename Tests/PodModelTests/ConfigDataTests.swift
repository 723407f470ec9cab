import Testing

@testable import PodModel

/// ConfigMaps and Secrets: decoding, the API server's validation and messages, base64 as Go
/// reads it, and the pod fields that use them.
@Suite struct ConfigDataTests {
    static let keyMessage = #"a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"#

    func configMap(_ yaml: String) throws -> ConfigMap {
        let json = try #require(try JSONValue.parseYAMLDocuments("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n" + yaml).first)
        return try ObjectManifest.decode(json, as: ConfigMap.self)
    }

    func messages<T: ConfigDataObject>(_ object: T, old: T? = nil) -> [String] {
        T.validate(object, old: old).map(\.description)
    }

    @Test func keyNames() {
        #expect(ConfigDataValidation.keyErrors("app.conf").isEmpty)
        #expect(ConfigDataValidation.keyErrors("KEY_name-1").isEmpty)
        #expect(ConfigDataValidation.keyErrors("a b") == [Self.keyMessage])
        #expect(ConfigDataValidation.keyErrors(".") == ["must not be '.'"])
        #expect(ConfigDataValidation.keyErrors("..") == ["must not be '..'"])
        #expect(ConfigDataValidation.keyErrors("..data") == ["must not start with '..'"])
        #expect(ConfigDataValidation.keyErrors(String(repeating: "k", count: 254)) == ["must be no more than 253 characters"])
        #expect(ConfigDataValidation.keyErrors(String(repeating: "k", count: 253)).isEmpty)
    }

    @Test func configMapValidation() throws {
        let map = try configMap("data: {'a b': one, ok: two}\nbinaryData: {ok: AA==}")
        #expect(messages(map) == [
            #"data[a b]: Invalid value: "a b": "# + Self.keyMessage,
            #"data[ok]: Invalid value: "ok": duplicate of key present in binaryData"#,
        ])
        let big = ConfigMap(metadata: ObjectMeta(name: "big"), data: ["a": String(repeating: "x", count: 1024 * 1024)],
                            binaryData: ["b": [1]])
        #expect(messages(big) == ["[]: Too long: must have at most 1048576 bytes"])
        #expect(messages(ConfigMap(metadata: ObjectMeta(name: "max"), data: ["a": String(repeating: "x", count: 1024 * 1024)])).isEmpty)
    }

    @Test func immutableConfigMap() {
        let old = ConfigMap(metadata: ObjectMeta(name: "x"), data: ["a": "1"], immutable: true)
        var changed = old
        changed.data["a"] = "2"
        changed.immutable = nil
        #expect(messages(changed, old: old) == [
            "immutable: Forbidden: field is immutable when `immutable` is set",
            "data: Forbidden: field is immutable when `immutable` is set",
        ])
        var relabelled = old
        relabelled.metadata.labels = ["x": "y"]
        #expect(messages(relabelled, old: old).isEmpty)
        // A mutable one may become immutable.
        var mutable = old
        mutable.immutable = nil
        #expect(messages(old, old: mutable).isEmpty)
    }

    @Test func secretDecodingMergesStringData() throws {
        let json = try #require(try JSONValue.parseYAMLDocuments("""
            apiVersion: v1
            kind: Secret
            metadata: {name: s}
            data: {a: YWJj, b: eHl6}
            stringData: {b: plain}
            """).first)
        let secret = try ObjectManifest.decode(json, as: Secret.self)
        #expect(secret.type == "Opaque")
        #expect(secret.data == ["a": Array("abc".utf8), "b": Array("plain".utf8)])
        #expect(secret.json["stringData"] == nil)
        #expect(secret.json["data"]?["b"]?.stringValue == "cGxhaW4=")
    }

    @Test func badBase64IsGoMessage() throws {
        let json = try #require(try JSONValue.parseYAMLDocuments("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {a: 'ab!d'}").first)
        #expect(throws: ManifestError.self) { try ObjectManifest.decode(json, as: Secret.self) }
        do {
            _ = try ObjectManifest.decode(json, as: Secret.self)
        } catch {
            #expect(error.code == 400)
            #expect(error.message == #"Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 2"#)
        }
    }

    @Test func secretTypes() {
        func errors(_ type: String, _ data: [String: String], annotations: [String: String] = [:]) -> [String] {
            let secret = Secret(metadata: ObjectMeta(name: "s", annotations: annotations), data: data.mapValues { Array($0.utf8) }, type: type)
            return messages(secret)
        }
        #expect(errors("kubernetes.io/tls", [:]) == ["data[tls.crt]: Required value", "data[tls.key]: Required value"])
        #expect(errors("kubernetes.io/tls", ["tls.crt": "c", "tls.key": "k"]).isEmpty)
        #expect(errors("kubernetes.io/dockerconfigjson", [".dockerconfigjson": "[1]"]).count == 1)
        #expect(errors("kubernetes.io/dockerconfigjson", [".dockerconfigjson": #"{"auths":{}}"#]).isEmpty)
        #expect(errors("kubernetes.io/ssh-auth", [:]) == ["data[ssh-privatekey]: Required value"])
        #expect(errors("kubernetes.io/service-account-token", [:]) == ["metadata.annotations[kubernetes.io/service-account.name]: Required value"])
        #expect(errors("example.com/custom", ["x": "y"]).isEmpty)
        var old = Secret(metadata: ObjectMeta(name: "s"), data: [:], type: "Opaque")
        old.immutable = true
        var new = old
        new.type = "example.com/other"
        #expect(messages(new, old: old) == [#"type: Invalid value: "example.com/other": field is immutable"#])
    }

    @Test(arguments: [
        ("", [UInt8]()), ("YQ==", Array("a".utf8)), ("YWI=", Array("ab".utf8)), ("YWJj", Array("abc".utf8)),
        ("YW\nJj", Array("abc".utf8)), ("/+8=", [0xff, 0xef]),
    ])
    func base64RoundTrip(text: String, bytes: [UInt8]) throws {
        #expect(try Base64.decode(text) == bytes)
        if !text.contains("\n") { #expect(Base64.encode(bytes) == text) }
    }

    @Test(arguments: [("YQ", 0), ("YWJjZ", 4), ("YW=j", 2), ("Y===", 1), ("YWJj=", 4), ("YQ==YQ==", 4), ("ab c", 2)])
    func base64Errors(text: String, offset: Int) {
        #expect(throws: Base64.DecodingError(offset: offset)) { try Base64.decode(text) }
    }

    @Test func variableExpansion() {
        let env = ["A": "1", "B": "two"]
        func expand(_ s: String) -> String { VariableExpansion.expand(s) { env[$0] } }
        #expect(expand("$(A)-$(B)") == "1-two")
        #expect(expand("$(C)") == "$(C)")
        #expect(expand("$$(A)") == "$(A)")
        #expect(expand("$$") == "$")
        #expect(expand("a$") == "a$")
        #expect(expand("$(A") == "$(A")
        #expect(expand("$x$(A)") == "$x1")
        #expect(expand("héllo $(B)") == "héllo two")
    }

    @Test func podFieldsDecodeAndValidate() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              volumes:
              - {name: c, configMap: {name: conf, items: [{key: a, path: x/a, mode: 0400}], optional: true}}
              - {name: s, secret: {secretName: sec}}
              - name: p
                projected:
                  sources:
                  - configMap: {name: conf}
                  - secret: {name: sec}
                  - downwardAPI: {items: [{path: l, fieldRef: {fieldPath: metadata.labels}}]}
              - {name: d, downwardAPI: {items: [{path: cpu, resourceFieldRef: {containerName: app, resource: limits.cpu, divisor: 1m}}]}}
              containers:
              - name: app
                image: busybox
                envFrom: [{prefix: P_, configMapRef: {name: conf}}, {secretRef: {name: sec, optional: true}}]
                env:
                - {name: A, valueFrom: {configMapKeyRef: {name: conf, key: a}}}
                - {name: B, valueFrom: {secretKeyRef: {name: sec, key: b, optional: true}}}
                - {name: C, valueFrom: {fieldRef: {fieldPath: "metadata.labels['app']"}}}
                - {name: D, valueFrom: {resourceFieldRef: {resource: requests.memory, divisor: 1Mi}}}
                volumeMounts:
                - {name: c, mountPath: /c, subPath: x}
                - {name: s, mountPath: /s, subPathExpr: $(A)}
            """
        let pod = try #require(try PodManifest.pods(fromText: text).first)
        #expect(PodValidation.validate(pod).isEmpty)
        #expect(pod.spec.volumes[1].json["secret"]?["defaultMode"] == .int(420))
        let again = try Pod(json: pod.json)
        #expect(again == pod)
        guard case let .projected(projected) = pod.spec.volumes[2].source else { Issue.record("not projected"); return }
        #expect(projected.sources.count == 3)
        #expect(pod.spec.containers[0].envFrom.count == 2)
    }

    @Test func podFieldErrors() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              volumes:
              - {name: c, configMap: {name: conf, items: [{key: 'a b', path: /abs}], defaultMode: 01000}}
              containers:
              - name: app
                image: busybox
                env:
                - {name: A, valueFrom: {configMapKeyRef: {name: conf, key: a}, fieldRef: {fieldPath: metadata.name}}}
                - {name: B, valueFrom: {resourceFieldRef: {resource: limits.gpu}}}
                - {name: C, valueFrom: {resourceFieldRef: {resource: limits.cpu, divisor: 2}}}
                volumeMounts: [{name: c, mountPath: /c, subPath: a, subPathExpr: b}]
            """
        let pod = try #require(try PodManifest.pods(fromText: text).first)
        let messages = PodValidation.validate(pod).map(\.description)
        #expect(messages.contains("spec.volumes[0].configMap.items[0].path: Invalid value: \"/abs\": must be a relative path"))
        #expect(messages.contains("spec.volumes[0].configMap.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive"))
        #expect(messages.contains("spec.containers[0].env[0].valueFrom: Invalid value: \"\": may not have more than one field specified at a time"))
        #expect(messages.contains { $0.hasPrefix("spec.containers[0].env[1].valueFrom.resourceFieldRef.resource: Unsupported value: \"limits.gpu\"") })
        #expect(messages.contains("spec.containers[0].env[2].valueFrom.resourceFieldRef.divisor: Invalid value: \"2\": only divisor's values 1m and 1 are supported with the cpu resource"))
        #expect(messages.contains("spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: \"b\": subPathExpr and subPath are mutually exclusive"))
    }

    @Test func serviceAccountTokenProjectionIsRefused() throws {
        let text = """
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              volumes: [{name: t, projected: {sources: [{serviceAccountToken: {path: token}}]}}]
              containers: [{name: app, image: busybox}]
            """
        #expect(throws: ManifestError.self) { try PodManifest.pods(fromText: text) }
    }

    @Test func configErrorRetriesAtOnceAndIsNoRestart() {
        let t0 = Timestamp(seconds: 1_000_000)
        var machine = PodLifecycle(podName: "p", podRef: "p", containers: [.init(name: "app", role: .app)], policy: .always,
                                   scope: .pod, gracePeriod: 30, backoff: .init(initial: 10, max: 300, resetAfter: 600), now: t0)
        var actions = machine.handle(.admit, at: t0)
        #expect(actions.contains(.start("app")))
        actions = machine.handle(.startFailed("app", reason: "CreateContainerConfigError", message: #"configmap "x" not found"#, terminated: false), at: t0)
        #expect(machine.container("app")?.waitingReason == "CreateContainerConfigError")
        #expect(!actions.contains(.start("app")))
        // The ConfigMap appears: the container starts now, not after its backoff.
        actions = machine.handle(.configDataChanged, at: t0.adding(seconds: 1))
        #expect(actions.contains(.start("app")))
        #expect(machine.container("app")?.restartCount == 0)
    }

    /// kubelet counts a restart only when a container is made again after one ended: starts
    /// refused before any container existed (an image missing or not pulled, a config or
    /// security profile error) leave restartCount as it was, however often they are retried.
    @Test(arguments: [("ErrImageNeverPull", false), ("InvalidImageName", false), ("CreateContainerError", false),
                      ("CreateContainerConfigError", false), ("ErrImagePull", true)])
    func startsThatNeverMadeAContainerAreNoRestarts(reason: String, pull: Bool) {
        let t0 = Timestamp(seconds: 1_000_000)
        var machine = PodLifecycle(podName: "p", podRef: "p", containers: [.init(name: "app", role: .app)], policy: .always,
                                   scope: .container, gracePeriod: 30, backoff: .init(initial: 1, max: 4, resetAfter: 600), now: t0)
        var now = t0
        var actions = machine.handle(.admit, at: now)
        for _ in 0..<5 {
            #expect(actions.contains(.start("app")))
            actions = pull ? machine.handle(.imagePullFailed("app", image: "nope", message: "not found"), at: now)
                : machine.handle(.startFailed("app", reason: reason, message: "refused", terminated: false), at: now)
            #expect(machine.container("app")?.restartCount == 0)
            now = now.adding(seconds: 5)
            actions = machine.handle(.tick, at: now)
        }
        // The first run counts nothing; one that ends and is made again counts one.
        actions = machine.handle(.started("app", containerID: "c1"), at: now)
        #expect(machine.container("app")?.restartCount == 0)
        actions = machine.handle(.exited("app", exitCode: 1, signal: 0, startedAt: now, finishedAt: now, oomKilled: false), at: now)
        now = now.adding(seconds: 5)
        actions = machine.handle(.tick, at: now)
        #expect(actions.contains(.start("app")))
        #expect(machine.container("app")?.restartCount == 1)
        // A refusal after a run: the restart is not counted until a container is made.
        actions = pull ? machine.handle(.imagePullFailed("app", image: "nope", message: "not found"), at: now)
            : machine.handle(.startFailed("app", reason: reason, message: "refused", terminated: false), at: now)
        #expect(machine.container("app")?.restartCount == 0)
    }
}
