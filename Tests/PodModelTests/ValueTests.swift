import Testing

@testable import PodModel

@Suite struct TimestampTests {
    @Test func formatsAsKubernetes() {
        let time = Timestamp(seconds: 1_795_615_872, nanoseconds: 123_456_789)
        #expect(time.rfc3339 == "2026-11-25T14:11:12Z")
        #expect(time.rfc3339Micro == "2026-11-25T14:11:12.123456Z")
        #expect(time.rfc3339Nano == "2026-11-25T14:11:12.123456789Z")
        #expect(Timestamp(seconds: 0).rfc3339 == "1970-01-01T00:00:00Z")
        #expect(Timestamp(seconds: -1).rfc3339 == "1969-12-31T23:59:59Z")
        #expect(Timestamp(seconds: 951_782_400).rfc3339 == "2000-02-29T00:00:00Z")
        #expect(Timestamp(seconds: 253_402_300_799).rfc3339 == "9999-12-31T23:59:59Z")
        // Leading zeros of the fraction; fields set past the range print as the range's end.
        #expect(Timestamp(seconds: 5, nanoseconds: 5_000).rfc3339Micro == "1970-01-01T00:00:05.000005Z")
        #expect(Timestamp(seconds: 5, nanoseconds: 7).rfc3339Nano == "1970-01-01T00:00:05.000000007Z")
        var late = Timestamp.latest
        late.seconds += 86_400 * 366
        #expect(late.rfc3339Micro == "9999-12-31T23:59:59.999999Z")
        var early = Timestamp.earliest
        early.seconds -= 86_400 * 800
        #expect(early.rfc3339 == "0001-01-01T00:00:00Z")
    }

    @Test func parsesWholeFractionalAndOffsetForms() {
        #expect(Timestamp(rfc3339: "2026-11-25T14:11:12Z") == Timestamp(seconds: 1_795_615_872))
        #expect(Timestamp(rfc3339: "2026-11-25T14:11:12.5Z") == Timestamp(seconds: 1_795_615_872, nanoseconds: 500_000_000))
        #expect(Timestamp(rfc3339: "2026-11-25T14:11:12.123456789123Z") == Timestamp(seconds: 1_795_615_872, nanoseconds: 123_456_789))
        #expect(Timestamp(rfc3339: "2026-11-25T16:11:12+02:00") == Timestamp(seconds: 1_795_615_872))
        #expect(Timestamp(rfc3339: "2026-11-25T13:41:12-00:30") == Timestamp(seconds: 1_795_615_872))
        #expect(Timestamp(rfc3339: "2026-11-25t14:11:12z") == Timestamp(seconds: 1_795_615_872))
        #expect(Timestamp(rfc3339: "1969-12-31T23:59:59Z") == Timestamp(seconds: -1))
    }

    @Test(arguments: [
        "", "2026-11-25", "2026-11-25T14:11:12", "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T14:11:12.Z", "2026-11-25T14:11:12Zx", "2026-11-25 14:11:12Z", "26-11-25T14:11:12Z",
    ])
    func refusesMalformed(text: String) {
        #expect(Timestamp(rfc3339: text) == nil)
    }

    @Test func roundTripsThroughText() {
        for seconds: Int64 in [0, 1, 86_399, 86_400, 1_795_615_872, 4_102_444_800, -86_401] {
            let time = Timestamp(seconds: seconds)
            #expect(Timestamp(rfc3339: time.rfc3339) == time)
        }
        let precise = Timestamp(seconds: 1_795_615_872, nanoseconds: 7)
        #expect(Timestamp(rfc3339: precise.rfc3339Nano) == precise)
    }

    @Test func arithmeticAndOrder() {
        let start = Timestamp(seconds: 100, nanoseconds: 900_000_000)
        let later = start.adding(seconds: 0.2)
        #expect(later == Timestamp(seconds: 101, nanoseconds: 100_000_000))
        #expect(abs(later.seconds(since: start) - 0.2) < 1e-9)
        #expect(start < later)
        #expect(start.adding(seconds: -1.5) == Timestamp(seconds: 99, nanoseconds: 400_000_000))
        #expect(start + .milliseconds(200) == later)
        #expect(later - start == .milliseconds(200))
        #expect(Timestamp(seconds: 1, nanoseconds: -1) == Timestamp(seconds: 0, nanoseconds: 999_999_999))
        #expect(Timestamp.now() > Timestamp(rfc3339: "2020-01-01T00:00:00Z") ?? Timestamp(seconds: 0))
    }
}

/// Issue 9, item 1: a huge grace period used to trap in `adding` and kill podd.
@Suite struct TimestampSaturationTests {
    let start = Timestamp(seconds: 1_795_615_872, nanoseconds: 5)

    @Test func movesBeyondTheRangeStopAtItsEnds() {
        #expect(start.adding(seconds: Double(Int64.max)) == .latest)
        #expect(start.adding(seconds: .infinity) == .latest)
        #expect(start.adding(seconds: 1e12) == .latest)
        #expect(start.adding(seconds: -Double(Int64.max)) == .earliest)
        #expect(start.adding(seconds: -.infinity) == .earliest)
        #expect(start.adding(seconds: .nan) == start)
        #expect(Timestamp.latest.adding(seconds: 1) == .latest)
        #expect(Timestamp.earliest.adding(seconds: -1) == .earliest)
        #expect(start + .seconds(Int64.max) == .latest)
        #expect(start + .seconds(Int64.min) == .earliest)
    }

    @Test func theEndsAreYearsOneAndNineThousandNineHundredNinetyNine() {
        #expect(Timestamp.latest.rfc3339Nano == "9999-12-31T23:59:59.999999999Z")
        #expect(Timestamp.earliest.rfc3339 == "0001-01-01T00:00:00Z")
        #expect(Timestamp(seconds: .max).rfc3339 == "9999-12-31T23:59:59Z")
        #expect(Timestamp(seconds: .min, nanoseconds: -1).rfc3339 == "0001-01-01T00:00:00Z")
        // What podd writes, it reads back.
        #expect(Timestamp(rfc3339: start.adding(seconds: 1e12).rfc3339Nano) == .latest)
        #expect(Timestamp(rfc3339: Timestamp.latest.rfc3339) == Timestamp(seconds: 253_402_300_799))
    }

    @Test func theLargestGracePeriodStaysAReadableTime() {
        let deadline = start.adding(seconds: Double(SecondsLimits.maximumGracePeriod))
        #expect(deadline < .latest)
        #expect(Timestamp(rfc3339: deadline.rfc3339) == Timestamp(seconds: deadline.seconds))
    }
}

@Suite struct QuantityTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1", 1), ("+5", 5), ("-5", -5), ("1.5", 2), ("100m", 1), ("0.1", 1),
        ("64Mi", 67_108_864), ("1Ki", 1024), ("1Gi", 1_073_741_824), ("1.5Gi", 1_610_612_736), ("2Ti", 2_199_023_255_552),
        ("1k", 1000), ("1M", 1_000_000), ("1G", 1_000_000_000), ("1T", 1_000_000_000_000), ("1.5G", 1_500_000_000),
        ("1e3", 1000), ("1E3", 1000), ("5e-1", 1), ("12e+2", 1200), (".5Ki", 512), ("1500u", 1), ("3n", 1),
        ("8Ei", Int64.max), ("0.000000000000000000001", 1),
    ])
    func parses(text: String, value: Int64) throws {
        if text == "8Ei" {
            #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: text) }
            return
        }
        let quantity = try Quantity(parsing: text)
        #expect(quantity.value == value)
        #expect(quantity.string == text)
    }

    @Test(arguments: ["", "Mi", "1 Mi", "1mi", "1K", "1.2.3", "abc", "1e", "1Mi5", "--1", "."])
    func refuses(text: String) {
        #expect(throws: Quantity.ParseError.self) { try Quantity(parsing: text) }
    }

    @Test func explainsWithKubernetesMessage() {
        do {
            _ = try Quantity(parsing: "lots")
            Issue.record("expected an error")
        } catch {
            #expect(error.reason == "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
        }
    }

    @Test func plainIntegerInitializer() {
        #expect(Quantity(4096).string == "4096")
        #expect(Quantity(4096).value == 4096)
    }
}

@Suite struct FieldPathTests {
    @Test func buildsKubernetesPaths() {
        let path = FieldPath.root.child("spec").child("containers").index(0).child("image")
        #expect(path.description == "spec.containers[0].image")
        #expect(FieldPath("metadata").child("annotations").key("podd.io/restart-scope").description
            == "metadata.annotations[podd.io/restart-scope]")
        #expect(FieldPath("spec").child("a", "b", "c").description == "spec.a.b.c")
        #expect(FieldPath.root.isRoot)
        #expect(FieldPath.root.index(2).description == "[2]")
    }
}
