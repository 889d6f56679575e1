//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform
import Testing

@testable import Simulator

/// Transcripts of the gateway checks: each signs a request as a client would and asserts the decision.
@Suite struct OpenAPIRequestAuthenticatorTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T…Z

    /// A request signed with `secret`, as OpenAPIClient signs one.
    static func signed(
        _ extra: [String: String] = [:],
        secret: String = "testsecret",
        keyId: String = "testid",
        nonce: String = UUID().uuidString,
        at date: Date = Self.now,
        method: String = "POST"
    ) -> [String: String] {
        var parameters = [
            "Action": "QueryConsumerGroupList", "Format": "JSON", "Version": "2018-01-20", "AccessKeyId": keyId,
            "SignatureMethod": "HMAC-SHA1", "SignatureVersion": "1.0", "SignatureNonce": nonce,
            "Timestamp": OpenAPISignature.timestamp(date), "RegionId": "cn-shanghai",
        ]
        for (key, value) in extra { parameters[key] = value }
        parameters["Signature"] = OpenAPISignature.sign(method: method, parameters: parameters, accessKeySecret: secret)
        return parameters
    }

    static func authenticator() -> OpenAPIRequestAuthenticator {
        OpenAPIRequestAuthenticator(accessKeys: ["testid": "testsecret"], timestampTolerance: .seconds(15 * 60))
    }

    static func refusal(
        _ auth: inout OpenAPIRequestAuthenticator,
        _ parameters: [String: String],
        method: String = "POST",
        at now: Date = Self.now
    ) -> SimulatedAPIError? {
        do {
            _ = try auth.authenticate(method: method, parameters: parameters, now: now)
            return nil
        } catch {
            return error
        }
    }

    @Test func aCorrectlySignedRequestPassesAndNamesItsKey() throws {
        var auth = Self.authenticator()
        let key = try auth.authenticate(method: "POST", parameters: Self.signed(), now: Self.now)
        #expect(key == "testid")
        // GET signs with GET in the string to sign.
        #expect(Self.refusal(&auth, Self.signed(method: "GET"), method: "GET") == nil)
    }

    @Test func theReferenceWorkedExampleVerifies() throws {
        // Reference §6.6, the IoT doc's own example (GET, Version 2017-04-20): our check must accept the
        // documented signature. Only the version differs from what this endpoint serves, so check the
        // signature through the shared signer the authenticator uses.
        let parameters = [
            "MessageContent": "aGVsbG93b3JsZA=", "Action": "Pub", "Timestamp": "2017-10-02T09:39:41Z",
            "SignatureVersion": "1.0", "ServiceCode": "iot", "Format": "XML", "Qos": "0",
            "SignatureNonce": "0715a395-aedf-4a41-bab7-746b43d38d88", "Version": "2017-04-20",
            "AccessKeyId": "testid", "SignatureMethod": "HMAC-SHA1", "RegionId": "cn-shanghai",
            "ProductKey": "12345abcdeZ", "TopicFullName": "/productKey/testdevice/get",
        ]
        #expect(
            OpenAPISignature.sign(method: "GET", parameters: parameters, accessKeySecret: "testsecret")
                == "Y9eWn4nF8QPh3c4zAFkM/k/u7eA="
        )
    }

    @Test func aWrongSignatureIsRefusedAndEchoesTheStringToSign() {
        var auth = Self.authenticator()
        let error = Self.refusal(&auth, Self.signed(secret: "wrongsecret"))
        #expect(error?.code == "SignatureDoesNotMatch")
        #expect(error?.httpStatus == 400)
        #expect(error?.message.contains("POST&%2F&AccessKeyId%3Dtestid") == true)
        #expect(error?.message.contains("testsecret") == false)
        // A parameter changed after signing breaks the signature too.
        var tampered = Self.signed()
        tampered["PageSize"] = "1000"
        #expect(Self.refusal(&auth, tampered)?.code == "SignatureDoesNotMatch")
        // So does signing for POST and sending GET.
        #expect(Self.refusal(&auth, Self.signed(), method: "GET")?.code == "SignatureDoesNotMatch")
    }

    @Test func anUnknownAccessKeyIsRefusedWith404() {
        var auth = Self.authenticator()
        let error = Self.refusal(&auth, Self.signed(keyId: "LTAIunknown"))
        #expect(error?.code == "InvalidAccessKeyId.NotFound")
        #expect(error?.httpStatus == 404)
    }

    @Test func aReplayedNonceIsRefusedEvenWithAFreshSignature() {
        var auth = Self.authenticator()
        #expect(Self.refusal(&auth, Self.signed(nonce: "n-1")) == nil)
        #expect(Self.refusal(&auth, Self.signed(nonce: "n-1"))?.code == "SignatureNonceUsed")
        // The very same request, replayed a minute later.
        let request = Self.signed(nonce: "n-2")
        #expect(Self.refusal(&auth, request) == nil)
        #expect(Self.refusal(&auth, request, at: Self.now.addingTimeInterval(60))?.code == "SignatureNonceUsed")
        // A request refused for its signature does not burn its nonce.
        #expect(Self.refusal(&auth, Self.signed(secret: "bad", nonce: "n-3"))?.code == "SignatureDoesNotMatch")
        #expect(Self.refusal(&auth, Self.signed(nonce: "n-3")) == nil)
    }

    @Test func timestampsOutsideFifteenMinutesAreRefused() {
        var auth = Self.authenticator()
        let late = Self.signed(at: Self.now.addingTimeInterval(-15 * 60 - 1))
        #expect(Self.refusal(&auth, late)?.code == "InvalidTimeStamp.Expired")
        let early = Self.signed(at: Self.now.addingTimeInterval(15 * 60 + 1))
        #expect(Self.refusal(&auth, early)?.code == "InvalidTimeStamp.Expired")
        #expect(Self.refusal(&auth, Self.signed(at: Self.now.addingTimeInterval(-14 * 60))) == nil)
        var malformed = Self.signed()
        malformed["Timestamp"] = "2026-11-18 10:00:00"
        #expect(Self.refusal(&auth, malformed)?.code == "InvalidTimeStamp.Format")
        #expect(OpenAPIRequestAuthenticator.parseTimestamp("2026-11-18T10:00:00.123Z") != nil)
        #expect(OpenAPIRequestAuthenticator.parseTimestamp("2026-02-30T10:00:00Z") == nil)
    }

    @Test func missingCommonParametersAreNamed() {
        var auth = Self.authenticator()
        for name in OpenAPIRequestAuthenticator.commonParameters {
            var parameters = Self.signed()
            parameters[name] = nil
            let error = Self.refusal(&auth, parameters)
            #expect(error?.code == "Missing\(name)", "\(name)")
            #expect(error?.message.contains(name) == true)
        }
        #expect(Self.refusal(&auth, Self.signed(["Version": "2017-04-20"]))?.code == "InvalidVersion")
        #expect(Self.refusal(&auth, Self.signed(["SignatureMethod": "HMAC-SHA256"]))?.code == "InvalidSignatureMethod")
        #expect(Self.refusal(&auth, Self.signed(["Format": "XML"]))?.code == "InvalidParameter.Format")
    }

    @Test func oldNoncesAreForgottenOnceTheirTimestampIsOutOfTheWindow() {
        var auth = Self.authenticator()
        for n in 0..<50 { #expect(Self.refusal(&auth, Self.signed(nonce: "old-\(n)")) == nil) }
        #expect(auth.rememberedNonces == 50)
        let later = Self.now.addingTimeInterval(16 * 60)
        #expect(Self.refusal(&auth, Self.signed(nonce: "new", at: later), at: later) == nil)
        #expect(auth.rememberedNonces == 1)
    }
}
