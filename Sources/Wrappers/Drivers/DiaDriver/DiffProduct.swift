public import Foundation

/// What ``DiaDriver`` wrote: a continuum-subtracted difference image (empty primary + one
/// float32 image extension per detector, on the H2 frame's pixel grid) and its confidence map
/// (same layout, int16, median 100 on live pixels).
public struct DiffProduct: Sendable, Equatable {
    /// Which input was convolved with a Gaussian to match the other's PSF.
    public enum Smoothed: String, Sendable, Equatable {
        /// The H2 frame was the sharper one.
        case h2 = "H2"
        /// The (resampled) K frame was the sharper one.
        case k = "K"
        /// The seeings agree (σ² differs by less than 0.01 pixel²): no convolution.
        case none = "NONE"
    }

    /// One image extension of the product (one detector).
    public struct Extension: Sendable, Equatable {
        /// HDU number (primary = 1), the same as the H2 frame's.
        public var hdu: Int
        /// CAMNUM of the detector, when the frames give it.
        public var camNum: Int?
        /// Size in pixels (NAXIS1, NAXIS2): the H2 extension's.
        public var width: Int
        public var height: Int
        /// MAGZPT written: the H2 extension's (pixel values are counts per H2 exposure).
        public var magZpt: Double
        /// KSCALE: the factor K was multiplied by, (t_H2 / t_K) · 10^(0.4 (Z_H2 − Z_K)) with
        /// Z = MAGZPT − EXTINCT·(airmass − 1) of this detector in each frame.
        public var kScale: Double
        /// PSFSIGMA: σ (H2 pixels) of the Gaussian the sharper image was convolved with,
        /// √(σ_broad² − σ_sharp²) with σ = FWHM / 2.3548; 0 when ``smoothed`` is `.none`.
        public var psfSigma: Double
        /// Which image was convolved.
        public var smoothed: Smoothed
        /// SEEING (FWHM, H2 pixels) of the H2 and of the resampled K image, from their SEEING
        /// keywords, else measured on the images.
        public var seeingH2: Double
        public var seeingK: Double
        /// SKYLEVEL, SKYNOISE written: median and 1.4826 × MAD of the difference on pixels with
        /// confidence (ADU per H2 exposure; the level is near 0).
        public var skyLevel: Double
        public var skyNoise: Double
    }

    /// The product and its confidence map, at the paths the caller asked for.
    public var image: URL
    public var confidence: URL
    /// The inputs: H2 − KSCALE × K.
    public var h2: URL
    public var k: URL
    /// EXP_TIME of the H2 frame: pixel values are counts per exposure of this length.
    public var expTime: Double
    /// The image extensions, in HDU order.
    public var extensions: [Extension]

    /// The mean of the extensions' K scale factors (each detector has its own, from its zero
    /// points; see ``Extension/kScale``).
    public var kScale: Double {
        extensions.isEmpty ? .nan : extensions.reduce(0) { $0 + $1.kScale } / Double(extensions.count)
    }

    /// The mean σ of the PSF-matching Gaussian over the extensions (see ``Extension/psfSigma``).
    public var psfSigma: Double {
        extensions.isEmpty ? .nan : extensions.reduce(0) { $0 + $1.psfSigma } / Double(extensions.count)
    }

    /// The image convolved on every extension, or nil when it differs between extensions.
    public var smoothed: Smoothed? {
        let kinds = Set(extensions.map(\.smoothed.rawValue))
        return kinds.count == 1 ? extensions.first?.smoothed : nil
    }

    /// MAGZPT of the first extension (every extension has its own: its H2 detector's).
    public var magZpt: Double { extensions.first?.magZpt ?? .nan }
}
