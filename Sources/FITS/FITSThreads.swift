import CCFITSIO
import Foundation

/// Reading and writing FITS files from several threads. Debian's cfitsio is built reentrant
/// (different files on different threads); a cfitsio that is not runs one body at a time.
public enum FITSThreads {
    /// Whether this cfitsio may work on different files on different threads at once.
    public static let isReentrant = fits_is_reentrant() != 0
    private static let lock = NSLock()

    /// Runs `body` alone when cfitsio is not thread-safe, at once when it is.
    public static func serialised<R>(_ body: () throws -> R) rethrows -> R {
        if isReentrant { return try body() }
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }
}
