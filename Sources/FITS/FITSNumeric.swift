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
