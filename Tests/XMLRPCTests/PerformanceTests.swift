import Foundation
import Testing
@testable import XMLRPC

/// Large bodies decode in time linear in their size (loose bounds: debug builds, shared CPU).
@Suite(.timeLimit(.minutes(2))) struct PerformanceTests {
    @Test func aTenMegabyteCallDecodes() throws {
        let rows: [XMLRPCValue] = (0..<30_000).map { i in
            ["id": .int(i), "ra": .double(150.0 + Double(i) * 1e-6), "name": .string("source \(i) <&>"),
             "flags": [true, nil, .int(1 << 40)]]
        }
        let body = try XMLRPCRequest(methodName: "wsa.load", params: [.array(rows)]).encoded()
        #expect(body.count > 8_000_000)
        let clock = ContinuousClock()
        var decoded: XMLRPCRequest?
        let elapsed = try clock.measure { decoded = try XMLRPCRequest(decoding: body) }
        #expect(decoded?.params[0].arrayValue?.count == 30_000)
        #expect(decoded?.params[0][29_999]?["name"] == "source 29999 <&>")
        #expect(elapsed < .seconds(30), "decoding \(body.count) bytes took \(elapsed)")
        print("decoded \(body.count) bytes in \(elapsed)")
    }
}
