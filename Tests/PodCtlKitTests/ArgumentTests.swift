import ArgumentParser
import PodModel
import Testing

@testable import PodCtlKit

/// The arguments as `Podctl.main` hands them to a parser.
private func normalized(_ arguments: [String]) -> [String] {
    Podctl.moveLeadingGlobalOptions(Podctl.normalizeBooleanFlags(arguments))
}

/// The command ArgumentParser reads from `arguments`, as `Podctl.main` would.
private func parsed(_ arguments: [String]) throws -> ParsableCommand {
    try Podctl.parseAsRoot(normalized(arguments))
}

/// Every verb DESIGN.md lists that podctl has, with kubectl's spelling of its flags.
@Suite struct VerbParsingTests {
    @Test func apply() throws {
        let command = try #require(try parsed(["apply", "-f", "a.yaml", "--filename", "dir", "-f", "-", "-n", "ns", "--socket", "/s"]) as? Podctl.Apply)
        #expect(command.filenames == ["a.yaml", "dir", "-"])
        #expect(command.namespaceOptions.namespace == "ns")
        #expect(command.connection.socket == "/s")
        #expect(try parsed(["apply", "--filename=x.yaml"]) is Podctl.Apply)
    }

    @Test func get() throws {
        let command = try #require(try parsed(["get", "pods", "web", "-o", "wide", "-w", "--no-headers", "-A"]) as? Podctl.Get)
        #expect(command.arguments == ["pods", "web"])
        #expect(command.output == .wide)
        #expect(command.watch && command.noHeaders && command.allNamespaces)
        let json = try #require(try parsed(["get", "pod/web", "--output=json", "--watch=false"]) as? Podctl.Get)
        #expect(json.output == .json && !json.watch)
        for format in ["yaml", "name"] {
            #expect((try parsed(["get", "po", "-o", format]) as? Podctl.Get)?.output?.rawValue == format)
        }
        #expect(throws: (any Error).self) { try parsed(["get", "pods", "-o", "table"]) }
    }

    @Test func describe() throws {
        let command = try #require(try parsed(["describe", "pod", "web", "-n", "team"]) as? Podctl.Describe)
        #expect(command.arguments == ["pod", "web"])
        #expect(command.namespaceOptions.namespace == "team")
    }

    @Test func logs() throws {
        let command = try #require(try parsed([
            "logs", "web", "-c", "app", "-f", "-p", "--tail", "10", "--timestamps", "--since", "5m",
        ]) as? Podctl.Logs)
        #expect(command.pod == "web" && command.container == "app")
        #expect(command.follow && command.previous && command.timestamps)
        #expect(command.tail == 10 && command.since == "5m")
        let long = try #require(try parsed(["logs", "pod/web", "--container=app", "--follow=true", "--previous=false"]) as? Podctl.Logs)
        #expect(long.container == "app" && long.follow && !long.previous && long.tail == -1)
    }

    @Test func exec() throws {
        let command = try #require(try parsed(["exec", "web", "-c", "app", "-it", "--", "sh", "-c", "echo hi"]) as? Podctl.Exec)
        #expect(command.request == ExecRequest(pod: "web", container: "app", namespace: "default", socket: nil,
                                               stdin: true, tty: true, command: ["sh", "-c", "echo hi"]))
        #expect(throws: (any Error).self) { try parsed(["exec", "web"]) }
    }

    @Test func attach() throws {
        let command = try #require(try parsed(["attach", "web", "-c", "app", "-i", "-t"]) as? Podctl.Attach)
        #expect(command.pod == "web" && command.container == "app" && command.stdin && command.tty)
    }

    @Test func debug() throws {
        let command = try #require(try parsed([
            "debug", "web", "--image", "busybox", "--target", "app", "--name", "dbg", "-it", "--env", "A=1", "--env", "B=2", "--rm",
            "--", "sh",
        ]) as? Podctl.Debug.Session)
        #expect(command.session == DebugSession(pod: "web", command: ["sh"], image: "busybox", target: "app", name: "dbg",
                                                stdin: true, tty: true, env: ["A=1", "B=2"], remove: true, namespace: "default",
                                                socket: nil))
        let prune = try #require(try parsed(["debug", "prune", "web", "-c", "dbg"]) as? Podctl.Debug.Prune)
        #expect(prune.pod == "web")
        #expect(throws: (any Error).self) { try parsed(["debug", "web", "--env", "novalue"]) }
    }

    @Test func delete() throws {
        let command = try #require(try parsed([
            "delete", "pod", "web", "--grace-period", "5", "--wait=false", "--timeout", "30s", "--ignore-not-found",
        ]) as? Podctl.Delete)
        #expect(command.arguments == ["pod", "web"])
        #expect(command.gracePeriod == 5 && !command.wait && command.timeout == "30s" && command.ignoreNotFound)
        let byFile = try #require(try parsed(["delete", "-f", "pods.yaml", "--now"]) as? Podctl.Delete)
        #expect(byFile.filenames == ["pods.yaml"] && byFile.now && byFile.wait)
    }

    @Test func events() throws {
        let command = try #require(try parsed(["events", "-w", "-A", "--for", "pod/web", "--no-headers"]) as? Podctl.Events)
        #expect(command.watch && command.allNamespaces && command.forObject == "pod/web" && command.noHeaders)
    }

    @Test func labelAndAnnotate() throws {
        let label = try #require(try parsed(["label", "pod", "web", "tier=front", "old-", "--overwrite", "-o", "name"]) as? Podctl.Label)
        #expect(label.arguments == ["pod", "web", "tier=front", "old-"] && label.overwrite)
        let annotate = try #require(try parsed(["annotate", "pods", "--all", "note=x", "-l", "app=web"]) as? Podctl.Annotate)
        #expect(annotate.arguments == ["pods", "note=x"])
    }

    @Test func image() throws {
        #expect(try parsed(["image", "import", "busybox", "rootfs.tar"]) is Podctl.Image.Import)
        #expect(try parsed(["image", "load", "-i", "archive.tar", "--name", "x:1"]) is Podctl.Image.Load)
        #expect(try parsed(["image", "ls", "-o", "json"]) is Podctl.Image.List)
        #expect(try parsed(["image", "list"]) is Podctl.Image.List)
        #expect(try parsed(["image", "rm", "a", "b"]) is Podctl.Image.Remove)
        let remove = try #require(try parsed(["image", "rm", "--force", "a"]) as? Podctl.Image.Remove)
        #expect(remove.force && remove.references == ["a"])
        #expect(try parsed(["image", "load", "-i", "oci-dir/"]) is Podctl.Image.Load)
        #expect((try parsed(["image", "ls", "--digests"]) as? Podctl.Image.List)?.digests == true)
        #expect(try parsed(["image", "inspect", "busybox", "nginx:1.27"]) is Podctl.Image.Inspect)
        #expect(try parsed(["image", "tag", "busybox", "mine:1"]) is Podctl.Image.Tag)
        #expect((try parsed(["image", "prune", "-a"]) as? Podctl.Image.Prune)?.all == true)
    }

    @Test func version() throws {
        let command = try #require(try parsed(["version", "--client", "-o", "yaml"]) as? Podctl.Version)
        #expect(command.client && command.output == "yaml")
    }

    /// kubectl takes the global flags before the verb as well.
    @Test func globalFlagsBeforeTheVerb() throws {
        let command = try #require(try parsed(["--socket", "/s", "-n", "ns", "get", "pods"]) as? Podctl.Get)
        #expect(command.connection.socket == "/s" && command.namespaceOptions.namespace == "ns")
        let exec = try #require(try parsed(["--socket=/s", "exec", "web", "--", "ls", "-n", "x"]) as? Podctl.Exec)
        #expect(exec.request.socket == "/s" && exec.request.command == ["ls", "-n", "x"])
    }
}

/// The quick argv path of exec and debug (QuickArguments) must read every argument list it
/// accepts exactly as ArgumentParser does, and hand everything else to ArgumentParser.
@Suite struct QuickArgumentsAgreementTests {
    /// Argument lists of exec; `quick` says whether the fast path takes them.
    static let execCases: [(arguments: [String], quick: Bool)] = [
        (["exec", "web", "--", "true"], true),
        (["exec", "web", "-c", "app", "--", "sh", "-c", "echo hi"], true),
        (["exec", "web", "--container", "app", "--", "ls"], true),
        (["exec", "web", "--container=app", "--", "ls"], true),
        (["exec", "-it", "web", "--", "sh"], true),
        (["exec", "web", "-ti", "--", "sh"], true),
        (["exec", "web", "-i", "-t", "--", "sh"], true),
        (["exec", "web", "--stdin", "--tty", "--", "sh"], true),
        (["exec", "web", "--stdin=true", "--tty=false", "--", "sh"], true),
        (["exec", "-n", "team", "web", "--", "ls"], true),
        (["exec", "web", "--namespace=team", "--socket", "/run/x.sock", "--", "ls"], true),
        (["--socket", "/s", "-n", "ns", "exec", "web", "--", "ls"], true),
        (["exec", "pod/web", "--", "ls", "-l", "--", "-x"], true),
        (["exec", "web", "--", "-c", "--container", "x"], true),
        // Handed to ArgumentParser: unknown or unusual flags, missing values, repeated
        // options, no command.
        (["exec", "web", "--quiet", "--", "ls"], false),
        (["exec", "web", "-c=app", "--", "ls"], false),
        (["exec", "web", "-itc", "app", "--", "ls"], false),
        (["exec", "web", "-c", "--", "ls"], false),
        (["exec", "web", "-c", "-i", "--", "ls"], false),
        (["exec", "web", "--socket", "--", "ls"], false),
        (["exec", "web", "-c", "a", "-c", "b", "--", "ls"], false),
        (["exec", "web", "-c", "", "--", "ls"], false),
        (["exec", "web"], false),
        (["exec", "web", "--"], false),
        (["exec", "--", "ls"], false),
        (["exec", "web", "extra", "--", "ls"], false),
        (["exec", "-h"], false),
        (["exec", "--help"], false),
        (["get", "pods"], false),
    ]

    @Test(arguments: execCases)
    func execAgrees(arguments: [String], quick: Bool) throws {
        let fast = QuickExec.parse(normalized(arguments))
        #expect((fast != nil) == quick, "quick path for \(arguments)")
        guard let fast else { return }
        let command = try #require(try parsed(arguments) as? Podctl.Exec, "ArgumentParser refuses \(arguments)")
        #expect(fast == command.request)
    }

    static let debugCases: [(arguments: [String], quick: Bool)] = [
        (["debug", "web"], true),
        (["debug", "web", "--", "sh"], true),
        (["debug", "web", "-it", "--target", "app", "--", "sh"], true),
        (["debug", "web", "--image", "busybox", "--", "wget", "-qO-", "127.0.0.1"], true),
        (["debug", "web", "--image=busybox", "--target=app", "--name=dbg", "--", "ls"], true),
        (["debug", "web", "-c", "dbg", "--rm", "--", "cat", "/etc/hostname"], true),
        (["debug", "web", "--container", "dbg", "--", "ls"], true),
        (["debug", "web", "--env", "A=1", "--env", "B=x=y", "--env=C=", "--", "env"], true),
        (["debug", "-i", "--stdin", "web"], true),
        (["debug", "web", "--stdin=false", "--tty=true"], true),
        (["debug", "-n", "team", "--socket", "/s", "web", "--", "ls"], true),
        (["--socket", "/s", "debug", "pod/web"], true),
        // Handed to ArgumentParser.
        (["debug", "prune", "web"], false),
        (["debug", "session", "web"], false),
        (["debug", "help"], false),
        (["debug", "web", "--env", "novalue"], false),
        (["debug", "web", "--env", "=x"], false),
        (["debug", "web", "--image"], false),
        (["debug", "web", "--image", "-i"], false),
        (["debug", "web", "--name", "a", "--name", "b"], false),
        (["debug", "web", "--profile", "general"], false),
        (["debug", "web", "other"], false),
        (["debug"], false),
        (["debug", "--help"], false),
    ]

    @Test(arguments: debugCases)
    func debugAgrees(arguments: [String], quick: Bool) throws {
        let fast = QuickDebug.parse(normalized(arguments))
        #expect((fast != nil) == quick, "quick path for \(arguments)")
        guard let fast else { return }
        let command = try #require(try parsed(arguments) as? Podctl.Debug.Session, "ArgumentParser refuses \(arguments)")
        #expect(fast == command.session)
    }

    /// Whatever the fast path refuses is still read, or refused with a message, by
    /// ArgumentParser: the fast path never accepts what ArgumentParser refuses.
    @Test func refusedByArgumentParserMeansNotQuick() {
        for (arguments, _) in Self.execCases + Self.debugCases {
            let refused = (try? parsed(arguments)) == nil
            if refused {
                #expect(QuickExec.parse(normalized(arguments)) == nil && QuickDebug.parse(normalized(arguments)) == nil,
                        "\(arguments)")
            }
        }
    }
}

/// kubectl's (cobra's) answer to a verb it does not have.
@Suite struct UnknownCommandTests {
    @Test func unknownVerbIsNamed() {
        #expect(Podctl.unknownCommandMessage(["port-forward", "web", "8080:80"]) == nil)
        #expect(Podctl.unknownCommandMessage(["rollout", "status", "pod/web", "--socket", "/s"]) == """
            error: unknown command "rollout" for "podctl"
            Run 'podctl --help' for usage.
            """)
        #expect(Podctl.unknownCommandMessage(normalized(["--socket", "/s", "rollout", "status"]))?.hasPrefix(
            #"error: unknown command "rollout" for "podctl""#) == true)
    }

    @Test func closeVerbsAreSuggested() {
        #expect(Podctl.unknownCommandMessage(["gte", "pods"]) == """
            error: unknown command "gte" for "podctl"

            Did you mean this?
            \tget

            Run 'podctl --help' for usage.
            """)
        #expect(Podctl.unknownCommandMessage(["desc"])?.contains("\tdescribe\n") == true)
    }

    @Test func verbsAndFlagsAreNotUnknown() {
        for verb in Podctl.verbs {
            #expect(Podctl.unknownCommandMessage([verb]) == nil)
        }
        #expect(Podctl.unknownCommandMessage(["--help"]) == nil)
        #expect(Podctl.unknownCommandMessage(["--version"]) == nil)
        #expect(Podctl.unknownCommandMessage([]) == nil)
        // The list podctl checks is ArgumentParser's own.
        let subcommands = Podctl.configuration.subcommands.map { $0.configuration.commandName ?? $0._commandName }
        #expect(Podctl.verbs == subcommands + ["help"])
    }
}

/// A client-side error is printed with one `error: ` (PodctlError adds it; the message must not).
@Suite struct ClientErrorLineTests {
    @Test func topOfAnotherResourceSaysErrorOnce() throws {
        let command = try #require(try parsed(["top", "node", "--socket", "/nonexistent/podd.sock"]) as? Podctl.Top)
        do {
            try command.run()
            Issue.record("podctl top node ran")
        } catch let error as PodctlError {
            #expect(error.line == #"error: podctl top supports pods only (podctl top pod [NAME]), not "node""#)
        }
    }

    @Test func aMessageIsPrefixedOnce() {
        #expect(PodctlError("metrics not available yet").line == "error: metrics not available yet")
    }
}

/// `podctl get` reads its arguments as kubectl's resource builder: comma-separated types,
/// names in each, or TYPE/NAME pairs of any types.
@Suite struct GetTargetsTests {
    @Test func commaSeparatedTypesAreEachACollection() throws {
        let all: [ResourceArguments.Resource] = [.pods, .events, .configMaps, .secrets]
        #expect(try GetTargets.parse(["cm,secrets"], allowed: all).targets == [.collection(.configMaps), .collection(.secrets)])
        #expect(try GetTargets.parse(["po,pods,cm"], allowed: all).targets == [.collection(.pods), .collection(.configMaps)])
        #expect(try GetTargets.parse(["pods"], allowed: all).targets == [.collection(.pods)])
        // Names are looked up in each type, type by type (kubectl: pod,rc foo -> pod/foo rc/foo).
        #expect(try GetTargets.parse(["cm,secrets", "a", "b"], allowed: all).targets == [
            .object(.configMaps, name: "a"), .object(.configMaps, name: "b"), .object(.secrets, name: "a"), .object(.secrets, name: "b"),
        ])
        #expect(try GetTargets.parse(["pod", "web"], allowed: all).singleObject)
        #expect(try !GetTargets.parse(["pod", "web", "db"], allowed: all).singleObject)
    }

    @Test func typeNamePairsMayMixTypes() throws {
        let all: [ResourceArguments.Resource] = [.pods, .events, .configMaps, .secrets]
        let targets = try GetTargets.parse(["pod/p1", "configmap/cm1", "po/p2"], allowed: all)
        #expect(targets.targets == [.object(.pods, name: "p1"), .object(.configMaps, name: "cm1"), .object(.pods, name: "p2")])
        #expect(targets.resources == [.pods, .configMaps])
    }

    @Test func badArgumentsAreNamedAsKubectlNamesThem() {
        let all: [ResourceArguments.Resource] = [.pods, .events, .configMaps, .secrets]
        for (arguments, expected) in [(["cm,nope"], #"the server doesn't have a resource type "nope""#),
                                      (["pods", "pod/x"], "there is no need to specify a resource type as a separate argument"),
                                      (["pod/"], "must have a single resource and name"),
                                      (["deployments"], #"doesn't have a resource type "deployments""#),
                                      ([], "you must specify the type of resource to get")] {
            do {
                _ = try GetTargets.parse(arguments, allowed: all)
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(error.line.contains(expected), "\(error.line)")
            }
        }
    }

    @Test func aTypeTheVerbDoesNotTakeIsNamedSo() {
        // The server has budgets and classes; podctl describe does not describe them.
        for (arguments, expected) in [(["pdb", "web"], "podctl describe does not take poddisruptionbudgets (it takes: pods, configmaps, secrets)"),
                                      (["priorityclass.scheduling.k8s.io/gold"], "podctl describe does not support the resource type")] {
            do {
                _ = try ResourceArguments.parse(arguments, verb: "describe", allowed: [.pods, .configMaps, .secrets])
                Issue.record("\(arguments) was accepted")
            } catch {
                #expect(error.line.contains(expected), "\(error.line)")
            }
        }
        #expect((try? ResourceArguments.parse(["pc", "gold"], verb: "get", allowed: [.priorityClasses]))?.resource == .priorityClasses)
        #expect(ResourceArguments.Resource.priorityClasses.path(namespace: "ns") == "/apis/scheduling.k8s.io/v1/priorityclasses")
        #expect(ResourceArguments.Resource.podDisruptionBudgets.path(namespace: "ns", name: "web") == "/apis/policy/v1/namespaces/ns/poddisruptionbudgets/web")
        #expect(ResourceArguments.Resource.podDisruptionBudgets.singular == "poddisruptionbudget.policy")
    }

    @Test func eachTypeIsATableOfItsOwnWithKindPrefixedNames() throws {
        let pod = try JSONValue.parse(Array(#"{"metadata": {"name": "p1"}, "spec": {"containers": [{"name": "a"}]}, "status": {"phase": "Pending"}}"#.utf8))
        let map = try JSONValue.parse(Array(#"{"metadata": {"name": "cm1"}, "data": {"k": "v"}}"#.utf8))
        let get = try #require(try parsed(["get", "pod/p1", "configmap/cm1"]) as? Podctl.Get)
        let sections = [Podctl.Get.Section(resource: .pods, items: [pod]), Podctl.Get.Section(resource: .configMaps, items: [map])]
        let tables = try get.render(sections, singleObject: false)
        #expect(tables == """
            NAME     READY   STATUS    RESTARTS   AGE
            pod/p1   0/1     Pending   0          <unknown>

            NAME            DATA   AGE
            configmap/cm1   1      <unknown>

            """, "\(tables)")
        // One type found: no prefix, as kubectl (it prefixes only when types differ).
        #expect(try get.render([sections[1]], singleObject: false).contains("\ncm1 "))
        let names = try #require(try parsed(["get", "pod/p1", "configmap/cm1", "-o", "name"]) as? Podctl.Get)
        #expect(try names.render(sections, singleObject: false) == "pod/p1\nconfigmap/cm1\n")
        let json = try #require(try parsed(["get", "pod/p1", "configmap/cm1", "-o", "json"]) as? Podctl.Get)
        let list = try JSONValue.parse(Array(try json.render(sections.map { section in
            Podctl.Get.Section(resource: section.resource, items: section.items.map { ObjectPrinter.withKind($0, kind: section.resource.kind) })
        }, singleObject: false).utf8))
        #expect(list["kind"] == "List" && list["items"]?.arrayValue?.compactMap { $0["kind"]?.stringValue } == ["Pod", "ConfigMap"])
        let bare = try #require(try parsed(["get", "cm,secrets", "--no-headers"]) as? Podctl.Get)
        #expect(try !bare.render(sections, singleObject: false).contains("\n\n"))
    }
}
