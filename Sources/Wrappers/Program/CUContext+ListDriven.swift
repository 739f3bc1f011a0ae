import Foundation
import SystemSupport
public import WrapperCore
import Drivers
import Logging

extension CUContext {
    /// CU9: the forced measurements of `frames`, on both cores (``CatExDriver/measureSources(_:)``);
    /// the first frame that cannot be measured fails the batch with its error (an archived frame
    /// was read once already: a failure here is the archive's problem, not bad input).
    public func measureSources(_ frames: [RemeasurementFrame]) async throws -> [ForcedMeasurement] {
        var measured: [ForcedMeasurement] = []
        for (frame, result) in zip(frames, await parallelMap(frames) { try CatExDriver.measureSources($0) }) {
            switch result {
            case .success(let rows): measured += rows
            case .failure(let error):
                logger.error("cu9: \(frame.fileName) HDU \(frame.extNum): \(error)")
                throw error
            }
            workDone(0)
        }
        return measured
    }
}
