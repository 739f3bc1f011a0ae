import Foundation
import Testing
import TestSupport
@testable import AppDriver
@testable import WrapperCore

/// What happens to bad input: the reasons people read, the nights that stay not ready, the
/// catalogues whose rows cannot be keyed.
@Suite("Bad input rules")
struct BadInputRulesTests {
    @Test("a quarantine reason is one short printable line without machine paths")
    func quarantineReasons() {
        let raw = "/var/lib/wsa/archive/fits/20051012_v1/w20051012_00042_sf_st.fit: HDU 3: read keyword failed: "
            + "illegal character in keyword (keyword name 'NA\u{1}\u{2}\u{7F}XIS1\u{FFFD}' contains illegal characters; "
            + "'ABCDEFGHIJKLMNOPQRSTUVWXYZ' is not a number) in /tmp/wsa-cu3-123/scratch/x.fits."
        let reason = QuarantineReason.make(raw + String(repeating: " more", count: 100))
        #expect(reason.count <= QuarantineReason.maximumLength)
        #expect(reason.hasPrefix("w20051012_00042_sf_st.fit: HDU 3: read keyword failed"), "\(reason)")
        #expect(!reason.contains("/var/lib") && !reason.contains("/tmp/"), "\(reason)")
        #expect(reason.contains("'NA?XIS1?'"), "\(reason)")
        #expect(reason.contains("'ABCDEFGHIJKL…'"), "\(reason)")
        #expect(reason.unicodeScalars.allSatisfy { (0x20...0x7E).contains($0.value) || $0 == "…" })
        #expect(reason.hasSuffix("…"))
        #expect(QuarantineReason.make("") == "unreadable (no message)")
        #expect(QuarantineReason.make("HDU 2: 3 µm") == "HDU 2: 3 ?m")
        let record = QuarantineRecord(fileName: "f", movedTo: "m", reason: raw, cuID: 3)
        #expect(record.reason == QuarantineReason.make(raw))
    }

    @Test("a night not ready is reported once it has been so for the limit, and forgotten once ready")
    func nightWatch() throws {
        let spool = try TestEnvironment.temporaryDirectory("watch")
        defer { try? FileManager.default.removeItem(at: spool) }
        let watch = NightWatch(spool: spool.path, limit: 3600)
        let t0 = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(try watch.update(notReady: ["20051012_v1", "20051013_v1"], at: t0).isEmpty)
        #expect(try watch.update(notReady: ["20051012_v1", "20051013_v1"], at: t0 + 3599).isEmpty)
        let late = try watch.update(notReady: ["20051012_v1"], at: t0 + 3600)  // 20051013 became ready
        #expect(late.map(\.night) == ["20051012_v1"] && late[0].since == t0)
        // 20051013 is not ready again: its clock starts again.
        #expect(try watch.update(notReady: ["20051012_v1", "20051013_v1"], at: t0 + 4000).map(\.night) == ["20051012_v1"])
        #expect(try watch.update(notReady: [], at: t0 + 5000).isEmpty)
        #expect(watch.read().isEmpty)
    }

    @Test("a catalogue's Sequence_number must key its rows")
    func sequenceNumbers() {
        #expect(CASUCatalogue.sequenceProblem([1, 2, 3]) == nil)
        #expect(CASUCatalogue.sequenceProblem(nil) == nil)
        #expect(CASUCatalogue.sequenceProblem([1, 2, 2])?.contains("appears twice") == true)
        #expect(CASUCatalogue.sequenceProblem([1, .nan])?.contains("row 2") == true)
        #expect(CASUCatalogue.sequenceProblem([1.5]) != nil)
        #expect(CASUCatalogue.sequenceProblem([0]) != nil)
        #expect(CASUCatalogue.sequenceProblem([1e30]) != nil)
        #expect(CASUCatalogue.integer(Float(1e30), null: Int16(-99)) == -99)
        #expect(CASUCatalogue.integer(Float(-1), null: Int16(-99)) == -1)
    }

    @Test("COMPLETE sizes that disagree: the reason says what the marker lists and what was found")
    func readinessReason() {
        let night = Delivery.judge(night: "20051012_v1", marker: [("a.fit", 123)], present: ["a.fit": 456])
        #expect(!night.ready)
        #expect(night.reason == "COMPLETE lists 20051012_v1/a.fit at 123 bytes, found 456")
    }
}
