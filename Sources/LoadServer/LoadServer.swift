/// The load server core (`dbrpcserver`): the fenced write lease kept in PostgreSQL.
///
/// - ``WriteLease``: acquire, heartbeat, release and the write fence (`withFencedWrite`), over
///   the SQL functions of `sql/0002_lease.sql`.
/// - ``LeaseState``: the client side of the lease as a pure state machine.
/// - ``LoadServerError``: the layer's one error type, with stable codes that are XML-RPC fault
///   codes.
public enum LoadServer {}
