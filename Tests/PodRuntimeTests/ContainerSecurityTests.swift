import Glibc
import PodModel
import PodOS
import Testing
@testable import PodRuntime

/// How a container's securityContext becomes the monitor's keys: the image's users and
/// groups as containerd reads them, kubelet's runAsNonRoot check, and Localhost profiles.
struct ContainerSecurityTests {
    func rootfs() throws -> String {
        var template = Array("/tmp/secctx-rootfs-XXXXXX".utf8CString)
        let made: String? = template.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress, let dir = mkdtemp(base) else { return nil }
            return String(cString: dir)
        }
        guard let made else { throw OSError("mkdtemp", code: errno) }
        try FileSystem.makeDirectories(made + "/etc")
        try FileSystem.write(made + "/etc/passwd", Array("root:x:0:0::/root:/bin/sh\napp:x:1000:1500::/home/app:/bin/sh\n".utf8))
        try FileSystem.write(made + "/etc/group", Array("root:x:0:\napp:x:1500:\ndevs:x:2500:other,app\nnone:x:2600:\n".utf8))
        return made
    }

    func pod(_ sc: PodSecurityContext? = nil, container: SecurityContext? = nil) -> Pod {
        var pod = Pod(metadata: ObjectMeta(name: "web", namespace: "default"),
                      spec: PodSpec(containers: [Container(name: "c", image: "busybox", securityContext: container)], securityContext: sc))
        pod.metadata.uid = "u-1"
        return pod
    }

    func fields(_ pod: Pod, root: String, settings: PoddConfig.SecuritySettings = .init()) throws -> [String: String] {
        let c = ContainerDefinition(pod.spec.containers[0])
        var out: [String: String] = [:]
        for (k, v) in try ContainerSecurity(pod: pod, settings: settings, stateDir: root).fields(for: c, lowerDirectories: [root], imageUser: "") {
            out[k] = v
        }
        return out
    }

    @Test func userGroupsFromTheImageAsContainerdReadsThem() throws {
        let root = try rootfs()
        defer { try? FileSystem.removeTree(root) }
        func user(_ runAsUser: Int64?, _ runAsGroup: Int64?, _ imageUser: String) throws -> ContainerUser {
            try ContainerUser.resolve(lowerDirectories: [root], runAsUser: runAsUser, runAsGroup: runAsGroup, imageUser: imageUser)
        }
        #expect(try user(1000, nil, "") == ContainerUser(uid: 1000, gid: 1500, groups: [2500]))
        #expect(try user(1000, 7, "") == ContainerUser(uid: 1000, gid: 7, groups: [2500]))
        #expect(try user(4242, nil, "") == ContainerUser(uid: 4242, gid: 0, groups: []))
        #expect(try user(nil, nil, "app") == ContainerUser(uid: 1000, gid: 1500, groups: [2500]))
        #expect(try user(nil, nil, "") == ContainerUser(uid: 0, gid: 0, groups: []))
        // A user the image's passwd does not know: kubelet's CreateContainerError.
        #expect(throws: ImageUser.Failure.self) { try user(nil, nil, "nobody-here") }
        let keys = try fields(pod(PodSecurityContext(runAsUser: 1000, supplementalGroups: [4000], fsGroup: 2000)), root: root)
        #expect(keys["user"] == "1000" && keys["group"] == "1500" && keys["groups"] == "2500,2000,4000")
        #expect(keys["seccomp"] == "runtime-default" && keys["caps"] == String(LinuxCapabilities.runtimeDefault.mask))
    }

    @Test func runAsNonRootAsKubeletChecksIt() throws {
        let root = try rootfs()
        defer { try? FileSystem.removeTree(root) }
        #expect(throws: ContainerSecurity.Failure.self) { try fields(pod(PodSecurityContext(runAsNonRoot: true)), root: root) }
        #expect(throws: ContainerSecurity.Failure.self) { try fields(pod(PodSecurityContext(runAsUser: 0, runAsNonRoot: true)), root: root) }
        #expect(try fields(pod(PodSecurityContext(runAsUser: 5, runAsNonRoot: true)), root: root)["user"] == "5")
        let security = ContainerSecurity(pod: pod(), settings: .init(), stateDir: root)
        let effective = EffectiveSecurityContext(pod: PodSecurityContext(runAsNonRoot: true), container: nil)
        do {
            try security.verifyRunAsNonRoot(effective, container: "c", imageUser: "app")
            Issue.record("a non-numeric image user passed")
        } catch {
            guard case let .config(message) = error else { Issue.record("\(error)"); return }
            #expect(message == #"container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root (pod: "web_default(u-1)", container: c)"#)
        }
        #expect(throws: Never.self) { try security.verifyRunAsNonRoot(effective, container: "c", imageUser: "1000:1000") }
    }

    @Test func privilegedAndSeccompDefaults() throws {
        let root = try rootfs()
        defer { try? FileSystem.removeTree(root) }
        let privileged = try fields(pod(container: SecurityContext(privileged: true)), root: root)
        #expect(privileged["privileged"] == "1" && privileged["caps"] == nil && privileged["seccomp"] == "unconfined")
        var off = PoddConfig.SecuritySettings()
        off.seccompDefault = false
        #expect(try fields(pod(), root: root, settings: off)["seccomp"] == "unconfined")
        let strict = try fields(pod(PodSecurityContext(runAsUser: 1000, supplementalGroupsPolicy: .strict)), root: root)
        #expect(strict["groups"] == "")
    }

    @Test func localhostProfilesInTheOCIAndDockerFormats() throws {
        let json = try JSONValue.parse("""
            {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38,
             "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
             "syscalls": [
               {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW"},
               {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
               {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}],
                "excludes": {"caps": ["CAP_SYS_ADMIN"]}},
               {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}}
             ]}
            """)
        let out = try SeccompProfileFile.fields(json, path: "p.json", caps: .runtimeDefault)
        #expect(out.map { "\($0.0)=\($0.1)" } == [
            "seccomp=profile", "seccomp.default=errno:38", "seccomp.arch=x86_64", "seccomp.arch=x86", "seccomp.arch=x32",
            "seccomp.rule=allow read", "seccomp.rule=allow write", "seccomp.rule=allow personality 0:eq:8",
            "seccomp.rule=allow clone 0:masked_eq:2114060288:0",
        ])
        #expect(throws: SeccompProfileFile.Failure.self) {
            try SeccompProfileFile.fields(try JSONValue.parse(#"{"defaultAction": "SCMP_ACT_NOTIFY"}"#), path: "p.json", caps: .all)
        }
        #expect(throws: SeccompProfileFile.Failure.self) { try SeccompProfileFile.fields(path: "/nonexistent/p.json", caps: .all) }
    }
}
