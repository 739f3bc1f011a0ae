import Foundation
import Testing
@testable import XMLRPC

@Suite struct ValueTests {
    @Test func literalsBuildEveryCase() {
        let v: XMLRPCValue = ["n": 1, "d": 2.5, "b": true, "s": "x", "a": [1, "two", nil], "z": nil]
        #expect(v["n"] == .int(1))
        #expect(v["d"] == .double(2.5))
        #expect(v["b"] == .bool(true))
        #expect(v["s"] == .string("x"))
        #expect(v["a"] == .array([.int(1), .string("two"), .nil]))
        #expect(v["a"]?[2]?.isNil == true)
        #expect(v["z"] == .nil)
        #expect(v["missing"] == nil)
        #expect(v[0] == nil)
        #expect(v.type == .struct)
    }

    @Test func accessorsAreTypeStrictExceptIntToDouble() {
        #expect(XMLRPCValue.int(3).intValue == 3)
        #expect(XMLRPCValue.int(3).doubleValue == 3.0)
        #expect(XMLRPCValue.double(3).intValue == nil)
        #expect(XMLRPCValue.string("3").intValue == nil)
        #expect(XMLRPCValue.bool(true).intValue == nil)
        #expect(XMLRPCValue.base64([1, 2]).bytesValue == [1, 2])
        #expect(XMLRPCValue.array([]).arrayValue == [])
        #expect(XMLRPCValue.struct([:]).structValue == [:])
        let dt = XMLRPCDateTime(year: 2005, month: 10, day: 12, hour: 10, minute: 11, second: 12)!
        #expect(XMLRPCValue.dateTime(dt).dateTimeValue == dt)
    }

    @Test func convertibleSwiftTypes() throws {
        #expect(XMLRPCValue(42) == .int(42))
        #expect(XMLRPCValue(Int32(-7)) == .int(-7))
        #expect(XMLRPCValue(Int64(1) << 40) == .int(1 << 40))
        #expect(Int32(xmlrpcValue: .int(1 << 40)) == nil)
        #expect(Int64(xmlrpcValue: .int(1 << 40)) == 1 << 40)
        #expect(XMLRPCValue("é") == .string("é"))
        #expect(XMLRPCValue(Float(0.5)) == .double(0.5))
        #expect(XMLRPCValue(Data([0, 255])) == .base64([0, 255]))
        #expect(Data(xmlrpcValue: .base64([9])) == Data([9]))
        #expect(XMLRPCValue([1, 2, 3]) == .array([1, 2, 3]))
        #expect([Int](xmlrpcValue: .array([1, "x"])) == nil)
        #expect(XMLRPCValue(["a": [1.5]]) == .struct(["a": .array([.double(1.5)])]))
        #expect([String: [Double]](xmlrpcValue: .struct(["a": .array([.int(1)])])) == ["a": [1.0]])
        let none: Int? = nil
        #expect(XMLRPCValue(none) == .nil)
        #expect(XMLRPCValue(Optional(5)) == .int(5))
        #expect(Int?(xmlrpcValue: .nil) == .some(nil))
        #expect(Int?(xmlrpcValue: .string("x")) == nil)

        let date = Date(timeIntervalSince1970: 1_129_111_872)  // 2005-10-12T10:11:12Z
        #expect(XMLRPCValue(date) == .dateTime(XMLRPCDateTime(year: 2005, month: 10, day: 12, hour: 10, minute: 11, second: 12)!))
        #expect(Date(xmlrpcValue: XMLRPCValue(date)) == date)
    }

    @Test func parameterAndMemberHelpersNameTheProblem() throws {
        let params: [XMLRPCValue] = ["cu13", 300, ["night": "20051012"]]
        #expect(try params.parameter(0, as: String.self) == "cu13")
        #expect(try params.parameter(1, as: Double.self) == 300)
        #expect(try params.parameter(3, as: Int?.self) == nil)
        let e1 = #expect(throws: XMLRPCError.self) { try params.parameter(1, as: String.self) }
        #expect(e1?.code == .invalidParameters)
        #expect(e1?.message == "parameter 2 should be string, got int")
        let e2 = #expect(throws: XMLRPCError.self) { try params.parameter(5, as: Int.self) }
        #expect(e2?.message == "parameter 6 (int) is missing")
        #expect(try params[2].member("night", as: String.self) == "20051012")
        #expect(try params[2].member("programme", as: String?.self) == nil)
        let e3 = #expect(throws: XMLRPCError.self) { try params[2].member("programme", as: String.self) }
        #expect(e3?.message == "struct member 'programme' is missing")
    }

    @Test func dateTimeValidatesAndConverts() throws {
        #expect(XMLRPCDateTime(year: 2005, month: 2, day: 29) == nil)
        #expect(XMLRPCDateTime(year: 2004, month: 2, day: 29) != nil)
        #expect(XMLRPCDateTime(year: 1900, month: 2, day: 29) == nil)
        #expect(XMLRPCDateTime(year: 2000, month: 2, day: 29) != nil)
        #expect(XMLRPCDateTime(year: 0, month: 1, day: 1) == nil)
        #expect(XMLRPCDateTime(year: 2005, month: 10, day: 12, hour: 24) == nil)
        let dt = try #require(XMLRPCDateTime(parsing: "20051012T10:11:12"))
        #expect(dt.description == "20051012T10:11:12")
        #expect(XMLRPCDateTime(parsing: "2005-10-12T10:11:12") == dt)
        #expect(XMLRPCDateTime(parsing: "20051012T101112Z") == dt)
        #expect(XMLRPCDateTime(parsing: "20051012T10:11:12Z") == dt)
        #expect(XMLRPCDateTime(parsing: "20051012 10:11:12") == nil)
        #expect(XMLRPCDateTime(parsing: "20051312T10:11:12") == nil)
        #expect(XMLRPCDateTime(parsing: "2005101xT10:11:12") == nil)
        #expect(dt.date.timeIntervalSince1970 == 1_129_111_872)
        // Both ends of the range and dates before 1970 convert both ways.
        for t in [-62_135_596_800.0, 253_402_300_799, -1, 0, 951_782_400, 4_107_542_400] {
            let d = try #require(XMLRPCDateTime(Date(timeIntervalSince1970: t)))
            #expect(d.date.timeIntervalSince1970 == t)
        }
        #expect(XMLRPCDateTime(Date(timeIntervalSince1970: -62_135_596_801)) == nil)
        #expect(XMLRPCDateTime(Date(timeIntervalSince1970: 1.9))?.second == 1)
        #expect(XMLRPCDateTime(parsing: "00010101T00:00:00")!.description == "00010101T00:00:00")
        #expect(XMLRPCDateTime(year: 2005, month: 1, day: 1)! < dt)
    }

    @Test func descriptionIsPythonLike() {
        let v: XMLRPCValue = ["a": [1, 2.5, "x", nil, true], "b": .base64([0x41, 0x00])]
        #expect(v.description == "{\"a\": [1, 2.5, \"x\", None, True], \"b\": b'A\\x00'}")
    }

    @Test func errorsAndFaultsMapOneToOne() {
        let codes: [XMLRPCError.Code] = [.parseError, .unsupportedEncoding, .invalidCharacter, .invalidXMLRPC,
                                         .methodNotFound, .invalidParameters, .internalError, .applicationError,
                                         .systemError, .transportError, .notAuthorized]
        #expect(codes.map(\.rawValue) == [-32700, -32701, -32702, -32600, -32601, -32602, -32603, -32500, -32400, -32300, -32001])
        #expect(Set(codes).count == codes.count)
        for code in codes {
            let e = XMLRPCError(code, "m", detail: "secret")
            #expect(e.faultCode == code.rawValue)
            #expect(e.fault == XMLRPCFault(code: code.rawValue, string: "m"))
            #expect(XMLRPCError(e.fault).code == code)
            #expect(code.isReserved)
            #expect(!e.description.contains("secret"))
            #expect(e.debugDescription.contains("secret"))
        }
        let app = XMLRPCError.Code(rawValue: 1001)
        #expect(!app.isReserved)
        #expect(app.name == "application error 1001")
        let f = XMLRPCFault(code: 4, string: "Too many parameters.")
        #expect(XMLRPCFault(f.value) == f)
        #expect(XMLRPCFault(.struct(["faultCode": "4"])) == nil)
    }
}
