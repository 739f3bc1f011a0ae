/// XML-RPC foundation: the value model (``XMLRPCValue``), a safe parser and encoder for method
/// calls and responses (``XMLRPCRequest``, ``XMLRPCResponse``), errors and faults
/// (``XMLRPCError``, ``XMLRPCFault``), and a socket-free dispatcher
/// (``XMLRPCMethodRegistry``) that the `dbrpcserver` HTTP layer drives.
///
/// The parser is our own and small: it never uses Foundation's `XMLParser` (libxml2). It
/// refuses document type declarations, entity declarations and references other than the five
/// predefined ones, processing instructions, over-deep nesting and over-long bodies
/// (``XMLRPCLimits``), so nothing in a body can make it fetch, expand or recurse beyond the
/// limits. It interoperates with Python's standard `xmlrpc.client`.
///
/// Wire notes worth knowing on the other side:
/// - Python's `xmlrpc.client` cannot *send* integers beyond 32 bits (`OverflowError`); it reads
///   the `<i8>` this codec writes for them. Method parameters Python must send that may exceed
///   2³¹ − 1 should be declared as strings or doubles.
/// - Python sends `None` only with `allow_none=True`, but always reads `<nil/>`.
/// - Strings holding control characters other than tab, LF and CR cannot travel in XML 1.0:
///   encoding refuses them (send bytes as `base64`).
public enum XMLRPC {
    /// The content type of XML-RPC bodies (what Python's `xmlrpc.client` sends and expects).
    public static let contentType = "text/xml"
    /// The conventional endpoint path.
    public static let path = "/RPC2"
}
