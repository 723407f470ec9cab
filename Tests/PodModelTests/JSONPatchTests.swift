import Testing

@testable import PodModel

private func json(_ text: String) -> JSONValue {
    do { return try JSONValue.parse(text) } catch { fatalError("bad JSON in a test: \(error): \(text)") }
}

/// Whether `body` fails with a PatchError of `kind` whose message contains `text`.
private func expectPatchError(_ kind: PatchError.Kind, _ text: String, sourceLocation: SourceLocation = #_sourceLocation,
                              _ body: () throws(PatchError) -> JSONValue) {
    do {
        let result = try body()
        Issue.record("expected \(kind) error containing \"\(text)\", got \(result)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.kind == kind, "\(error.message)", sourceLocation: sourceLocation)
        #expect(error.message.contains(text), "\(error.message)", sourceLocation: sourceLocation)
    }
}

@Suite struct PatchTypeTests {
    @Test func contentTypesNameTheThreeFormats() {
        #expect(PatchType(contentType: "application/json-patch+json") == .json)
        #expect(PatchType(contentType: "application/merge-patch+json; charset=utf-8") == .merge)
        #expect(PatchType(contentType: "Application/Strategic-Merge-Patch+JSON") == .strategicMerge)
        #expect(PatchType(contentType: "application/json") == nil)
        #expect(PatchType(contentType: "application/apply-patch+yaml") == nil)
        #expect(PatchType(contentType: "") == nil)
    }

    @Test func mergePatchesMustBeObjects() {
        expectPatchError(.malformed, "must be a JSON object") { () throws(PatchError) in
            try PatchType.merge.apply(json("[1]"), to: json("{}"), schema: .pod)
        }
        expectPatchError(.malformed, "must be a JSON object") { () throws(PatchError) in
            try PatchType.strategicMerge.apply(json("\"x\""), to: json("{}"), schema: .pod)
        }
        expectPatchError(.malformed, "must be a JSON array") { () throws(PatchError) in
            try PatchType.json.apply(json("{}"), to: json("{}"), schema: .pod)
        }
    }
}

@Suite struct JSONPointerTests {
    @Test func parsesAndEscapes() throws {
        #expect(try JSONPointer("").tokens == [])
        #expect(try JSONPointer("/").tokens == [""])
        #expect(try JSONPointer("/a~1b/m~0n/0").tokens == ["a/b", "m~n", "0"])
        #expect(try JSONPointer("/a~1b/m~0n").description == "/a~1b/m~0n")
        #expect(throws: PatchError.self) { try JSONPointer("a/b") }
        #expect(throws: PatchError.self) { try JSONPointer("/a~2") }
        #expect(throws: PatchError.self) { try JSONPointer("/a~") }
    }

    /// RFC 6901 §5.
    @Test func resolvesTheRFCExamples() throws {
        let doc = json(#"{"foo": ["bar", "baz"], "": 0, "a/b": 1, "c%d": 2, "e^f": 3, "g|h": 4, "i\\j": 5, "k\"l": 6, " ": 7, "m~n": 8}"#)
        let cases: [(String, JSONValue)] = [
            ("", doc), ("/foo", json(#"["bar", "baz"]"#)), ("/foo/0", "bar"), ("/", 0), ("/a~1b", 1), ("/c%d", 2),
            ("/e^f", 3), ("/g|h", 4), ("/i\\j", 5), ("/k\"l", 6), ("/ ", 7), ("/m~0n", 8),
        ]
        for (pointer, value) in cases {
            #expect(try JSONPointer(pointer).value(in: doc) == value, "\(pointer)")
        }
        #expect(try JSONPointer("/foo/2").value(in: doc) == nil)
        #expect(try JSONPointer("/foo/01").value(in: doc) == nil)
        #expect(try JSONPointer("/foo/-").value(in: doc) == nil)
    }
}

/// RFC 6902, Appendix A, and the errors.
@Suite struct JSONPatchTests {
    @Test(arguments: [
        // A.1 - A.10, A.16
        (#"{"foo": "bar"}"#, #"[{"op": "add", "path": "/baz", "value": "qux"}]"#, #"{"baz": "qux", "foo": "bar"}"#),
        (#"{"foo": ["bar", "baz"]}"#, #"[{"op": "add", "path": "/foo/1", "value": "qux"}]"#, #"{"foo": ["bar", "qux", "baz"]}"#),
        (#"{"baz": "qux", "foo": "bar"}"#, #"[{"op": "remove", "path": "/baz"}]"#, #"{"foo": "bar"}"#),
        (#"{"foo": ["bar", "qux", "baz"]}"#, #"[{"op": "remove", "path": "/foo/1"}]"#, #"{"foo": ["bar", "baz"]}"#),
        (#"{"baz": "qux", "foo": "bar"}"#, #"[{"op": "replace", "path": "/baz", "value": "boo"}]"#, #"{"baz": "boo", "foo": "bar"}"#),
        (#"{"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}}"#,
         #"[{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}]"#,
         #"{"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}"#),
        (#"{"foo": ["all", "grass", "cows", "eat"]}"#, #"[{"op": "move", "from": "/foo/1", "path": "/foo/3"}]"#,
         #"{"foo": ["all", "cows", "eat", "grass"]}"#),
        (#"{"baz": "qux", "foo": ["a", 2, "c"]}"#,
         #"[{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}]"#,
         #"{"baz": "qux", "foo": ["a", 2, "c"]}"#),
        (#"{"foo": "bar"}"#, #"[{"op": "add", "path": "/child", "value": {"grandchild": {}}}]"#,
         #"{"foo": "bar", "child": {"grandchild": {}}}"#),
        (#"{"foo": "bar"}"#, #"[{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}]"#, #"{"foo": "bar", "baz": "qux"}"#),
        (#"{"foo": ["bar"]}"#, #"[{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}]"#, #"{"foo": ["bar", ["abc", "def"]]}"#),
        // A.14: escapes; A.15 comparisons of numbers by value
        (#"{"/": 9, "~1": 10}"#, #"[{"op": "test", "path": "/~01", "value": 10}]"#, #"{"/": 9, "~1": 10}"#),
        (#"{"a": 1}"#, #"[{"op": "test", "path": "/a", "value": 1.0}]"#, #"{"a": 1}"#),
        // add replaces an existing member; null is a value; copy; the whole document
        (#"{"a": 1}"#, #"[{"op": "add", "path": "/a", "value": null}]"#, #"{"a": null}"#),
        (#"{"a": {"b": [1]}}"#, #"[{"op": "copy", "from": "/a/b", "path": "/c"}, {"op": "add", "path": "/c/0", "value": 0}]"#,
         #"{"a": {"b": [1]}, "c": [0, 1]}"#),
        (#"{"a": 1}"#, #"[{"op": "replace", "path": "", "value": [1]}]"#, "[1]"),
        (#"{"a": 1}"#, #"[{"op": "move", "from": "/a", "path": "/a"}]"#, #"{"a": 1}"#),
        (#"{"a": 1}"#, "[]", #"{"a": 1}"#),
    ])
    func appliesTheRFCExamples(document: String, patch: String, expected: String) throws {
        let result = try JSONPatch.apply(json(patch), to: json(document))
        #expect(result == json(expected), "\(result)")
    }

    @Test func failuresThatDependOnTheDocumentAreNotApplicable() {
        let doc = json(#"{"foo": "bar", "list": [1, 2], "baz": "qux"}"#)
        let cases: [(String, String)] = [
            (#"[{"op": "add", "path": "/baz/bat", "value": "qux"}]"#, "/baz is string, not an object or an array"),   // A.12
            (#"[{"op": "remove", "path": "/nope"}]"#, "/nope does not exist"),
            (#"[{"op": "replace", "path": "/nope", "value": 1}]"#, "/nope does not exist"),
            (#"[{"op": "add", "path": "/a/b", "value": 1}]"#, "/a does not exist"),
            (#"[{"op": "add", "path": "/list/3", "value": 1}]"#, "index 3 is out of range"),
            (#"[{"op": "add", "path": "/list/01", "value": 1}]"#, "is not an array index"),
            (#"[{"op": "remove", "path": "/list/2"}]"#, "/list/2 does not exist"),
            (#"[{"op": "remove", "path": "/list/-"}]"#, "/list/- does not exist"),
            (#"[{"op": "test", "path": "/baz", "value": "bar"}]"#, #"test failed: the value is "qux", not "bar""#),   // A.9
            (#"[{"op": "test", "path": "/list", "value": [2, 1]}]"#, "test failed"),
            (#"[{"op": "test", "path": "/nope", "value": 1}]"#, "test failed: /nope does not exist"),
            (#"[{"op": "move", "from": "/nope", "path": "/a"}]"#, "from: /nope does not exist"),
            (#"[{"op": "copy", "from": "/nope", "path": "/a"}]"#, "from: /nope does not exist"),
            (#"[{"op": "remove", "path": ""}]"#, "the whole document cannot be removed"),
            (#"[{"op": "add", "path": "/x", "value": 1}, {"op": "remove", "path": "/y"}]"#, "operations[1] (remove /y)"),
        ]
        for (patch, message) in cases {
            expectPatchError(.notApplicable, message) { () throws(PatchError) in try JSONPatch.apply(json(patch), to: doc) }
        }
    }

    @Test func malformedPatchesAreRefusedBeforeAnythingIsApplied() {
        let doc = json(#"{"a": {"b": 1}}"#)
        let cases: [(String, String)] = [
            ("{}", "must be a JSON array of operations"),
            ("[1]", "operations[0]: an operation must be a JSON object"),
            (#"[{"path": "/a"}]"#, #""op" is missing"#),
            (#"[{"op": "frob", "path": "/a"}]"#, #"unknown op "frob""#),
            (#"[{"op": "add", "value": 1}]"#, #""path" is missing"#),
            (#"[{"op": "add", "path": 1, "value": 1}]"#, #""path" must be a string"#),
            (#"[{"op": "add", "path": "a", "value": 1}]"#, "not a JSON pointer"),
            (#"[{"op": "add", "path": "/a"}]"#, #""value" is missing"#),
            (#"[{"op": "replace", "path": "/a"}]"#, #""value" is missing"#),
            (#"[{"op": "move", "path": "/a"}]"#, #""from" is missing"#),
            (#"[{"op": "move", "from": "/a", "path": "/a/b/c"}]"#, "into one of its own children"),   // A.? (RFC 6902 §4.4)
            // A valid first operation does not make a bad second one acceptable.
            (#"[{"op": "remove", "path": "/nope"}, {"op": "bad", "path": "/a"}]"#, "operations[1]"),
        ]
        for (patch, message) in cases {
            expectPatchError(.malformed, message) { () throws(PatchError) in try JSONPatch.apply(json(patch), to: doc) }
        }
    }

    @Test func operationsApplyInOrderOnTheResultOfTheLast() throws {
        let result = try JSONPatch.apply(json(#"""
            [{"op": "add", "path": "/metadata/labels", "value": {}},
             {"op": "add", "path": "/metadata/labels/app", "value": "web"},
             {"op": "test", "path": "/metadata/labels/app", "value": "web"},
             {"op": "move", "from": "/metadata/labels/app", "path": "/metadata/labels/tier"},
             {"op": "replace", "path": "/spec/containers/0/image", "value": "busybox:2"},
             {"op": "add", "path": "/spec/containers/0/args/-", "value": "x"}]
            """#), to: json(#"{"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a", "image": "busybox", "args": []}]}}"#))
        #expect(result == json(#"{"metadata": {"name": "p", "labels": {"tier": "web"}}, "spec": {"containers": [{"name": "a", "image": "busybox:2", "args": ["x"]}]}}"#))
    }

    @Test func copiesThatWouldDoubleTheDocumentOverAndOverStopAtTheLimit() {
        // Each copy doubles /a: 40 of them would be 2^40 times the document.
        let bomb = JSONValue.array((0..<40).map { _ in ["op": "copy", "from": "/a", "path": "/a/-"] })
        let doc = json(#"{"a": ["0123456789"]}"#)
        expectPatchError(.notApplicable, "accumulated size increase of copy is more than the limit 4096") { () throws(PatchError) in
            try JSONPatch.apply(bomb, to: doc, copyLimit: 4096)
        }
        // Under the limit the same copies apply.
        let small = JSONValue.array((0..<3).map { _ in ["op": "copy", "from": "/a", "path": "/a/-"] })
        #expect((try? JSONPatch.apply(small, to: doc, copyLimit: 4096))?["a"]?.arrayValue?.count == 4)  // each copy nests the whole array in itself
        #expect(json(#"{"a": [1, "xy", null, true, {"b": false}]}"#).compactSize() == #"{"a":[1,"xy",null,true,{"b":false}]}"#.utf8.count)
    }
}

/// RFC 7386, Appendix A.
@Suite struct JSONMergePatchTests {
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"["a","b"]"#, #"["c","d"]"#, #"["c","d"]"#),
        (#"{"a":"b"}"#, #"["c"]"#, #"["c"]"#),
        (#"{"a":"foo"}"#, "null", "null"),
        (#"{"a":"foo"}"#, #""bar""#, #""bar""#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"[1,2]"#, #"{"a":"b","c":null}"#, #"{"a":"b"}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func appliesTheRFCExamples(target: String, patch: String, expected: String) {
        #expect(JSONMergePatch.apply(json(patch), to: json(target)) == json(expected))
    }

    @Test func listsAreReplacedWhole() {
        let pod = json(#"{"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]}}"#)
        let result = JSONMergePatch.apply(json(#"{"spec": {"containers": [{"name": "a", "image": "z"}]}}"#), to: pod)
        #expect(result == json(#"{"spec": {"containers": [{"name": "a", "image": "z"}]}}"#))
    }
}

@Suite struct StrategicMergePatchTests {
    let pod = json(#"""
        {"metadata": {"name": "web", "labels": {"app": "web", "tier": "front"}, "finalizers": ["a", "b"]},
         "spec": {
           "volumes": [{"name": "data", "emptyDir": {}}, {"name": "logs", "emptyDir": {}}],
           "initContainers": [{"name": "setup", "image": "busybox", "command": ["true"]}],
           "containers": [
             {"name": "app", "image": "busybox", "command": ["sleep", "1"],
              "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
              "ports": [{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "https"}],
              "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
             {"name": "side", "image": "busybox", "command": ["sleep", "2"]}],
           "restartPolicy": "Always"}}
        """#)

    func patched(_ patch: String) throws(PatchError) -> JSONValue {
        try StrategicMergePatch.apply(json(patch), to: pod, schema: .pod)
    }

    @Test func objectsMergeAndNullDeletes() throws {
        let result = try patched(#"{"metadata": {"labels": {"tier": null, "new": "x"}}, "spec": {"restartPolicy": null}}"#)
        #expect(result["metadata"]?["labels"] == json(#"{"app": "web", "new": "x"}"#))
        #expect(result["spec"]?["restartPolicy"] == nil)
        #expect(result["spec"]?["containers"] == pod["spec"]?["containers"])
    }

    @Test func containersMergeByName() throws {
        let result = try patched(#"{"spec": {"containers": [{"name": "side", "image": "busybox:2", "command": ["sh", "-c", "x"]}]}}"#)
        let containers = try #require(result["spec"]?["containers"]?.arrayValue)
        #expect(containers.count == 2)
        #expect(containers[0] == pod["spec"]?["containers"]?[0])
        #expect(containers[1] == json(#"{"name": "side", "image": "busybox:2", "command": ["sh", "-c", "x"]}"#))
    }

    @Test func nestedKeyedListsMergeToo() throws {
        let result = try patched(#"""
            {"spec": {"containers": [{"name": "app",
              "env": [{"name": "B", "value": "two"}, {"name": "C", "value": "3"}],
              "ports": [{"containerPort": 443, "name": "tls"}],
              "volumeMounts": [{"mountPath": "/data", "readOnly": true}]}]}}
            """#)
        let app = try #require(result["spec"]?["containers"]?[0])
        // A new element goes before the old ones it is not related to, as the API server orders it.
        #expect(app["env"] == json(#"[{"name": "A", "value": "1"}, {"name": "B", "value": "two"}, {"name": "C", "value": "3"}]"#))
        #expect(app["ports"] == json(#"[{"containerPort": 80, "name": "http"}, {"containerPort": 443, "name": "tls"}]"#))
        #expect(app["volumeMounts"] == json(#"[{"name": "data", "mountPath": "/data", "readOnly": true}]"#))
        // command is not a merge list: replaced by a patch, kept without one.
        #expect(app["command"] == json(#"["sleep", "1"]"#))
    }

    @Test func aNewElementIsAddedAsTheAPIServerOrdersIt() throws {
        let result = try patched(#"{"spec": {"containers": [{"name": "debug", "image": "busybox", "command": ["sh"]}]}}"#)
        #expect(result["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["debug", "app", "side"])
        let both = try patched(#"{"spec": {"containers": [{"name": "app", "image": "b2"}, {"name": "debug", "image": "busybox"}]}}"#)
        #expect(both["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["app", "debug", "side"])
    }

    @Test func patchDeleteRemovesAnElementByKey() throws {
        let result = try patched(#"""
            {"spec": {"containers": [{"name": "side", "$patch": "delete"},
                                     {"name": "app", "env": [{"name": "A", "$patch": "delete"}]}],
                      "volumes": [{"name": "logs", "$patch": "delete"}]}}
            """#)
        let containers = try #require(result["spec"]?["containers"]?.arrayValue)
        #expect(containers.map { $0["name"] } == ["app"])
        #expect(containers[0]["env"] == json(#"[{"name": "B", "value": "2"}]"#))
        #expect(result["spec"]?["volumes"] == json(#"[{"name": "data", "emptyDir": {}}]"#))
        // Deleting what is not there changes nothing.
        #expect(try patched(#"{"spec": {"containers": [{"name": "ghost", "$patch": "delete"}]}}"#) == pod)
    }

    @Test func patchReplaceReplacesAListOrAnObject() throws {
        let list = try patched(#"{"spec": {"containers": [{"$patch": "replace"}, {"name": "only", "image": "busybox"}]}}"#)
        #expect(list["spec"]?["containers"] == json(#"[{"name": "only", "image": "busybox"}]"#))
        let object = try patched(#"{"metadata": {"labels": {"$patch": "replace", "just": "this"}}}"#)
        #expect(object["metadata"]?["labels"] == json(#"{"just": "this"}"#))
        let emptied = try patched(#"{"metadata": {"labels": {"$patch": "delete"}}}"#)
        #expect(emptied["metadata"]?["labels"] == json("{}"))
    }

    @Test func otherListsAreReplacedWhole() throws {
        let result = try patched(#"{"spec": {"containers": [{"name": "app", "command": ["true"]}]}, "metadata": {"finalizers": ["c", "a"]}}"#)
        #expect(result["spec"]?["containers"]?[0]?["command"] == json(#"["true"]"#))
        // finalizers merge as a set (ordered as the API server orders it).
        #expect(result["metadata"]?["finalizers"] == json(#"["c", "a", "b"]"#))
    }

    @Test func directivesForOrderRetainedKeysAndScalarDeletion() throws {
        let ordered = try patched(#"{"spec": {"$setElementOrder/containers": [{"name": "side"}, {"name": "app"}], "containers": [{"name": "side", "image": "b3"}]}}"#)
        #expect(ordered["spec"]?["containers"]?.arrayValue?.compactMap { $0["name"]?.stringValue } == ["side", "app"])
        #expect(ordered["spec"]?["containers"]?[0]?["image"] == "b3")
        let retained = try patched(#"{"spec": {"volumes": [{"name": "data", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/srv"}}]}}"#)
        #expect(retained["spec"]?["volumes"]?[0] == json(#"{"name": "data", "hostPath": {"path": "/srv"}}"#))
        let deleted = try patched(#"{"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}"#)
        #expect(deleted["metadata"]?["finalizers"] == json(#"["b"]"#))
    }

    @Test func aFieldTheDocumentLacksIsTakenWithoutDirectives() throws {
        let result = try patched(#"{"spec": {"ephemeralContainers": [{"name": "dbg", "image": "busybox", "env": [{"name": "X", "value": "1"}, {"name": "Y", "$patch": "delete"}], "tty": null}]}}"#)
        #expect(result["spec"]?["ephemeralContainers"] == json(#"[{"name": "dbg", "image": "busybox", "env": [{"name": "X", "value": "1"}]}]"#))
    }

    @Test func badPatchesAreRefused() {
        let malformed: [(String, String)] = [
            (#"{"spec": {"containers": [{"image": "x"}]}}"#, #"spec.containers: element {"image":"x"} does not give the merge key "name""#),
            (#"{"spec": {"containers": [{"$patch": "delete"}]}}"#, "must give the merge key \"name\""),
            (#"{"spec": {"containers": [{"name": "a", "$patch": "merge"}]}}"#, "$patch: merge is not supported in a list"),
            (#"{"metadata": {"$patch": "frob"}}"#, "metadata: invalid $patch directive"),
            (#"{"metadata": {"$frob": 1}}"#, "metadata: unknown directive \"$frob\""),
            (#"{"spec": {"volumes": [{"name": "data", "$retainKeys": ["name"], "hostPath": {"path": "/"}}]}}"#, "not in its $retainKeys list"),
            (#"{"spec": {"$setElementOrder/containers": "x"}}"#, "must be a list"),
        ]
        for (patch, message) in malformed {
            expectPatchError(.malformed, message) { () throws(PatchError) in try patched(patch) }
        }
        expectPatchError(.notApplicable, "not all of one type") { () throws(PatchError) in
            try patched(#"{"spec": {"containers": ["x"]}}"#)
        }
        expectPatchError(.notApplicable, "lists of lists") { () throws(PatchError) in
            try patched(#"{"metadata": {"finalizers": [["x"]]}}"#)
        }
    }

    @Test func anEmptyPatchChangesNothing() throws {
        #expect(try patched("{}") == pod)
        #expect(try patched(#"{"spec": {"containers": []}}"#) == pod)
    }
}
