import Foundation
import RPCContract
import Testing
import TestSupport
import TransactionFormat
@testable import AppDriver
@testable import WrapperCore

/// The ingest's rules, which live in the wrapper layer so they can be tested without a CU.
@Suite("Ingest rules")
struct IngestRulesTests {
    static func transfer(_ name: String, type: FileType, id: Int64 = 1, source: String? = nil) -> ArchivedTransfer {
        ArchivedTransfer(transferID: id, record: TransferRecord(
                             sourcePath: source ?? "20051012/\(name)", deliveredName: name,
                             fileName: "/archive/fits/20051012/\(name)", fileType: type, programmeID: 101, fileSize: 10,
                             checksum: "c", version: 1), deprecated: 0, timeStamp: 20051013000000)
    }

    @Test("CASU names: what a file is, and the files that belong with an image")
    func casuNames() {
        #expect(CASUName.fileType(of: "w20051012_00042_sf_st.fit") == .image)
        #expect(CASUName.fileType(of: "w20051012_00042_sf_st_conf.fit") == .conf)
        #expect(CASUName.fileType(of: "w20051012_00042_sf_st_cat.fits") == .catalogue)
        #expect(CASUName.image(ofCatalogue: "w20051012_00042_sf_st_cat.fits") == "w20051012_00042_sf_st.fit")
        #expect(CASUName.image(ofCatalogue: "w20051012_00042_sf_st.fit") == nil)
        #expect(CASUName.catalogue(ofImage: "w20051012_00042_sf_st.fit") == "w20051012_00042_sf_st_cat.fits")
        #expect(CASUName.confidence(ofImage: "w20051012_00042_sf_st.fit") == "w20051012_00042_sf_st_conf.fit")
        #expect(FrameIngest.relatedNames(Self.transfer("a_st.fit", type: .image)) == ["a_st_cat.fits", "a_st_conf.fit"])
        #expect(FrameIngest.relatedNames(Self.transfer("a_st_conf.fit", type: .conf)).isEmpty)
    }

    @Test("confidence maps are ingested before the images that point at them")
    func ingestOrder() {
        let files = [Self.transfer("b.fit", type: .image, id: 1), Self.transfer("a.fit", type: .image, id: 2),
                     Self.transfer("z_conf.fit", type: .conf, id: 3)]
        #expect(FrameIngest.ingestOrder(files).map(\.transferID) == [3, 2, 1])
    }

    @Test("a batch counts its files, new versions and bad files; the marker is not a file")
    func transferBatch() {
        func record(_ name: String, _ type: FileType, version: Int32) -> TransferRecord {
            TransferRecord(sourcePath: "n/\(name)", deliveredName: name, fileName: "/a/\(name)", fileType: type,
                           programmeID: 101, fileSize: 1, checksum: name, version: version)
        }
        var batch = TransferBatch(programme: "LAS")
        batch.add(.transferred(record("a.fit", .image, version: 1), supersedes: nil))
        batch.add(.transferred(record("b.fit", .image, version: 2), supersedes: 17))
        batch.add(.transferred(record("20051012/COMPLETE", .marker, version: 3), supersedes: 5))
        batch.add(.quarantined(QuarantineRecord(fileName: "n/c.fit", movedTo: "/q/c.fit", reason: "truncated", cuID: 1)))
        batch.add(.duplicate)
        #expect(batch.files == 2)
        #expect(batch.newVersions == 1)
        #expect(batch.superseded == [17, 5])
        #expect(batch.quarantined.count == 1)
        #expect(!batch.isEmpty && TransferBatch(programme: nil).isEmpty)
    }

    @Test("bad input is told from trouble of the archive, and its line names the file once")
    func badInput() {
        let bad = WrapperError(.unreadable, file: "20051012/x.fit", "HDU 2: truncated")
        #expect(bad.isBadInput && bad.isProductProblem)
        #expect(bad.line(naming: "other") == "20051012/x.fit: HDU 2: truncated")
        let keyword = WrapperError(.missingKeyword, "no FILTER")
        #expect(keyword.line(naming: "20051012/y.fit") == "20051012/y.fit: no FILTER")
        #expect(!WrapperError(.writeFailed, file: "/archive", "disk full").isBadInput)
        #expect(!WrapperError(.unreachable, "dbrpcserver").isProductProblem)
        #expect(WrapperError(.timedOut, tool: "SWarp", "ran past 600 s").isProductProblem)
        #expect(WrapperError(.init(.staleToken), "stale").isLeaseLost)
        #expect(WrapperError(.init(.staleToken), "stale").fault == .staleToken)
        #expect(WrapperError(.unreadable, "x").fault == nil)
    }

    @Test("a bookkeeping table's file names every column once, in the order its rows are written")
    func archiveTables() throws {
        let dir = try TestEnvironment.temporaryDirectory("tables")
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(ArchiveTables.transferLog.names == ["sourcePath", "deliveredName", "fileName", "fileType", "programmeID",
                                                     "fileSize", "checksum", "version", "cuEventID"])
        #expect(ArchiveTables.provenance.names.last == "cuEventID" && ArchiveTables.quarantine.names.last == "cuEventID")
        let records = (0..<3).map { ProvenanceRecord(combiframeID: 9, multiframeID: Int64($0), inputOrder: Int16($0)) }
        let data = try ArchiveTables.write(records, as: ArchiveTables.provenance, cuEventID: 4, into: dir)
        #expect(data.table == "Provenance" && data.rowCount == 3)
        let manifest = try TransactionFile.manifest(for: data.dataFile)
        #expect(manifest.columns == ArchiveTables.provenance.names)
        try TransactionFile.verify(data.dataFile, against: manifest)
    }
}
