import Curation
public import AppDriver
import RPCContract

extension DbHandler {
    /// CU6 within `step`: the spatial attributes (cx, cy, cz, l, b) of the detections of
    /// `frames` and of their CurrentAstrometry rows, computed on the load server
    /// (`curation.cu6_spatial`); each frame recorded in SpatialIndexLog. Returns the detections
    /// updated.
    public func createSpatialAttributes(programmeID: Int32, frames: [Int64], in step: Step) async throws(WrapperError) -> Int64 {
        guard !frames.isEmpty else { return 0 }
        return try await callProcedure("cu6_spatial", [.int(Int64(programmeID)), .int(Int64(step.cuEventID)), .intArray(frames)],
                                       in: step)
    }

    /// CU8 within `step`: merges up to `count` of the programme's due frame sets on the load
    /// server (`curation.cu8_merge`: frame sets, pairing, MergeLog and Source rows, seaming).
    /// Returns the frame sets merged or retired.
    public func mergeFrameSets(programmeID: Int32, count: Int, in step: Step) async throws(WrapperError) -> Int64 {
        try await callProcedure("cu8_merge", [.int(Int64(programmeID)), .int(Int64(step.cuEventID)), .int(Int64(count)),
                                              .text(WSAVersion.current)], in: step)
    }

    /// The q3c ipix of the whole sky, as a half-open range.
    public static let wholeSky: Range<Int64> = 0..<Int64.max

    /// CU8 within `step`, one part of a merge on several sessions: merges up to `count` of the
    /// due frame sets whose centre lies in `ipix` (q3c ipix, half open). Frame sets that nothing
    /// outside the range may overlap are seamed at once; the sources of the others keep
    /// priOrSec -99999999 (not seamed) for ``markSeams(programmeID:in:)`` and
    /// ``seamSources(programmeID:ipix:in:)`` (`seam` false), or are seamed in the same call
    /// (`seam` true). Touches no row outside the range unless `seam`, so steps of disjoint
    /// ranges can be open at once. Returns the frame sets merged or retired.
    public func mergeFrameSets(programmeID: Int32, count: Int, ipix: Range<Int64>, seam: Bool,
                               in step: Step) async throws(WrapperError) -> Int64 {
        try await callProcedure("cu8_merge", [.int(Int64(programmeID)), .int(Int64(step.cuEventID)), .int(Int64(count)),
                                              .text(WSAVersion.current), .int(ipix.lowerBound), .int(ipix.upperBound),
                                              .int(seam ? 1 : 0)], in: step)
    }

    /// CU8 within `step`: marks for seaming every source near a frame set whose seaming is due
    /// (`curation.cu8_seam_mark`), the one part of the seaming that crosses ipix ranges: run it
    /// alone, after the merges of every range and before their seams. Returns the sources marked.
    public func markSeams(programmeID: Int32, in step: Step) async throws(WrapperError) -> Int64 {
        try await callProcedure("cu8_seam_mark", [.int(Int64(programmeID))], in: step)
    }

    /// CU8 within `step`: seams the sources marked for it whose frame set's centre lies in `ipix`
    /// (`curation.cu8_seam`), reading their neighbours whatever their range. Steps of disjoint
    /// ranges can be open at once. Returns the sources seamed.
    public func seamSources(programmeID: Int32, ipix: Range<Int64>, in step: Step) async throws(WrapperError) -> Int64 {
        try await callProcedure("cu8_seam", [.int(Int64(programmeID)), .int(ipix.lowerBound), .int(ipix.upperBound)],
                                in: step)
    }
}
