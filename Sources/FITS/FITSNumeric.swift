import CCFITSIO

/// A Swift number type that cfitsio reads and writes directly (pixels and table columns).
public protocol FITSNumeric: Sendable, Numeric {
    /// cfitsio's datatype code (TSHORT, TINT, TFLOAT …).
    static var cfitsioType: Int32 { get }
}

extension UInt8: FITSNumeric { public static var cfitsioType: Int32 { TBYTE } }
extension Int16: FITSNumeric { public static var cfitsioType: Int32 { TSHORT } }
extension UInt16: FITSNumeric { public static var cfitsioType: Int32 { TUSHORT } }
extension Int32: FITSNumeric { public static var cfitsioType: Int32 { TINT } }
extension Int64: FITSNumeric { public static var cfitsioType: Int32 { TLONGLONG } }
extension Float: FITSNumeric { public static var cfitsioType: Int32 { TFLOAT } }
extension Double: FITSNumeric { public static var cfitsioType: Int32 { TDOUBLE } }

extension Array where Element: FITSNumeric {
    /// `count` values filled by cfitsio through `fill`, which gets room for exactly `count`
    /// values and must write every one of them or throw. Not `Array(repeating:count:)`: in a
    /// generic function of this module that initialiser is not specialised for the caller's
    /// type and copies each element through a value-witness call (a tenth of cu2's CPU).
    init(cfitsioFilling count: Int, _ fill: (UnsafeMutableRawPointer?) throws -> Void) rethrows {
        self = try Array(unsafeUninitializedCapacity: count) { buffer, initialised in
            try fill(buffer.baseAddress.map(UnsafeMutableRawPointer.init))
            initialised = count  // only once cfitsio has written them all
        }
    }
}
