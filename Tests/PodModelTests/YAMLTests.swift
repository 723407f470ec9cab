import Testing

@testable import PodJSON
@testable import PodModel

@Suite struct YAMLTests {
    @Test func mapsScalarTypesAsKubernetes() throws {
        let documents = try JSONValue.parseYAMLDocuments("""
            int: 42
            negative: -7
            octal: 0755
            hex: 0x1F
            underscored: 1_000
            float: 1.5
            integralFloat: 30.0
            isYes: yes
            isOn: on
            isFalse: false
            tilde: ~
            empty:
            null: null
            quoted: "123"
            single: 'true'
            tagged: !!str 12
            date: 2026-11-25T14:11:12Z
            text: hello world
            big: 12345678901234567890
            """)
        #expect(documents.count == 1)
        let doc = documents[0]
        #expect(doc["int"] == .int(42))
        #expect(doc["negative"] == .int(-7))
        #expect(doc["octal"] == .int(493))
        #expect(doc["hex"] == .int(31))
        #expect(doc["underscored"] == .int(1000))
        #expect(doc["float"] == .double(1.5))
        #expect(doc["integralFloat"] == .double(30))
        // YAML 1.1 booleans, as go-yaml v2 reads them; keys become strings.
        #expect(doc["isYes"] == .bool(true))
        #expect(doc["isOn"] == .bool(true))
        #expect(doc["isFalse"] == .bool(false))
        #expect(doc["tilde"] == .null)
        #expect(doc["empty"] == .null)
        #expect(doc["null"] == .null)
        #expect(doc["quoted"] == .string("123"))
        #expect(doc["single"] == .string("true"))
        #expect(doc["tagged"] == .string("12"))
        #expect(doc["date"] == .string("2026-11-25T14:11:12Z"))
        #expect(doc["text"] == .string("hello world"))
        #expect(doc["big"] == .double(12345678901234567890))
    }

    @Test func keepsKeyOrderAndNesting() throws {
        let doc = try JSONValue.parseYAMLDocuments("""
            b: 1
            a:
              - name: x
                args: [sh, -c, "echo hi"]
              - {name: why}
            """)[0]
        #expect(doc.objectValue?.keys == ["b", "a"])
        #expect(doc["a"]?[0]?["args"] == ["sh", "-c", "echo hi"])
        #expect(doc["a"]?[1]?["name"] == "why")
    }

    @Test func splitsDocumentsAndSkipsEmptyOnes() throws {
        let documents = try JSONValue.parseYAMLDocuments("""
            ---
            a: 1
            ---
            ---
            # only a comment
            ---
            b: 2
            ...
            """)
        #expect(documents == [["a": 1], ["b": 2]])
        #expect(try JSONValue.parseYAMLDocuments("").isEmpty)
        #expect(try JSONValue.parseYAMLDocuments("# nothing\n").isEmpty)
    }

    @Test func appliesMergeKeysAndAliases() throws {
        let doc = try JSONValue.parseYAMLDocuments("""
            base: &base {image: busybox, name: base}
            c:
              <<: *base
              name: app
            list: [*base]
            """)[0]
        #expect(doc["c"] == ["name": "app", "image": "busybox"])
        #expect(doc["list"]?[0]?["image"] == "busybox")
    }

    @Test func nonStringKeysBecomeStrings() throws {
        let doc = try JSONValue.parseYAMLDocuments("1: a\ntrue: b\n1.5: c\n")[0]
        #expect(doc == ["1": "a", "true": "b", "1.5": "c"])
    }

    @Test(arguments: [
        ("a: 1\na: 2\n", "mapping key \"a\" already defined"),
        ("a: .inf\n", ".inf cannot be represented in JSON"),
        ("? [a]\n: 1\n", "mapping keys must be scalars, not a sequence"),
    ])
    func refuses(text: String, message: String) {
        do {
            _ = try JSONValue.parseYAMLDocuments(text)
            Issue.record("expected an error for \(text)")
        } catch {
            #expect(error.message == message)
        }
    }

    @Test func reportsSyntaxErrorsWithTheirLine() {
        do {
            _ = try JSONValue.parseYAMLDocuments("a: 1\nb: [1, 2\nc: 3\n")
            Issue.record("expected an error")
        } catch {
            #expect(error.line != nil)
            #expect(!error.message.isEmpty)
        }
    }

    @Test func stopsAliasBombs() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            text += "a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]\n"
        }
        // A lower ceiling than the default keeps the test fast; the mechanism is the same.
        do {
            _ = try JSONValue.parseYAMLDocuments(text, maximumValues: 10_000)
            Issue.record("expected an error")
        } catch {
            #expect(error.message == "document expands to more than 10000 values (alias expansion?)")
        }
    }

    @Test func keysThatReadTheSameCollide() {
        // yes and on are both the boolean true, so both keys are "true", as in go-yaml.
        #expect(throws: DocumentParseError.self) { try JSONValue.parseYAMLDocuments("yes: 1\non: 2\n") }
    }
}

/// The one scalar resolution of podd and podctl: sigs.k8s.io/yaml's (go-yaml v2 resolve.go).
@Suite struct YAMLScalarResolutionTests {
    @Test(arguments: [
        // null
        ("~", JSONValue.null), ("null", .null), ("Null", .null), ("NULL", .null), ("", .null),
        // YAML 1.1 booleans, in the case forms go-yaml lists and no others
        ("y", .bool(true)), ("Y", .bool(true)), ("yes", .bool(true)), ("Yes", .bool(true)), ("YES", .bool(true)),
        ("on", .bool(true)), ("On", .bool(true)), ("ON", .bool(true)),
        ("true", .bool(true)), ("True", .bool(true)), ("TRUE", .bool(true)),
        ("n", .bool(false)), ("N", .bool(false)), ("no", .bool(false)), ("No", .bool(false)), ("NO", .bool(false)),
        ("off", .bool(false)), ("Off", .bool(false)), ("OFF", .bool(false)),
        ("false", .bool(false)), ("False", .bool(false)), ("FALSE", .bool(false)),
        ("yES", .string("yES")), ("tRUE", .string("tRUE")), ("oN", .string("oN")),
        // integers as strconv.ParseInt(s, 0, 64)
        ("0", .int(0)), ("42", .int(42)), ("-7", .int(-7)), ("+7", .int(7)), ("1_000", .int(1000)),
        ("0777", .int(511)), ("0o777", .int(511)), ("0O17", .int(15)), ("-0777", .int(-511)),
        ("0x1F", .int(31)), ("0X1f", .int(31)), ("-0x10", .int(-16)), ("0b101", .int(5)), ("-0b11", .int(-3)),
        ("9223372036854775807", .int(.max)), ("-9223372036854775808", .int(.min)),
        ("18446744073709551615", .double(18446744073709551615)),
        // floats
        ("1.5", .double(1.5)), ("1.0", .double(1)), ("-2.5e3", .double(-2500)), (".5", .double(0.5)),
        ("1.", .double(1)), ("+1.5", .double(1.5)), ("1e3", .double(1000)), ("08", .double(8)), ("09.5", .double(9.5)),
        ("1_0.5", .double(10.5)),
        // strings: timestamps, base 60, words, things that only look numeric
        ("2026-11-25T14:11:12Z", .string("2026-11-25T14:11:12Z")), ("2001-12-14", .string("2001-12-14")),
        ("1:30", .string("1:30")), ("0x", .string("0x")), ("0o8", .string("0o8")), ("1e", .string("1e")),
        ("1.2.3", .string("1.2.3")), ("-", .string("-")), ("+", .string("+")), ("0xG", .string("0xG")),
        ("inf", .string("inf")), ("nan", .string("nan")), ("hello", .string("hello")), ("<<", .string("<<")),
        ("--1", .string("--1")), ("0x-1", .string("0x-1")), ("1,000", .string("1,000")),
    ])
    func resolvesPlainScalars(text: String, value: JSONValue) {
        #expect(YAMLScalar.resolvePlain(text) == .value(value), "\(text)")
    }

    @Test(arguments: [".inf", ".Inf", ".INF", "+.inf", "-.inf", "-.INF", ".nan", ".NaN", ".NAN"])
    func nonFiniteFloatsAreNotJSON(text: String) {
        #expect(YAMLScalar.resolvePlain(text) == .nonFiniteFloat)
    }

    @Test func quotedBlockAndTaggedScalars() throws {
        let doc = try JSONValue.parseYAMLDocuments("""
            a: "yes"
            b: 'on'
            c: |
              0777
            d: !!str 0777
            e: !!int "12"
            f: !!float 1
            g: !!bool "y"
            h: !custom 12
            i: !!timestamp 2001-12-14
            0x10: hex key
            y: yes key
            1.50: float key
            """)[0]
        #expect(doc == [
            "a": "yes", "b": "on", "c": "0777\n", "d": "0777", "e": 12, "f": .double(1), "g": true, "h": "12",
            "i": "2001-12-14", "16": "hex key", "true": "yes key", "1.5": "float key",
        ])
        #expect(throws: DocumentParseError.self) { try JSONValue.parseYAMLDocuments("a: !!int abc\n") }
        #expect(try JSONValue.parseYAMLDocuments("~: null key\n") == [["null": "null key"]])
    }

    @Test func refusesDeepNesting() {
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect(throws: DocumentParseError.self) { try JSONValue.parseYAMLDocuments(deep) }
    }
}

/// YAML output through Yams, read back by the same reader.
@Suite struct YAMLWriterTests {
    @Test func printsAsKubectlInTheGivenOrder() throws {
        let value: JSONValue = [
            "kind": "Pod",
            "metadata": ["name": "web", "labels": ["b": "1", "a": "yes"], "creationTimestamp": "2026-11-25T14:11:12Z"],
            "spec": [
                "containers": [["name": "app", "args": ["sh", "-c", "echo a: b"], "ports": [["containerPort": 80]]]],
                "volumes": [], "nodeSelector": [:], "grace": 30, "ratio": 1.5, "none": nil, "on": true,
            ],
        ]
        #expect(try value.yamlText() == """
            kind: Pod
            metadata:
              name: web
              labels:
                b: "1"
                a: "yes"
              creationTimestamp: "2026-11-25T14:11:12Z"
            spec:
              containers:
              - name: app
                args:
                - sh
                - -c
                - 'echo a: b'
                ports:
                - containerPort: 80
              volumes: []
              nodeSelector: {}
              grace: 30
              ratio: 1.5
              none: null
              "on": true

            """)
    }

    @Test(arguments: [
        "yes", "no", "on", "OFF", "y", "N", "true", "null", "~", "", "0777", "0o17", "0x1F", "1.0", "1e3", ".5", "08",
        "1_000", "-1", "+1", ".inf", "-.inf", ".nan", "<<", "1:20", "2026-11-25", "2026-11-25T14:11:12Z",
        "a: b", "- x", "#c", "x #c", " lead", "trail ", "multi\nline\n", "multi\nline", "  indented\nblock\n",
        "tab\there", "quote\"s", "it's", "é ünïcode 😀", "nul\u{0}byte", "\u{7}bell", "[x]", "{y}", "*a", "&a", "!t",
        "%p", "@x", "`x", "|", ">", "?", ":", "-", "---", "...", String(repeating: "long words ", count: 20),
    ])
    func stringsReadBackAsThemselves(text: String) throws {
        let value: JSONValue = ["key": .string(text), text: "as a key", "list": [.string(text)]]
        let yaml = try value.yamlText()
        #expect(try JSONValue.parseYAMLDocuments(yaml) == [value], "\(yaml)")
    }

    @Test func documentsRoundTripThroughYAML() throws {
        let json = try JSONValue.parse(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","annotations":{"a":"0777","b":"1.0","c":"true"}},
             "spec":{"terminationGracePeriodSeconds":30,"containers":[{"name":"app","image":"busybox",
             "command":["sh","-c","echo hi\nsleep 1\n"],"env":[{"name":"X","value":"yes"},{"name":"Y","value":"~"}],
             "ports":[{"containerPort":8080,"protocol":"TCP"}]}],"volumes":[],"x":{"n":null,"f":2.5,"big":-9223372036854775808}}}
            """#)
        let yaml = try json.yamlText()
        let back = try JSONValue.parseYAMLDocuments(yaml)
        #expect(back == [json])
        // Order too, not just equality.
        #expect(back.first?.serializedString() == json.serializedString())
    }
}
