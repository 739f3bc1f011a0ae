/// The load server core: the fenced write lease kept in PostgreSQL.
public enum LoadServer {}
