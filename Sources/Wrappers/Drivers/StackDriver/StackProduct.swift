public import Foundation
public import WrapperCore

/// What ``StackDriver`` wrote: a product MEF (empty primary + float32 image extensions) and its
/// confidence map (same layout, int16, median 100 on live pixels).
public struct StackProduct: Sendable, Equatable {
    /// ``FrameType/stack`` (the frames' detectors kept apart) or ``FrameType/mosaic`` (every
    /// detector on one image).
    public typealias Kind = FrameType

    /// One image extension of the product.
    public struct Extension: Sendable, Equatable {
        /// HDU number (primary = 1).
        public var hdu: Int
        /// CAMNUM of the detector it stacks (nil for a mosaic).
        public var camNum: Int?
        /// Size in pixels (NAXIS1, NAXIS2).
        public var width: Int
        public var height: Int
        /// MAGZPT written (the reference frame's, for that detector).
        public var magZpt: Double
        /// SKYLEVEL, SKYNOISE written: median and 1.4826 × MAD of the pixels with confidence > 0
        /// (ADU per exposure; the sky was subtracted by SWarp, so the level is near 0).
        public var skyLevel: Double
        public var skyNoise: Double
        /// Mean SEEING of the inputs (pixels of 0.4″), nil when none had one.
        public var seeing: Double?
    }

    public var kind: Kind
    /// The product and its confidence map, at the paths the caller asked for.
    public var image: URL
    public var confidence: URL
    /// The input image files, in the order co-added (the first is the reference frame).
    public var inputs: [URL]
    /// FILTER of the inputs.
    public var filter: String
    /// NICOMB: exposures combined, Σ NEXP × NICOMB of the inputs.
    public var exposures: Int
    /// EXP_TIME of the reference frame: pixel values are counts per exposure of this length.
    public var expTime: Double
    /// TEXPTIME: total time on sky of the inputs, Σ EXP_TIME × NEXP × NICOMB (seconds).
    public var totalExposure: Double
    /// MJD-OBS of the earliest input, MJD-END of the latest.
    public var mjdObs: Double
    public var mjdEnd: Double
    /// The image extensions, in HDU order.
    public var extensions: [Extension]

    /// NFRAMES: the number of input frames.
    public var frameCount: Int { inputs.count }
    /// MAGZPT of the first extension (every extension of a stack has its own).
    public var magZpt: Double { extensions.first?.magZpt ?? .nan }
}
