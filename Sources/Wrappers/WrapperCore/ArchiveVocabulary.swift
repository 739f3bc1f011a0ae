/// What a Multiframe row is: its `frameType` (a CASU frame, a product, or a confidence map).
public enum FrameType: String, Sendable, Hashable, CaseIterable {
    /// A single frame as CASU delivered it.
    case normal
    /// A co-add of a field's frames in one passband (CU13).
    case stack
    /// A mosaic of a programme's stacks in one passband (CU13).
    case mosaic
    /// A continuum-subtracted difference image (CU5).
    case diff
    /// A confidence map (of a frame or a product).
    case conf
}

/// What a TransferLog row is: its `fileType`, from the CASU file name.
public enum FileType: String, Sendable, Hashable, CaseIterable {
    /// A multi-extension image (`w…_sf_st.fit`).
    case image
    /// A confidence map (`w…_conf.fit`).
    case conf
    /// A catalogue of an image (`w…_sf_st_cat.fits`).
    case catalogue
    /// A night's COMPLETE marker.
    case marker
}

/// CASU's file names (formats/casu-wfcam.md §2): what a delivered file is, and the names of the
/// files that belong with an image.
public enum CASUName {
    static let catalogueSuffix = "_cat.fits", confidenceSuffix = "_conf.fit", imageSuffix = ".fit"

    /// The type of a delivered file by its name.
    public static func fileType(of name: String) -> FileType {
        if name.hasSuffix(catalogueSuffix) { return .catalogue }
        if name.hasSuffix(confidenceSuffix) { return .conf }
        return .image
    }

    /// The image a catalogue belongs to (`w…_sf_st_cat.fits` → `w…_sf_st.fit`), nil for other files.
    public static func image(ofCatalogue name: String) -> String? {
        name.hasSuffix(catalogueSuffix) ? String(name.dropLast(catalogueSuffix.count)) + imageSuffix : nil
    }

    /// An image's catalogue (`w…_sf_st.fit` → `w…_sf_st_cat.fits`).
    public static func catalogue(ofImage name: String) -> String {
        stem(name) + catalogueSuffix
    }

    /// The confidence map CASU names beside an image (`w…_sf_st.fit` → `w…_sf_st_conf.fit`).
    public static func confidence(ofImage name: String) -> String {
        stem(name) + confidenceSuffix
    }

    static func stem(_ name: String) -> String {
        name.hasSuffix(imageSuffix) ? String(name.dropLast(imageSuffix.count)) : name
    }
}
