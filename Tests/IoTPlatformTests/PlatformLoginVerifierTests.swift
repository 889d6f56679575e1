//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation
import IoTPlatform
import Testing

/// Logins as the official samples (reference §1.5) build them, built by our builder and written by hand, checked by
/// the verifier; and every way a login is refused, with messages that name the client and never a secret.
@Suite struct PlatformLoginVerifierTests {
    static let secret = "testsecret"

    func makeVerifier() throws -> PlatformLoginVerifier {
        try PlatformLoginVerifier(consumerGroups: [
            .init(
                id: "DEFAULT_GROUP",
                accessKeys: [.init(accessKeyId: "testid", accessKeySecret: Self.secret)],
                users: [.init(user: "svc", password: "svc-password")]
            ),
            .init(id: "cg-other", accessKeys: [.init(accessKeyId: "otherid", accessKeySecret: "othersecret")]),
        ])
    }

    @Test(arguments: SignMethod.allCases)
    func acceptsLoginsOurBuilderMakes(method: SignMethod) throws {
        let login = try AMQPPlatformLogin(
            clientId: "backend-1", accessKeyId: "testid", accessKeySecret: Self.secret,
            consumerGroupId: "DEFAULT_GROUP", iotInstanceId: "iot-06z00frq8umvkx2", signMethod: method
        )
        let verified = try self.makeVerifier().verify(username: login.username, password: login.password).get()
        #expect(verified.consumerGroupId == "DEFAULT_GROUP")
        #expect(verified.clientId == "backend-1")
        guard case .signed(let username) = verified.method else {
            Issue.record("expected a signed login")
            return
        }
        #expect(username.signMethod == method)
        #expect(username.iotInstanceId == "iot-06z00frq8umvkx2")
    }

    @Test func acceptsAnSTSLogin() throws {
        let login = try AMQPPlatformLogin(
            clientId: "backend-1", accessKeyId: "testid", accessKeySecret: Self.secret, consumerGroupId: "DEFAULT_GROUP",
            iotInstanceId: nil, authMode: .ststoken, securityToken: "tok", timestamp: 1_573_489_088_171
        )
        #expect(login.password == "0ENYotd9bhII5x7Hb152Vn6O5DE=")
        let verified = try self.makeVerifier().verify(username: login.username, password: login.password).get()
        #expect(verified.consumerGroupId == "DEFAULT_GROUP")
    }

    /// The samples' usernames written out by hand, with the reference §1.4 password vector.
    @Test(arguments: [
        // Python 2.7 sample: legacy instance, empty iotInstanceId.
        "py-client|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=testid,iotInstanceId=,consumerGroupId=DEFAULT_GROUP|",
        // The parameter doc's order.
        "doc-client|iotInstanceId=iot-060a02ne,authMode=aksign,signMethod=hmacsha1,consumerGroupId=DEFAULT_GROUP,authId=testid,timestamp=1573489088171|",
        // Go sample: `Hmacsha1` with a capital H.
        "go-client|authMode=aksign,signMethod=Hmacsha1,consumerGroupId=DEFAULT_GROUP,authId=testid,iotInstanceId=iot-1,timestamp=1573489088171|",
        // Node sample's parameter table: a space before the `|`, no iotInstanceId at all.
        "test |authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=testid,consumerGroupId=DEFAULT_GROUP|",
    ])
    func acceptsHandWrittenSampleUsernames(username: String) throws {
        let verified = try self.makeVerifier().verify(username: username, password: "RG+3WYzI9qDD0P9m6ER+maK4yH0=").get()
        #expect(verified.consumerGroupId == "DEFAULT_GROUP")
    }

    @Test func acceptsHandWrittenMD5AndSHA256() throws {
        let verifier = try self.makeVerifier()
        let base = "c|authMode=aksign,signMethod=%@,timestamp=1573489088171,authId=testid,consumerGroupId=DEFAULT_GROUP|"
        for (method, password) in [("hmacmd5", "I/Tb6mPPa1CH7tc+1vO7lQ=="), ("hmacsha256", "dAMr0c09P/ECCozeLuJydCVfplDP8RzdvNouS3nf3EA=")] {
            let username = base.replacingOccurrences(of: "%@", with: method)
            #expect(throws: Never.self) { try verifier.verify(username: username, password: password).get() }
        }
    }

    @Test func refusesABadSignatureNamingTheClientNotTheSecret() throws {
        let username =
            "backend-7|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=testid,consumerGroupId=DEFAULT_GROUP|"
        let error = try #require(self.refusal(username, "RG+3WYzI9qDD0P9m6ER+maK4yH0X"))
        #expect(error.code == .loginRefused)
        #expect(error.message.contains("backend-7"))
        #expect(error.message.contains("signature"))
        #expect(!error.message.contains(Self.secret))
        #expect(!error.message.contains("RG+3WYzI9qDD0P9m6ER+maK4yH0"))
    }

    @Test func refusesASignatureOverAnotherTimestamp() throws {
        // The password signs the username's timestamp, so replaying it with a new timestamp fails.
        let username =
            "c|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088172,authId=testid,consumerGroupId=DEFAULT_GROUP|"
        #expect(self.refusal(username, "RG+3WYzI9qDD0P9m6ER+maK4yH0=") != nil)
    }

    @Test func refusesAnUnknownGroupAndAKeyOfAnotherGroup() throws {
        let unknownGroup = try #require(
            self.refusal(
                "c|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=testid,consumerGroupId=cg-nope|",
                "RG+3WYzI9qDD0P9m6ER+maK4yH0="
            )
        )
        #expect(unknownGroup.message.contains("unknown consumer group 'cg-nope'"))
        let login = try AMQPPlatformLogin(
            clientId: "c", accessKeyId: "otherid", accessKeySecret: "othersecret", consumerGroupId: "DEFAULT_GROUP",
            iotInstanceId: nil
        )
        let wrongKey = try #require(self.refusal(login.username, login.password))
        #expect(wrongKey.message.contains("AccessKey 'otherid' may not log in to consumer group 'DEFAULT_GROUP'"))
    }

    @Test(arguments: [
        ("no-bars", "unknown user"),
        ("c|authMode=aksign,signMethod=hmacsha1,timestamp=1,authId=testid,consumerGroupId=DEFAULT_GROUP", "layout"),
        ("c|authMode=aksign,signMethod=hmacsha1,timestamp=1,authId=testid|", "no consumerGroupId"),
        ("c|authMode=token,signMethod=hmacsha1,timestamp=1,authId=testid,consumerGroupId=DEFAULT_GROUP|", "authMode"),
        ("c|authMode=aksign,signMethod=sha1,timestamp=1,authId=testid,consumerGroupId=DEFAULT_GROUP|", "signMethod"),
        ("c|authMode=ststoken,signMethod=hmacsha1,timestamp=1,authId=testid,consumerGroupId=DEFAULT_GROUP|", "securityToken"),
        ("c|authMode=aksign,authMode=aksign,signMethod=hmacsha1,timestamp=1,authId=a,consumerGroupId=g|", "twice"),
        ("|authMode=aksign,signMethod=hmacsha1,timestamp=1,authId=testid,consumerGroupId=DEFAULT_GROUP|", "clientId"),
    ])
    func refusesMalformedUsernames(username: String, expected: String) throws {
        let error = try #require(self.refusal(username, "whatever"))
        #expect(error.code == .loginRefused)
        #expect(error.message.contains(expected), "\(error.message)")
    }

    @Test func plainUsers() throws {
        let verifier = try self.makeVerifier()
        let verified = try verifier.verify(username: "svc", password: "svc-password").get()
        #expect(verified.consumerGroupId == "DEFAULT_GROUP")
        #expect(verified.method == .plain(user: "svc"))
        let wrong = try #require(self.refusal("svc", "svc-passwore"))
        let unknown = try #require(self.refusal("nobody", "svc-password"))
        // The same words for both: a refusal does not tell which users exist.
        #expect(wrong.message.replacingOccurrences(of: "svc", with: "X") == unknown.message.replacingOccurrences(of: "nobody", with: "X"))
        #expect(!wrong.message.contains("svc-password"))
    }

    @Test func refusesAmbiguousConfiguration() {
        #expect(throws: PlatformError.self) {
            try PlatformLoginVerifier(consumerGroups: [.init(id: "a"), .init(id: "a")])
        }
        #expect(throws: PlatformError.self) {
            try PlatformLoginVerifier(consumerGroups: [
                .init(id: "a", users: [.init(user: "u", password: "p")]),
                .init(id: "b", users: [.init(user: "u", password: "q")]),
            ])
        }
        #expect(throws: PlatformError.self) {
            try PlatformLoginVerifier(consumerGroups: [.init(id: "a", users: [.init(user: "u|x", password: "p")])])
        }
    }

    @Test func neverShowsSecrets() throws {
        let verifier = try self.makeVerifier()
        var dumped = ""
        dump(verifier, to: &dumped)
        for text in ["\(verifier)", dumped, "\(verifier.consumerGroups["DEFAULT_GROUP"]!.accessKeys[0])"] {
            #expect(!text.contains(Self.secret))
            #expect(!text.contains("svc-password"))
        }
        #expect("\(verifier)".contains("testid"))
        let sts = try #require(
            self.refusal(
                "c|authMode=ststoken,securityToken=tok-secret,signMethod=hmacsha1,timestamp=1,authId=testid,"
                    + "consumerGroupId=DEFAULT_GROUP|",
                "bad"
            )
        )
        #expect(!sts.message.contains("tok-secret"))
    }

    @Test func constantTimeEquals() {
        #expect(PlatformLoginVerifier.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!PlatformLoginVerifier.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!PlatformLoginVerifier.constantTimeEquals([1, 2], [1, 2, 0xff]))
        #expect(!PlatformLoginVerifier.constantTimeEquals([], [0]))
        #expect(PlatformLoginVerifier.constantTimeEquals([], []))
    }

    private func refusal(_ username: String, _ password: String) -> PlatformError? {
        guard let verifier = try? self.makeVerifier() else { return nil }
        if case .failure(let error) = verifier.verify(username: username, password: password) { return error }
        return nil
    }
}
