import CCFITSIO

/// FITS foundation over cfitsio and wcslib.
public enum FITS {
    /// The cfitsio library version, e.g. 4.02.
    public static var cfitsioVersion: Float {
        var v: Float = 0
        ffvers(&v)
        return v
    }
}
