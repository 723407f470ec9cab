import Testing

@testable import PodModel

/// A pod manifest whose spec is `spec` (indented as under `spec:`).
private func manifest(_ spec: String) -> String {
    "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n\(spec)"
}

@Suite struct SecurityContextDecodingTests {
    @Test func everyFieldRoundTrips() throws {
        let pod = try Fixture.pod(manifest("""
              hostPID: true
              hostIPC: true
              securityContext:
                runAsUser: 1000
                runAsGroup: 3000
                runAsNonRoot: true
                supplementalGroups: [4000, 5000]
                supplementalGroupsPolicy: Strict
                fsGroup: 2000
                fsGroupChangePolicy: OnRootMismatch
                sysctls: [{name: net.ipv4.tcp_syncookies, value: "1"}]
                seccompProfile: {type: RuntimeDefault}
                seLinuxOptions: {level: "s0:c1,c2"}
              containers:
              - name: app
                image: busybox
                securityContext:
                  capabilities: {add: [SYS_TIME], drop: [NET_RAW]}
                  privileged: false
                  runAsUser: 1001
                  readOnlyRootFilesystem: true
                  allowPrivilegeEscalation: false
                  procMount: Default
                  seccompProfile: {type: Localhost, localhostProfile: profiles/audit.json}
                  appArmorProfile: {type: Unconfined}
            """))
        let sc = try #require(pod.spec.securityContext)
        #expect(sc.runAsUser == 1000 && sc.fsGroup == 2000 && sc.supplementalGroups == [4000, 5000])
        #expect(sc.sysctls == [Sysctl(name: "net.ipv4.tcp_syncookies", value: "1")])
        #expect(pod.spec.hostPID && pod.spec.hostIPC)
        let c = try #require(pod.spec.containers.first?.securityContext)
        #expect(c.capabilities == Capabilities(add: ["SYS_TIME"], drop: ["NET_RAW"]))
        #expect(c.seccompProfile == SeccompProfile(type: .localhost, localhostProfile: "profiles/audit.json"))
        #expect(try Pod(json: pod.json) == pod)
        #expect(PodValidation.validate(pod).isEmpty)
    }

    @Test func windowsOptionsAndUnknownTypesAreRefused() {
        let error = Fixture.decodingError(manifest("""
              securityContext:
                windowsOptions: {runAsUserName: x}
                seccompProfile: {type: Strict}
              containers:
              - name: app
                image: busybox
                securityContext:
                  windowsOptions: {runAsUserName: x}
                  procMount: Masked
                  seccompProfile: {}
            """))
        #expect(error?.causes.map(\.description) == [
            #"spec.containers[0].securityContext.procMount: Unsupported value: "Masked": supported values: "Default", "Unmasked""#,
            "spec.containers[0].securityContext.seccompProfile.type: Required value: type is required when seccompProfile is set",
            "spec.containers[0].securityContext.windowsOptions: Forbidden: not supported by podd",
            #"spec.securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: "Localhost", "RuntimeDefault", "Unconfined""#,
            "spec.securityContext.windowsOptions: Forbidden: not supported by podd",
        ])
    }
}

@Suite struct SecurityContextValidationTests {
    @Test func idsAreInKubernetesRange() throws {
        #expect(try Fixture.validationMessages(manifest("""
              securityContext: {runAsUser: -1, runAsGroup: 2147483648, fsGroup: -5, supplementalGroups: [1, -2]}
              containers:
              - name: app
                image: busybox
                securityContext: {runAsUser: 2147483648, runAsGroup: -1}
            """)) == [
            "spec.securityContext.runAsUser: Invalid value: -1: must be between 0 and 2147483647, inclusive",
            "spec.securityContext.runAsGroup: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive",
            "spec.securityContext.fsGroup: Invalid value: -5: must be between 0 and 2147483647, inclusive",
            "spec.securityContext.supplementalGroups[1]: Invalid value: -2: must be between 0 and 2147483647, inclusive",
            "spec.containers[0].securityContext.runAsUser: Invalid value: 2147483648: must be between 0 and 2147483647, inclusive",
            "spec.containers[0].securityContext.runAsGroup: Invalid value: -1: must be between 0 and 2147483647, inclusive",
        ])
    }

    @Test func capabilitiesMustBeKnownAndWithoutPrefix() throws {
        let messages = try Fixture.validationMessages(manifest("""
              containers:
              - name: app
                image: busybox
                securityContext: {capabilities: {add: [net_admin, ALL, CAP_SYS_TIME], drop: [FLY]}}
            """))
        #expect(messages.count == 2)
        #expect(messages.first == #"spec.containers[0].securityContext.capabilities.add[2]: Invalid value: "CAP_SYS_TIME": capabilities are named without the "CAP_" prefix: "SYS_TIME""#)
        #expect(messages.last?.hasPrefix(#"spec.containers[0].securityContext.capabilities.drop[0]: Unsupported value: "FLY": supported values: "ALL", "CHOWN""#) == true)
    }

    @Test func noPrivilegeEscalationConflictsWithPrivilegedAndSysAdmin() throws {
        let messages = try Fixture.validationMessages(manifest("""
              containers:
              - name: app
                image: busybox
                securityContext: {allowPrivilegeEscalation: false, privileged: true, capabilities: {add: [SYS_ADMIN]}}
            """))
        #expect(messages.count == 2)
        #expect(messages[0].hasSuffix("cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))
        #expect(messages[1].hasSuffix("cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"))
        #expect(messages[0].hasPrefix("spec.containers[0].securityContext: Invalid value: "))
    }

    @Test func seccompLocalhostRules() throws {
        #expect(try Fixture.validationMessages(manifest("""
              securityContext: {seccompProfile: {type: Localhost}}
              initContainers:
              - name: init
                image: busybox
                securityContext: {seccompProfile: {type: Localhost, localhostProfile: /etc/x.json}}
              containers:
              - name: app
                image: busybox
                securityContext: {seccompProfile: {type: RuntimeDefault, localhostProfile: a.json}}
              - name: b
                image: busybox
                securityContext: {seccompProfile: {type: Localhost, localhostProfile: ../x.json}}
            """)) == [
            "spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost",
            #"spec.initContainers[0].securityContext.seccompProfile.localhostProfile: Invalid value: "/etc/x.json": must be a relative path"#,
            #"spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: {"type":"RuntimeDefault","localhostProfile":"a.json"}: can only be set when seccomp type is Localhost"#,
            #"spec.containers[1].securityContext.seccompProfile.localhostProfile: Invalid value: "../x.json": must not contain '..'"#,
        ])
    }

    @Test func sysctlsOutsideTheSafeSetAreRefused() throws {
        #expect(try Fixture.validationMessages(manifest("""
              securityContext:
                sysctls:
                - {name: net.ipv4.ip_local_port_range, value: "1024 65000"}
                - {name: net/ipv4/tcp_syncookies, value: "1"}
                - {name: kernel.msgmax, value: "65536"}
                - {name: Net.IPv4, value: "1"}
                - {name: net.ipv4.ip_local_port_range, value: "1 2"}
                - {name: "", value: "1"}
              containers: [{name: app, image: busybox}]
            """)) == [
            #"spec.securityContext.sysctls[2].name: Forbidden: forbidden sysctl: "kernel.msgmax" not allowlisted"#,
            #"spec.securityContext.sysctls[3].name: Invalid value: "Net.IPv4": must have at most 253 characters and match regex ^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[\./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$"#,
            #"spec.securityContext.sysctls[4].name: Duplicate value: "net.ipv4.ip_local_port_range""#,
            "spec.securityContext.sysctls[5].name: Required value",
        ])
        #expect(SecurityContextValidation.normalizedSysctl("net/ipv4/conf/eno2.100/rp_filter") == "net.ipv4.conf.eno2/100.rp_filter")
    }

    @Test func hostNamespacesAndUserNamespaces() throws {
        #expect(try Fixture.validationMessages(manifest("""
              hostUsers: false
              hostPID: true
              hostIPC: true
              shareProcessNamespace: true
              securityContext: {sysctls: [{name: kernel.shm_rmid_forced, value: "1"}]}
              containers: [{name: app, image: busybox}]
            """)) == [
            #"spec.securityContext.sysctls[0].name: Invalid value: "kernel.shm_rmid_forced": sysctl not allowed with host ipc enabled"#,
            "spec.shareProcessNamespace: Invalid value: true: ShareProcessNamespace and HostPID cannot both be enabled",
            "spec.hostPID: Forbidden: when `pod.Spec.HostUsers` is false",
            "spec.hostIPC: Forbidden: when `pod.Spec.HostUsers` is false",
        ])
        #expect(try Fixture.validationMessages(manifest("""
              containers:
              - {name: app, image: busybox, securityContext: {procMount: Unmasked}}
            """)) == [#"spec.containers[0].securityContext.procMount: Invalid value: "Unmasked": `hostUsers` must be false to use `Unmasked`"#])
        #expect(try Fixture.validationMessages(manifest("""
              hostUsers: false
              containers:
              - {name: app, image: busybox, securityContext: {procMount: Unmasked}}
            """)).isEmpty)
    }

    @Test func appArmorOnlyUnconfined() throws {
        #expect(try Fixture.validationMessages(manifest("""
              securityContext: {appArmorProfile: {type: Unconfined}}
              containers:
              - {name: app, image: busybox, securityContext: {appArmorProfile: {type: RuntimeDefault}}}
            """)) == [
            "spec.containers[0].securityContext.appArmorProfile.type: Forbidden: not supported by podd: podd loads no AppArmor profile; use Unconfined or leave appArmorProfile out",
        ])
    }
}

@Suite struct EffectiveSecurityContextTests {
    @Test func containerOverridesPod() {
        let pod = PodSecurityContext(runAsUser: 1000, runAsGroup: 3000, runAsNonRoot: true, supplementalGroups: [4000], fsGroup: 2000,
                                     seccompProfile: SeccompProfile(type: .runtimeDefault))
        let container = SecurityContext(runAsUser: 1001, runAsNonRoot: false, seccompProfile: SeccompProfile(type: .unconfined))
        let merged = EffectiveSecurityContext(pod: pod, container: container)
        #expect(merged.runAsUser == 1001)
        #expect(merged.runAsGroup == 3000)
        #expect(merged.runAsNonRoot == false)
        #expect(merged.supplementalGroups == [2000, 4000])
        #expect(merged.seccompProfile == SeccompProfile(type: .unconfined))
        #expect(merged.capabilities == .runtimeDefault)
        #expect(!merged.noNewPrivileges && !merged.privileged && !merged.readOnlyRootFilesystem)
        #expect(merged.procMount == .default)
    }

    @Test func nothingSetIsTheRuntimeDefault() {
        let merged = EffectiveSecurityContext(pod: nil, container: nil)
        #expect(merged.runAsUser == nil && merged.runAsGroup == nil && !merged.runAsNonRoot)
        #expect(merged.seccompProfile == nil && merged.supplementalGroups.isEmpty)
        #expect(merged.capabilities.sortedNames == ["CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
                                                    "NET_BIND_SERVICE", "NET_RAW", "SYS_CHROOT", "MKNOD", "AUDIT_WRITE", "SETFCAP"])
    }

    @Test func capabilitiesAsContainerdAppliesThem() {
        func names(add: [String] = [], drop: [String] = []) -> [String] {
            LinuxCapabilities.resolve(Capabilities(add: add, drop: drop)).sortedNames
        }
        #expect(names(add: ["NET_BIND_SERVICE"], drop: ["ALL"]) == ["NET_BIND_SERVICE"])
        #expect(names(add: ["ALL"], drop: ["net_raw"]).count == LinuxCapabilities.names.count - 1)
        #expect(names(add: ["SYS_TIME"], drop: ["SYS_TIME"]) == names())
        #expect(names(add: ["sys_time"]).contains("SYS_TIME"))
        #expect(!names(drop: ["NET_RAW"]).contains("NET_RAW"))
        let privileged = EffectiveSecurityContext(pod: nil, container: SecurityContext(capabilities: Capabilities(drop: ["ALL"]), privileged: true))
        #expect(privileged.capabilities == .all)
    }

    @Test func noNewPrivilegesOnlyWhenAsked() {
        #expect(EffectiveSecurityContext(pod: nil, container: SecurityContext(allowPrivilegeEscalation: false)).noNewPrivileges)
        #expect(!EffectiveSecurityContext(pod: nil, container: SecurityContext(runAsUser: 1000)).noNewPrivileges)
    }
}
