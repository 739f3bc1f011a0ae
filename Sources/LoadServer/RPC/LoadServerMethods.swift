import Foundation
import Curation
import RPCContract
import SystemSupport
public import XMLRPC
import TransactionFormat

/// dbrpcserver's XML-RPC methods over a ``CurationService``.
///
/// Roles: `curator` may call everything; `reader` only the methods that read (lease status,
/// runs, server information) and `system.*`. Times are ISO 8601 UTC strings; fencing tokens are
/// ints (a string of digits is accepted too); faults carry ``LoadServerError`` codes.
public enum LoadServerMethods {
    /// The role that writes.
    public static let curator = "curator"
    /// The role that may only read.
    public static let reader = "reader"

    /// The registry of every method, with help texts and signatures. Each method is a call of
    /// the contract (``RPC``): its parameters are decoded and its result encoded by the same
    /// code the client uses.
    public static func registry(service: CurationService, resumer: RunResumer?,
                                limits: XMLRPCLimits = .default) -> XMLRPCMethodRegistry {
        var registry = XMLRPCMethodRegistry(limits: limits)
        let readers = XMLRPCMethodAccess.roles(curator, reader)
        let curators = XMLRPCMethodAccess.roles(curator)
        let startedAt = Date()

        registry.register(RPC.ServerInfo.self, access: readers) { _ in
            RPC.ServerInfo.Result(
                version: WSAVersion.current, startedAt: startedAt, spool: service.transactionDirectory.path,
                defaultLeaseSeconds: service.configuration.defaultLeaseTTL.secondsValue,
                openRuns: service.openSteps.map {
                    RPC.ServerInfo.OpenRun(cuEventID: $0.cuEventID, token: $0.token, holder: $0.holder, since: $0.since)
                })
        }
        registry.register(RPC.LeaseStatusCall.self, access: readers) { _ in try await service.leaseStatus() }
        registry.register(RPC.WriteLock.self, access: curators) { p in
            let arrived = ContinuousClock.now
            var grant = try await service.acquire(holder: p.holder, ttl: p.ttl, wait: min(p.wait, .seconds(600)))
            grant.waited = arrived.duration(to: .now)
            return grant
        }
        registry.register(RPC.Heartbeat.self, access: curators) { p in
            try await service.heartbeat(holder: p.holder, token: p.token, ttl: p.ttl)
        }
        registry.register(RPC.WriteUnlock.self, access: curators) { p in
            try await service.release(holder: p.holder, token: p.token)
        }
        registry.register(RPC.BeginStep.self, access: curators) { p in
            try await service.beginStep(token: p.token, p.run)
        }
        registry.register(RPC.UpdateCurationLog.self, access: curators) { p in
            try await service.finishStep(token: p.token, cuEventID: p.cuEventID, succeeded: p.status == .succeeded,
                                         message: p.message)
        }
        registry.register(RPC.LoadTransactionData.self, access: curators) { p in
            try await service.load(token: p.token, cuEventID: p.cuEventID, checksum: p.checksum)
        }
        registry.register(RPC.UploadTransactionFile.self, access: curators) { p in
            let temporary = try service.makeUploadFile()
            defer { try? FileManager.default.removeItem(at: temporary) }
            try Data(p.data).write(to: temporary)
            return try await service.spool(manifestJSON: Array(p.manifest.utf8), data: temporary).sha256
        }
        registry.register(RPC.ListRuns.self, access: readers) { p in
            try await service.runs(status: p.status, limit: p.limit)
        }
        registry.register(RPC.FailedRuns.self, access: readers) { _ in try await service.resumableRuns() }
        registry.register(RPC.Resume.self, access: curators) { dryRun in
            guard let resumer else {
                throw LoadServerError(.invalidArgument, "resume is not configured on this server")
            }
            return resumer.resume(try await service.resumableRuns(), dryRun: dryRun)
        }
        registry.register(RPC.ReserveIDs.self, access: curators) { p in
            try await service.reserveIDs(token: p.token, table: p.table, count: p.count)
        }
        registry.register(RPC.Deprecate.self, access: curators) { p in
            try await service.deprecate(token: p.token, cuEventID: p.cuEventID, table: p.table, ids: p.ids, code: p.code)
        }
        registry.register(RPC.CallProcedure.self, access: curators) { p in
            try await service.callProcedure(token: p.token, cuEventID: p.cuEventID, name: p.name, arguments: p.arguments)
        }
        return registry
    }
}

extension XMLRPCMethodRegistry {
    /// Registers a call of the contract: its name, help and signatures come from the contract,
    /// its parameters are decoded and its result encoded there; a ``LoadServerError`` becomes its
    /// fault.
    mutating func register<Call: RPCCall>(_ call: Call.Type, access: XMLRPCMethodAccess,
                                          _ body: @escaping @Sendable (Call.Params) async throws -> Call.Result) {
        register(Call.method.rawValue, help: Call.help, signatures: Call.signatures, access: access) { _, params in
            do {
                return Call.encode(result: try await body(try Call.decode(params: params)))
            } catch let error as LoadServerError {
                throw error.fault
            }
        }
    }
}
