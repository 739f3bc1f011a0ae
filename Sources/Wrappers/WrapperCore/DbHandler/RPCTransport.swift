import AsyncHTTPClient
import Curation
import Foundation
import NIOCore
import NIOHTTP1
import XMLRPC
import AppDriver
import RPCContract
import SystemSupport

/// XML-RPC calls and spool uploads to dbrpcserver over HTTP(S), with Basic credentials.
struct RPCTransport: Sendable {
    let endpoint: URL
    let authorization: String
    let client: HTTPClient
    let timeout: TimeAmount

    init(url: String, user: String, password: String, timeout: Duration) throws(WrapperError) {
        guard let endpoint = URL(string: url), let scheme = endpoint.scheme?.lowercased(),
              scheme == "http" || scheme == "https", endpoint.host != nil else {
            throw WrapperError(.configuration, "[rpc] url \"\(url)\" is not an http(s) URL")
        }
        self.endpoint = endpoint
        self.authorization = "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        self.client = HTTPClient.shared
        self.timeout = .nanoseconds(Int64(timeout.secondsValue * 1e9))
    }

    /// Calls a method of the contract and decodes its answer; a fault becomes a
    /// ``WrapperError`` with its code, an answer of the wrong shape ``WrapperError/Code/badResponse``.
    func call<Call: RPCCall>(_ call: Call.Type, _ params: Call.Params) async throws(WrapperError) -> Call.Result {
        let value = try await self.call(Call.method.rawValue, Call.encode(params))
        do {
            return try Call.decode(result: value)
        } catch {
            throw WrapperError(.badResponse, error.description)
        }
    }

    /// The same, blocking the calling thread and never touching Swift's cooperative pool (for the
    /// lease's own thread, which must beat even while the CU keeps every task busy).
    func callBlocking<Call: RPCCall>(_ call: Call.Type, _ params: Call.Params,
                                     timeout: Duration? = nil) throws(WrapperError) -> Call.Result {
        let value = try callBlocking(Call.method.rawValue, Call.encode(params), timeout: timeout)
        do {
            return try Call.decode(result: value)
        } catch {
            throw WrapperError(.badResponse, error.description)
        }
    }

    /// Calls `method` and returns its value; a fault becomes a ``WrapperError`` with its code.
    private func call(_ method: String, _ params: [XMLRPCValue]) async throws(WrapperError) -> XMLRPCValue {
        var request = HTTPClientRequest(url: endpoint.absoluteString)
        request.method = .POST
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: try Self.encode(method, params)))
        return try Self.decode(method, try await send(request, what: method))
    }

    /// The same call, blocking the calling thread and never touching Swift's cooperative pool
    /// (for the heartbeat thread, which must beat even while the CU keeps every task busy).
    private func callBlocking(_ method: String, _ params: [XMLRPCValue], timeout: Duration?) throws(WrapperError)
        -> XMLRPCValue
    {
        let limit = timeout.map { TimeAmount.nanoseconds(Int64($0.secondsValue * 1e9)) } ?? self.timeout
        let body = try Self.encode(method, params)
        let bytes: ByteBuffer
        do {
            let request = try HTTPClient.Request(url: endpoint.absoluteString, method: .POST,
                                                 headers: HTTPHeaders(headers), body: .bytes(body))
            let response = try client.execute(request: request, deadline: .now() + limit).wait()
            guard response.status.code == 200 else {
                throw WrapperError(response.status.code == 401 ? .notAuthorized : .badResponse,
                                     "\(method): HTTP \(response.status.code) from dbrpcserver")
            }
            bytes = response.body ?? ByteBuffer()
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.unreachable, "\(method): cannot reach dbrpcserver at \(endpoint.absoluteString): \(error)")
        }
        return try Self.decode(method, bytes)
    }

    /// The headers of every XML-RPC call.
    private var headers: [(String, String)] {
        [("Content-Type", "text/xml; charset=utf-8"), ("Authorization", authorization),
         ("User-Agent", "wsa-dbhandler")]
    }

    private static func encode(_ method: String, _ params: [XMLRPCValue]) throws(WrapperError) -> [UInt8] {
        do {
            return try XMLRPCRequest(methodName: method, params: params).encoded()
        } catch {
            throw WrapperError(.badResponse, "\(method): cannot encode the call: \(error.message)")
        }
    }

    /// The value of an XML-RPC response body; a fault becomes a ``WrapperError`` with its code.
    private static func decode(_ method: String, _ bytes: ByteBuffer) throws(WrapperError) -> XMLRPCValue {
        let response: XMLRPCResponse
        do {
            response = try XMLRPCResponse(decoding: bytes.readableBytesView)
        } catch {
            throw WrapperError(.badResponse, "\(method): the server's answer is not XML-RPC: \(error.message)")
        }
        do {
            return try response.get()
        } catch {
            throw WrapperError(WrapperError.Code(rawValue: error.code), "\(method): \(error.string)")
        }
    }

    /// Uploads a transaction file to the server's spool (`PUT /spool/<sha256>`).
    func upload(data: URL, manifestJSON: Data, checksum: String) async throws(WrapperError) {
        var spool = URLComponents(url: endpoint, resolvingAgainstBaseURL: false)
        spool?.path = "/spool/\(checksum)"
        var request = HTTPClientRequest(url: spool?.url?.absoluteString ?? endpoint.absoluteString)
        request.method = .PUT
        request.headers.add(name: "Authorization", value: authorization)
        request.headers.add(name: "X-WSA-Manifest", value: manifestJSON.base64EncodedString())
        request.headers.add(name: "Content-Type", value: "application/octet-stream")
        let size: Int
        do {
            size = (try FileManager.default.attributesOfItem(atPath: data.path)[.size] as? Int) ?? 0
        } catch {
            throw WrapperError(.configuration, "cannot read \(data.path): \(error.localizedDescription)")
        }
        request.body = .stream(FileChunks(path: data.path), length: .known(Int64(size)))
        _ = try await send(request, what: "upload of \(data.lastPathComponent)")
    }

    private func send(_ request: HTTPClientRequest, what: String) async throws(WrapperError) -> ByteBuffer {
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 256 << 20)
            switch response.status.code {
            case 200, 201:
                return body
            case 401, 403:
                throw WrapperError(.notAuthorized,
                                     "\(what): dbrpcserver at \(endpoint.host ?? "?") refused the credentials of [rpc] user (HTTP \(response.status.code))")
            case 422:
                let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
                throw WrapperError(.init(.transactionFileRefused), "\(what): \(text.prefix(500))")
            default:
                let text = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
                throw WrapperError(.badResponse, "\(what): HTTP \(response.status.code) from dbrpcserver: \(text.prefix(300))")
            }
        } catch let error as WrapperError {
            throw error
        } catch {
            throw WrapperError(.unreachable, "\(what): cannot reach dbrpcserver at \(endpoint.absoluteString): \(error)")
        }
    }
}

/// A file as 1 MiB byte buffers, read as the upload asks for them.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { throw WrapperError(.configuration, "cannot open the file to upload") }
            let data = try handle.read(upToCount: 1 << 20) ?? Data()
            if data.isEmpty {
                try? handle.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: FileHandle(forReadingAtPath: path)) }
}
