import Foundation
import Hummingbird
import LoadServer
import Logging
import NIOCore
import XMLRPC
import HTTPTypes
import TransactionFormat
import RPCContract

/// The daemon's HTTP surface: `POST /RPC2` (XML-RPC), `PUT /spool/<sha256>` (transaction file
/// upload), `GET /healthz`, `GET /metrics`.
struct RPCRoutes: Sendable {
    let service: CurationService
    let registry: XMLRPCMethodRegistry
    let authenticator: Authenticator
    let metrics: ServerMetrics
    let maxBodyBytes: Int
    let maxUploadBytes: Int
    let logger: Logger

    func install(on router: Router<BasicRequestContext>) {
        router.post(RouterPath(XMLRPC.path)) { request, context in try await rpc(request, context) }
        router.put("/spool/:checksum") { request, context in try await upload(request, context) }
        router.get("/healthz") { _, _ in await health() }
        router.get("/metrics") { _, _ in await scrape() }
    }

    // MARK: XML-RPC

    func rpc(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let caller = authenticator.authenticate(authorization: request.headers[.authorization]) else {
            return unauthorized(request)
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            await drain(request.body)
            return tooLarge(length: length)
        }
        var body = ByteBuffer()
        for try await chunk in request.body {
            if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                await drain(request.body)
                return tooLarge(length: nil)
            }
            body.writeImmutableBuffer(chunk)
        }
        let bytes = body.readableBytesView
        if Self.declaresDoctypeOrEntity(bytes) {
            metrics.refused("doctype")
            logger.warning("refused an XML-RPC body with a DOCTYPE or entity declaration from \(caller.user)")
            return plain(.badRequest, "XML with a DOCTYPE or entity declaration is refused\n")
        }
        let rpcContext = XMLRPCCallContext(caller: caller.user, role: caller.role)
        let response: XMLRPCResponse
        var method = "(unparsable)"
        do throws(XMLRPCError) {
            let call = try XMLRPCRequest(decoding: bytes, limits: registry.limits)
            method = registry.method(named: call.methodName) != nil || call.methodName.hasPrefix("system.")
                ? call.methodName : "(unknown)"
            response = await registry.respond(to: call, context: rpcContext)
        } catch {
            response = .fault(error.fault)
        }
        var faultCode: Int?
        if case .fault(let fault) = response {
            faultCode = fault.code
            logger.notice("\(caller.user): \(method) -> fault \(fault.code): \(fault.string)")
        } else {
            logger.debug("\(caller.user): \(method) ok")
        }
        metrics.call(method, faultCode: faultCode)
        return Response(status: .ok, headers: [.contentType: "text/xml; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: response.encodedOrFault())))
    }

    /// True when the body declares a DOCTYPE or an entity (`<!DOCTYPE`, `<!ENTITY`): refused
    /// before parsing, whatever the parser would do.
    static func declaresDoctypeOrEntity(_ bytes: some Collection<UInt8>) -> Bool {
        let pattern: [UInt8] = Array("<!".utf8)
        var previous: UInt8 = 0
        var index = bytes.startIndex
        while index != bytes.endIndex {
            let byte = bytes[index]
            if previous == pattern[0] && byte == pattern[1] {
                let rest = bytes[bytes.index(after: index)...].prefix(7)
                let word = String(decoding: rest, as: UTF8.self).uppercased()
                if word.hasPrefix("DOCTYPE") || word.hasPrefix("ENTITY") { return true }
            }
            previous = byte
            index = bytes.index(after: index)
        }
        return false
    }

    // MARK: Upload

    func upload(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        guard let caller = authenticator.authenticate(authorization: request.headers[.authorization]) else {
            return unauthorized(request)
        }
        guard caller.role == LoadServerMethods.curator else {
            return plain(.forbidden, "role \(caller.role) may not upload\n")
        }
        let checksum = context.parameters.get("checksum") ?? ""
        guard CurationService.isChecksum(checksum) else {
            metrics.refused("bad_request")
            return plain(.badRequest, "the path must be /spool/<SHA-256 of the data, lower-case hex>\n")
        }
        guard let encoded = request.headers[HTTPField.Name("X-WSA-Manifest")!],
              let manifest = Data(base64Encoded: encoded) else {
            metrics.refused("bad_request")
            return plain(.badRequest, "the X-WSA-Manifest header (the manifest's JSON, base64) is missing or not base64\n")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxUploadBytes {
            return tooLarge(length: length)
        }
        let temporary = try service.makeUploadFile()
        defer { try? FileManager.default.removeItem(at: temporary) }
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            return plain(.internalServerError, "cannot write to the spool\n")
        }
        var total = 0
        do {
            defer { try? handle.close() }
            for try await buffer in request.body {
                total += buffer.readableBytes
                if total > maxUploadBytes { return tooLarge(length: nil) }
                try handle.write(contentsOf: buffer.readableBytesView)
            }
        }
        do {
            let stored = try await service.spool(manifestJSON: Array(manifest), data: temporary)
            guard stored.sha256 == checksum else {
                return plain(.badRequest, "the manifest's checksum \(stored.sha256) is not the one in the path\n")
            }
            logger.info("\(caller.user) uploaded transaction file \(checksum.prefix(12))… (\(total) bytes, \(stored.rowCount) rows for \(stored.table))")
            return plain(.created, "\(checksum)\n")
        } catch let error as LoadServerError {
            metrics.refused("bad_request")
            return plain(.unprocessableContent, "\(error.message)\n")
        }
    }

    // MARK: Health and metrics

    func health() async -> Response {
        do {
            let lease = try await service.leaseStatus()
            return plain(.ok, "ok: database reachable, lease \(lease.state.rawValue) (token \(lease.token)), \(service.openSteps.count) open run(s)\n")
        } catch {
            return plain(.serviceUnavailable, "unhealthy: \(error)\n")
        }
    }

    func scrape() async -> Response {
        let lease = try? await service.leaseStatus()
        let body = metrics.render(lease: lease, openRunCount: service.openSteps.count)
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    // MARK: Responses

    func unauthorized(_ request: Request) -> Response {
        metrics.refused("unauthorized")
        logger.warning("refused \(request.method) \(request.uri.path): missing or wrong credentials")
        return Response(status: .unauthorized,
                        headers: [.wwwAuthenticate: "Basic realm=\"dbrpcserver\", charset=\"UTF-8\"",
                                  .contentType: "text/plain; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: "authentication required: HTTP Basic with a dbrpcserver user\n")))
    }

    /// Reads and drops the rest of a refused body (up to 256 MiB), so that the client, still
    /// sending, gets to read the refusal.
    func drain(_ body: RequestBody) async {
        var dropped = 0
        do {
            for try await chunk in body {
                dropped += chunk.readableBytes
                if dropped > 256 << 20 { break }
            }
        } catch {}
    }

    func tooLarge(length: Int?) -> Response {
        metrics.refused("too_large")
        logger.warning("refused a request body of \(length.map { "\($0) bytes" } ?? "more than the limit")")
        return plain(.contentTooLarge, "request body too large (limit \(maxBodyBytes) bytes for XML-RPC, \(maxUploadBytes) for uploads)\n",
                     close: true)
    }

    func plain(_ status: HTTPResponse.Status, _ text: String, close: Bool = false) -> Response {
        var headers: HTTPFields = [.contentType: "text/plain; charset=utf-8"]
        if close { headers[.connection] = "close" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
