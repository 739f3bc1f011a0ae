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
}
