import Foundation
import Testing
import TestSupport
@testable import XMLRPC
import SystemSupport

/// Mutates valid bodies at random (deterministic seed): decoding never crashes or hangs, and
/// the dispatcher always answers with a well-formed response.
@Suite(.timeLimit(.minutes(3))) struct FuzzTests {
    static let tokens: [[UInt8]] = [
        "<", ">", "/>", "</", "<value>", "</value>", "<struct>", "</struct>", "<member>", "<name>", "<array>",
        "<data>", "<int>", "<i8>", "<double>", "<string>", "<base64>", "<nil/>", "<boolean>", "&", "&amp;", "&#",
        "&#x", ";", "&lt", "<!--", "-->", "<![CDATA[", "]]>", "<!DOCTYPE x>", "<!ENTITY", "<?", "?>", "\"", "'",
        "=", " ", "\n", "\r", "\u{0}", "é", "\u{FFFF}", "9999999999999999999999", "1e999", "nan", "-", "+",
        "<methodCall>", "</methodCall>", "<methodResponse>", "<fault>", "<params>", "<param>", "x:", "ex:",
    ].map { Array($0.utf8) } + [[0xFF], [0xC0], [0xE6, 0x97], [0xED, 0xA0, 0x80], [0xEF, 0xBB, 0xBF]]

    static func seeds() throws -> [[UInt8]] {
        let registryCall = try XMLRPCRequest(methodName: "math.add", params: [1, 2]).encoded()
        let multicall = try XMLRPCRequest(methodName: "system.multicall", params: [[
            ["methodName": "math.add", "params": [1, 2]], ["methodName": "text.upper", "params": ["x"]],
        ]]).encoded()
        let python = Array("""
        <?xml version='1.0'?>
        <methodCall>
        <methodName>wsa.curate</methodName>
        <params>
        <param>
        <value><struct>
        <member>
        <name>night</name>
        <value><dateTime.iso8601>20051012T10:11:12</dateTime.iso8601></value>
        </member>
        <member>
        <name>data</name>
        <value><base64>
        AAECAw==
        </base64></value>
        </member>
        </struct></value>
        </param>
        <param><value><array><data><value><i8>1099511627776</i8></value><value><nil/></value><value>bare</value></data></array></value></param>
        </params>
        </methodCall>
        """.utf8)
        let response = try XMLRPCResponse.success(Samples.nested).encoded()
        let fault = try XMLRPCResponse.fault(.init(code: 4, string: "Too many <parameters>")).encoded()
        return [registryCall, multicall, python, response, fault]
    }

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var b = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let op = Int.random(in: 0..<7, using: &rng)
            let i = b.isEmpty ? 0 : Int.random(in: 0..<b.count, using: &rng)
            switch op {
            case 0 where !b.isEmpty:  // flip a byte
                b[i] = UInt8.random(in: 0...255, using: &rng)
            case 1:  // insert a token
                b.insert(contentsOf: tokens.randomElement(using: &rng)!, at: i)
            case 2 where !b.isEmpty:  // delete a range
                let j = min(b.count, i + Int.random(in: 1...32, using: &rng))
                b.removeSubrange(i..<j)
            case 3 where !b.isEmpty:  // duplicate a range
                let j = min(b.count, i + Int.random(in: 1...64, using: &rng))
                b.insert(contentsOf: b[i..<j], at: j)
            case 4:  // truncate
                b.removeSubrange(i...)
            case 5 where !b.isEmpty:  // swap two bytes
                let j = Int.random(in: 0..<b.count, using: &rng)
                b.swapAt(i, j)
            default:  // replace a byte with an ASCII markup character
                if !b.isEmpty { b[i] = Array("<>&;/=\"' ".utf8).randomElement(using: &rng)! }
            }
        }
        return b
    }

    @Test func mutatedBodiesNeverCrash() throws {
        var rng = SplitMix64(seed: 0x5EED_0001)
        let seeds = try Self.seeds()
        var accepted = 0, refused: [Int: Int] = [:]
        for _ in 0..<30_000 {
            let body = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            do throws(XMLRPCError) {
                let r = try XMLRPCRequest(decoding: body)
                accepted += 1
                // Whatever decodes re-encodes (or names the character it cannot carry) and
                // decodes back to the same call.
                if let again = try? r.encoded() {
                    #expect(try XMLRPCRequest(decoding: again) == r)
                }
            } catch {
                refused[error.faultCode, default: 0] += 1
                #expect(!error.message.isEmpty)
            }
            do throws(XMLRPCError) { _ = try XMLRPCResponse(decoding: body) } catch {
                #expect(error.code.isReserved)
            }
        }
        // The mix exercised both outcomes and several refusal codes.
        #expect(accepted > 100)
        #expect(refused.keys.count >= 4, "\(refused)")
    }

    @Test func dispatcherAlwaysAnswersWellFormed() async throws {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let seeds = try Self.seeds()
        let registry = RegistryTests.sampleRegistry()
        for _ in 0..<3_000 {
            let body = Self.mutate(seeds.randomElement(using: &rng)!, &rng)
            let reply = await registry.handle(body: body, context: RegistryTests.tester)
            #expect(throws: Never.self) { try XMLRPCResponse(decoding: reply) }
        }
    }
}
