/// XML-RPC foundation: the value model, the codec for method calls and responses, and faults.
public enum XMLRPC {}
