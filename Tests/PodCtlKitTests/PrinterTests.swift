import Glibc
import PodModel
import Testing

@testable import PodCtlKit

/// 2026-11-25T14:11:12Z, the "now" of every printer test.
private let now = Double(Timestamp(rfc3339: "2026-11-25T14:11:12Z")?.seconds ?? 0)

/// A time `seconds` before `now`, as the API writes it.
private func ago(_ seconds: Double) -> JSONValue {
    .string(Timestamp(seconds: 0).adding(seconds: now - seconds).rfc3339)
}

private func table(_ rows: [[String]]) -> String {
    var writer = TabWriter.table()
    for row in rows { writer.row(row) }
    return writer.flush()
}

/// A pod as podd returns it: two containers, one restarted.
private let webPod: JSONValue = [
    "apiVersion": "v1", "kind": "Pod",
    "metadata": ["name": "web", "namespace": "default", "creationTimestamp": ago(300), "labels": ["app": "web", "tier": "front"],
                 "annotations": ["note": "hello"]],
    "spec": [
        "containers": [
            ["name": "app", "image": "busybox", "command": ["sh", "-c", "httpd -f"],
             "ports": [["containerPort": 8080, "protocol": "TCP"]],
             "readinessProbe": ["httpGet": ["path": "/", "port": 8080], "periodSeconds": 5]],
            ["name": "sidecar", "image": "busybox", "env": [["name": "MODE", "value": "tail"]]],
        ],
        "terminationGracePeriodSeconds": 30,
    ],
    "status": [
        "phase": "Running", "hostIP": "10.0.0.1", "podIP": "10.88.0.5", "podIPs": [["ip": "10.88.0.5"]],
        "startTime": ago(290),
        "conditions": [["type": "Initialized", "status": "True"], ["type": "Ready", "status": "False"],
                       ["type": "ContainersReady", "status": "False"], ["type": "PodScheduled", "status": "True"]],
        "containerStatuses": [
            ["name": "app", "ready": true, "restartCount": 0, "image": "busybox", "imageID": "",
             "state": ["running": ["startedAt": ago(280)]]],
            ["name": "sidecar", "ready": false, "restartCount": 3, "image": "busybox", "imageID": "",
             "state": ["waiting": ["reason": "CrashLoopBackOff", "message": "back-off 40s"]],
             "lastState": ["terminated": ["exitCode": 1, "reason": "Error", "startedAt": ago(15), "finishedAt": ago(10)]]],
        ],
    ],
]

/// kubectl's `get pods` (printPod), laid out by its tab writer (minwidth 6, padding 3).
@Suite struct GetPodsPrinterTests {
    @Test func tableAsKubectl() {
        let pending: JSONValue = [
            "metadata": ["name": "batch-job-1", "namespace": "default", "creationTimestamp": ago(86_400 * 3 + 3600 * 5)],
            "spec": ["initContainers": [["name": "init"]], "containers": [["name": "a"]]],
            "status": ["phase": "Pending",
                       "initContainerStatuses": [["name": "init", "restartCount": 0, "state": ["running": ["startedAt": ago(5)]]]],
                       "containerStatuses": [["name": "a", "restartCount": 0, "state": ["waiting": ["reason": "PodInitializing"]]]]],
        ]
        let rows = [PodRow.headers] + [webPod, pending].map { PodRow(pod: $0, now: now, localNode: { "box" }).cells(wide: false, withNamespace: false) }
        #expect(table(rows) == """
            NAME          READY   STATUS             RESTARTS      AGE
            web           1/2     CrashLoopBackOff   3 (10s ago)   5m
            batch-job-1   0/1     Init:0/1           0             3d5h

            """)
    }

    @Test func wideAndAllNamespaces() {
        let row = PodRow(pod: webPod, now: now, localNode: { "box" })
        let rows = [["NAMESPACE"] + PodRow.headers + PodRow.wideHeaders, row.cells(wide: true, withNamespace: true)]
        #expect(table(rows) == """
            NAMESPACE   NAME   READY   STATUS             RESTARTS      AGE   IP          NODE   NOMINATED NODE   READINESS GATES
            default     web    1/2     CrashLoopBackOff   3 (10s ago)   5m    10.88.0.5   box    <none>           <none>

            """)
    }

    /// (state of the only container, being deleted, STATUS).
    static let statusCases: [(JSONValue, Bool, String)] = [
        (["terminated": ["exitCode": 0, "reason": "Completed"]], false, "Completed"),
        (["terminated": ["exitCode": 137]], false, "ExitCode:137"),
        (["terminated": ["exitCode": 0, "signal": 9]], false, "Signal:9"),
        (["waiting": ["reason": "ErrImagePull"]], false, "ErrImagePull"),
        (["running": ["startedAt": "2026-11-25T14:00:00Z"]], true, "Terminating"),
    ]

    @Test(arguments: statusCases)
    func statusColumn(state: JSONValue, deleting: Bool, status: String) {
        var pod: JSONValue = [
            "metadata": ["name": "p", "creationTimestamp": ago(10)],
            "spec": ["containers": [["name": "a"]]],
            "status": ["phase": "Running", "containerStatuses": [["name": "a", "ready": false, "restartCount": 0, "state": state]]],
        ]
        if deleting { pod["metadata"]["deletionTimestamp"] = ago(-30) }
        #expect(PodRow(pod: pod, now: now).status == status)
    }

    static let ageCases: [(Double, String)] = [
        (0, "0s"), (59, "59s"), (119, "119s"), (120, "2m"), (185, "3m5s"), (600, "10m"), (3 * 3600 + 10, "3h"),
        (7 * 3600 + 60 * 7, "7h7m"), (30 * 3600, "30h"), (50 * 3600, "2d2h"), (20 * 86_400, "20d"),
        (3 * 365 * 86_400 + 5 * 86_400, "3y5d"), (9 * 365 * 86_400, "9y"), (-1, "0s"), (-5, "<invalid>"),
    ]

    @Test(arguments: ageCases)
    func agesAsKubectl(seconds: Double, text: String) {
        #expect(humanDuration(seconds) == text)
    }

    static let goDurationCases: [(Double, String)] = [
        (0, "0s"), (0.0004, "0s"), (0.512, "512ms"), (1, "1s"), (1.5, "1.5s"), (2.25, "2.25s"), (10.007, "10.007s"),
        (60, "1m0s"), (90, "1m30s"), (300, "5m0s"), (3600, "1h0m0s"), (3725.5, "1h2m5.5s"), (-2, "-2s"),
    ]

    /// Go's time.Duration.String, to the millisecond, as kubelet's messages print durations.
    @Test(arguments: goDurationCases)
    func durationsAsGo(seconds: Double, text: String) {
        #expect(goDuration(seconds) == text)
    }
}

/// kubectl's `events` table (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE).
@Suite struct EventsPrinterTests {
    @Test func tableAsKubectlEvents() {
        let events: [JSONValue] = [
            ["metadata": ["namespace": "default"], "type": "Warning", "reason": "BackOff", "count": 4,
             "firstTimestamp": ago(120), "lastTimestamp": ago(5),
             "involvedObject": ["kind": "Pod", "name": "web"], "message": "Back-off restarting failed container sidecar  \n",
             "source": ["component": "podd"]],
            ["metadata": ["namespace": "default"], "type": "Normal", "reason": "Started", "eventTime": "2026-11-25T14:10:00.000000Z",
             "involvedObject": ["kind": "Pod", "name": "web"], "message": "Started container app", "reportingController": "podd"],
        ]
        let sorted = EventFormat.sorted(events)
        let rows = [EventFormat.headers(withNamespace: false)] + sorted.map { EventFormat.cells($0, withNamespace: false, now: now) }
        #expect(table(rows) == """
            LAST SEEN         TYPE      REASON    OBJECT    MESSAGE
            72s               Normal    Started   Pod/web   Started container app
            5s (x4 over 2m)   Warning   BackOff   Pod/web   Back-off restarting failed container sidecar

            """)
        #expect(EventFormat.source(events[1]) == "podd")
    }

    @Test func terminalControlsInAMessageArePrintedVisibly() {
        // A probe's output in an event message must not clear the reader's screen or retitle
        // their terminal: ESC and CR as kubectl writes them, the other controls in caret or
        // \u notation.
        let event: JSONValue = ["metadata": ["namespace": "default"], "type": "Warning", "reason": "Unhealthy",
                                "eventTime": "2026-11-25T14:10:00.000000Z", "involvedObject": ["kind": "Pod", "name": "web"],
                                "message": "probe said \u{1b}[2J\u{1b}]0;owned\u{07}\r\u{9b}31mred\u{7f}", "reportingController": "podd"]
        let rows = [EventFormat.headers(withNamespace: false), EventFormat.cells(event, withNamespace: false, now: now)]
        let out = table(rows)
        #expect(out.hasSuffix("probe said ^[[2J^[]0;owned^G\\r\\u{9b}31mred^?\n"), "\(out)")
        #expect(!out.unicodeScalars.contains { $0.value == 0x1b || $0.value == 0x07 || $0.value == 0x9b || $0.value == 0x0d })
        #expect(TabWriter.escapingTerminalControls("plain text, ünïcode") == "plain text, ünïcode")
    }
}

/// kubectl's `describe pod` (describePod): its sections, in its order, with its layout.
@Suite struct DescribePrinterTests {
    init() {
        // Start Time is printed in the local zone, as kubectl prints it.
        setenv("TZ", "UTC", 1)
        tzset()
    }

    @Test func sectionsInKubectlOrder() {
        let text = PodDescription.render(pod: webPod, events: [], now: now, localNode: "box")
        let headings = text.split(separator: "\n").compactMap { line -> String? in
            guard let first = line.first, first != " ", let colon = line.firstIndex(of: ":") else { return nil }
            return String(line[..<colon])
        }
        #expect(headings == ["Name", "Namespace", "Node", "Start Time", "Labels", "Annotations", "Status", "IP", "IPs",
                             "Containers", "Conditions", "Volumes", "QoS Class", "Node-Selectors", "Tolerations", "Events"])
    }

    /// Go's tabwriter aligns a column over a run of lines that all have a cell in it: a line
    /// without a tab ("IPs:", "Command:") starts a new block, as in kubectl's own output.
    @Test func headerLinesAreAlignedAsKubectl() {
        let text = PodDescription.render(pod: webPod, events: nil, now: now, localNode: "box")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(11)) == [
            "Name:         web",
            "Namespace:    default",
            "Node:         box/10.0.0.1",
            "Start Time:   Wed, 25 Nov 2026 14:06:22 +0000",
            "Labels:       app=web",
            "              tier=front",
            "Annotations:  note: hello",
            "Status:       Running",
            "IP:           10.88.0.5",
            "IPs:",
            "  IP:  10.88.0.5",
        ])
        #expect(lines.contains("Events:             <none>"))
    }

    @Test func containersShowStateLastStateAndProbes() {
        let text = PodDescription.render(pod: webPod, events: nil, now: now, localNode: "box")
        for expected in [
            "  app:",
            "    Image:         busybox",
            "    Port:          8080/TCP",
            "    Host Port:     0/TCP",
            "    Command:",
            "      httpd -f",
            "    State:          Running",
            "    Ready:          True",
            "    Restart Count:  0",
            "    Readiness:      http-get http://:8080/ delay=0s timeout=1s period=5s #success=1 #failure=3",
            "  sidecar:",
            "    State:          Waiting",
            "      Reason:       CrashLoopBackOff",
            "    Last State:     Terminated",
            "      Reason:       Error",
            "      Exit Code:    1",
            "    Restart Count:  3",
            "      MODE:  tail",
            "    Mounts:  <none>",
            "  Initialized       True ",
            "Volumes:            <none>",
            "QoS Class:          BestEffort",
        ] {
            #expect(text.contains(expected + "\n"), "\(expected)\n---\n\(text)")
        }
    }

    @Test func eventsTableAsKubectl() {
        let events: [JSONValue] = [
            ["type": "Normal", "reason": "Pulled", "firstTimestamp": ago(280), "lastTimestamp": ago(280),
             "source": ["component": "podd"], "message": "Container image \"busybox\" already present on machine"],
            ["type": "Warning", "reason": "BackOff", "count": 3, "firstTimestamp": ago(60), "lastTimestamp": ago(10),
             "source": ["component": "podd"], "message": "Back-off restarting failed container"],
        ]
        let text = PodDescription.render(pod: webPod, events: events, now: now, localNode: "box")
        let tail = text.components(separatedBy: "Events:\n").last ?? ""
        #expect(tail == """
              Type     Reason   Age                From  Message
              ----     ------   ----               ----  -------
              Normal   Pulled   4m40s              podd  Container image "busybox" already present on machine
              Warning  BackOff  10s (x3 over 60s)  podd  Back-off restarting failed container

            """)
    }
}

/// `-o json` and `-o yaml` as kubectl prints them: keys sorted, four-space JSON with HTML
/// escapes, YAML through the shared writer.
@Suite struct ObjectOutputTests {
    @Test func jsonAndYamlAsKubectl() throws {
        let object: JSONValue = ["metadata": ["name": "web", "labels": ["z": "1", "a": "yes"]], "kind": "Pod", "apiVersion": "v1",
                                 "spec": ["note": "<b>&"]]
        let sorted = object.sortedKeys
        #expect(sorted.kubectlJSONText == """
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "labels": {
                        "a": "yes",
                        "z": "1"
                    },
                    "name": "web"
                },
                "spec": {
                    "note": "\\u003cb\\u003e\\u0026"
                }
            }

            """)
        #expect(try sorted.kubectlYAMLText() == """
            apiVersion: v1
            kind: Pod
            metadata:
              labels:
                a: "yes"
                z: "1"
              name: web
            spec:
              note: <b>&

            """)
    }
}

/// podctl reads times with podd's parser: the cases the two used to disagree on.
@Suite struct ClockTests {
    @Test(arguments: [
        "2026-11-25T14:11:12Z", "2026-11-25T14:11:12.123456789123Z", "2026-11-25t14:11:12z", "2026-11-25T16:11:12+02:00",
        "2026-11-25T14:11:12,5Z", "2026-11-25 14:11:12Z", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
        "2026-11-25T14:11:12.Z", "2026-11-25T14:11:12+2:00", "2026-11-25T25:00:00Z", "", "<unknown>",
    ])
    func agreesWithTimestamp(text: String) {
        let expected = Timestamp(rfc3339: text).map { Double($0.seconds) + Double($0.nanoseconds) / 1e9 }
        #expect(Clock.parseRFC3339(text) == expected)
    }

    @Test func ageOfUnreadableTimesIsUnknown() {
        #expect(Clock.age(since: "2026-11-25 14:11:12Z", now: now) == "<unknown>")
        #expect(Clock.age(since: "2026-11-25T14:11:02Z", now: now) == "10s")
        #expect(Clock.age(since: "", now: now) == "<unknown>")
    }
}

/// `podctl describe pdb|pc`, laid out as kubectl's describers lay them out (the integration
/// tests compare them with kubectl's own output).
@Suite struct PolicyDescriptionTests {
    @Test func aBudgetWithoutSelectorOrEvents() throws {
        let budget = try JSONValue.parse(Array(#"""
            {"metadata": {"name": "db", "namespace": "prod"}, "spec": {"maxUnavailable": 1},
             "status": {"disruptionsAllowed": 1, "currentHealthy": 3, "desiredHealthy": 2, "expectedPods": 3}}
            """#.utf8))
        #expect(PolicyDescription.disruptionBudget(budget, events: [], now: now) == """
            Name:             db
            Namespace:        prod
            Max unavailable:  1
            Selector:         <unset>
            Status:
                Allowed disruptions:  1
                Current:              3
                Desired:              2
                Total:                3
            Events:                   <none>

            """)
    }

    @Test func aBudgetsEventsAreATableOfTheirOwn() throws {
        let budget = try JSONValue.parse(Array(#"""
            {"metadata": {"name": "web", "namespace": "default"}, "spec": {"minAvailable": "50%",
             "selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["b", "a"]}], "matchLabels": {"z": "1", "app": "web"}}}}
            """#.utf8))
        let event = try JSONValue.parse(Array(#"""
            {"type": "Normal", "reason": "NoPods", "message": "No matching pods found", "count": 1,
             "source": {"component": "controllermanager"}}
            """#.utf8))
        var withTime = event
        withTime["lastTimestamp"] = ago(30)
        withTime["firstTimestamp"] = ago(30)
        let text = PolicyDescription.disruptionBudget(budget, events: [withTime], now: now)
        #expect(text.split(separator: "\n").map(String.init) == [
            "Name:           web", "Namespace:      default", "Min available:  50%", "Selector:       app=web,tier in (a,b),z=1",
            "Status:", "    Allowed disruptions:  0", "    Current:              0", "    Desired:              0",
            "    Total:                0", "Events:", "  Type    Reason  Age   From               Message",
            "  ----    ------  ----  ----               -------", "  Normal  NoPods  30s   controllermanager  No matching pods found",
        ])
    }

    @Test func aPriorityClass() throws {
        let priorityClass = try JSONValue.parse(Array(#"""
            {"metadata": {"name": "gold", "annotations": {"b": "2", "a": "1"}}, "value": 1000, "globalDefault": true,
             "preemptionPolicy": "Never", "description": "the important ones"}
            """#.utf8))
        #expect(PolicyDescription.priorityClass(priorityClass, events: [], now: now) == """
            Name:              gold
            Value:             1000
            GlobalDefault:     true
            PreemptionPolicy:  Never
            Description:       the important ones
            Annotations:       a=1,b=2
            Events:            <none>

            """)
    }
}
