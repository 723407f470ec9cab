import Testing

@testable import PodModel

/// Test helpers: manifests from YAML text, and the error a manifest is refused with.
enum Fixture {
    /// The one pod of a YAML manifest.
    static func pod(_ yaml: String) throws -> Pod {
        let pods = try PodManifest.pods(fromText: yaml)
        #expect(pods.count == 1)
        return pods[0]
    }

    /// The error decoding a YAML manifest throws, or nil (recording an issue) when it decodes.
    static func decodingError(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ManifestError? {
        do {
            _ = try PodManifest.pods(fromText: yaml)
            Issue.record("expected the manifest to be refused", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    /// The validation messages of a YAML manifest (decoding must succeed).
    static func validationMessages(_ yaml: String, allowEphemeralContainers: Bool = false) throws -> [String] {
        PodValidation.validate(try pod(yaml), allowEphemeralContainers: allowEphemeralContainers).map(\.description)
    }

    /// A valid pod to start from: one app container, one volume.
    static let minimal = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
        spec:
          containers:
          - name: app
            image: busybox
        """

    /// A manifest using every supported field.
    static let full = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: web
          namespace: team-a
          labels: {app: web, tier: front}
          annotations:
            podd.io/restart-scope: container
            example.com/owner: me
        spec:
          hostname: web-host
          restartPolicy: OnFailure
          terminationGracePeriodSeconds: 5
          shareProcessNamespace: true
          volumes:
          - name: data
            emptyDir: {}
          - name: scratch
            emptyDir: {medium: Memory, sizeLimit: 64Mi}
          - name: host
            hostPath: {path: /var/log, type: Directory}
          initContainers:
          - name: init
            image: busybox:1.36
            command: [sh, -c, "echo init > /data/ready"]
            volumeMounts: [{name: data, mountPath: /data}]
          - name: proxy
            image: envoy
            restartPolicy: Always
            startupProbe:
              tcpSocket: {port: 9901}
              failureThreshold: 30
              periodSeconds: 1
          containers:
          - name: app
            image: busybox
            command: [httpd, -f]
            args: [-p, "8080"]
            workingDir: /srv
            ports:
            - {name: http, containerPort: 8080}
            - {containerPort: 9000, protocol: UDP}
            env:
            - {name: MODE, value: prod}
            - name: POD_NAME
              valueFrom: {fieldRef: {fieldPath: metadata.name}}
            volumeMounts:
            - {name: data, mountPath: /data, readOnly: true}
            - {name: scratch, mountPath: /tmp}
            imagePullPolicy: IfNotPresent
            livenessProbe:
              httpGet:
                port: http
                httpHeaders: [{name: X-Probe, value: "1"}]
              initialDelaySeconds: 3
            readinessProbe:
              exec: {command: [cat, /data/ready]}
              successThreshold: 2
            lifecycle:
              postStart: {exec: {command: [touch, /tmp/started]}}
              preStop: {sleep: {seconds: 2}}
            stdin: true
            stdinOnce: true
            tty: true
          - name: grpc
            image: server
            livenessProbe:
              grpc: {port: 50051, service: health}
            lifecycle:
              preStop:
                httpGet: {path: /quit, port: 8081, scheme: HTTPS, host: 127.0.0.1}
        """
}
