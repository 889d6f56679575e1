//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import IoTPlatform
import Testing

/// The reference §1.4 vectors, plus the username layout and the redaction rules.
@Suite struct AMQPPlatformLoginTests {
    static let timestamp: Int64 = 1_573_489_088_171

    func makeLogin(
        signMethod: SignMethod = .hmacsha1,
        authMode: AuthMode = .aksign,
        securityToken: String? = nil,
        iotInstanceId: String? = nil
    ) throws -> AMQPPlatformLogin {
        try AMQPPlatformLogin(
            clientId: "client-1",
            accessKeyId: "testid",
            accessKeySecret: "testsecret",
            consumerGroupId: "DEFAULT_GROUP",
            iotInstanceId: iotInstanceId,
            signMethod: signMethod,
            authMode: authMode,
            securityToken: securityToken,
            timestamp: Self.timestamp
        )
    }

    @Test(arguments: [
        (SignMethod.hmacsha1, "RG+3WYzI9qDD0P9m6ER+maK4yH0="),
        (SignMethod.hmacmd5, "I/Tb6mPPa1CH7tc+1vO7lQ=="),
        (SignMethod.hmacsha256, "dAMr0c09P/ECCozeLuJydCVfplDP8RzdvNouS3nf3EA="),
    ])
    func aksignPasswordMatchesReferenceVector(method: SignMethod, expected: String) throws {
        let login = try self.makeLogin(signMethod: method)
        #expect(login.stringToSign == "authId=testid&timestamp=1573489088171")
        #expect(login.password == expected)
    }

    @Test func ststokenPasswordMatchesReferenceVector() throws {
        let login = try self.makeLogin(authMode: .ststoken, securityToken: "tok")
        #expect(login.stringToSign == "authId=testid&securityToken=tok&timestamp=1573489088171")
        #expect(login.password == "0ENYotd9bhII5x7Hb152Vn6O5DE=")
    }

    @Test func usernameFollowsTheSampleLayout() throws {
        let legacy = try self.makeLogin()
        #expect(
            legacy.username
                == "client-1|authMode=aksign,signMethod=hmacsha1,timestamp=1573489088171,authId=testid,"
                + "iotInstanceId=,consumerGroupId=DEFAULT_GROUP|"
        )
        let sts = try self.makeLogin(
            signMethod: .hmacsha256,
            authMode: .ststoken,
            securityToken: "tok",
            iotInstanceId: "iot-06z00frq8umvkx2"
        )
        #expect(
            sts.username
                == "client-1|authMode=ststoken,signMethod=hmacsha256,securityToken=tok,timestamp=1573489088171,"
                + "authId=testid,iotInstanceId=iot-06z00frq8umvkx2,consumerGroupId=DEFAULT_GROUP|"
        )
    }

    @Test func descriptionNeverShowsSecretTokenOrPassword() throws {
        let login = try self.makeLogin(authMode: .ststoken, securityToken: "tok-SECRET")
        var dumped = ""
        dump(login, to: &dumped)
        for text in [login.description, login.debugDescription, "\(login)", String(reflecting: login), dumped] {
            #expect(!text.contains("testsecret"))
            #expect(!text.contains("tok-SECRET"))
            #expect(!text.contains(login.password))
            #expect(text.contains("client-1"))
        }
    }

    @Test func clientIdIsValidated() throws {
        let sixtyFour = String(repeating: "a", count: 64)
        #expect(throws: Never.self) { try AMQPPlatformLogin.validate(clientId: sixtyFour) }
        for bad in ["", sixtyFour + "a", "a|b", "a,b"] {
            #expect {
                try AMQPPlatformLogin.validate(clientId: bad)
            } throws: { error in
                (error as? PlatformError)?.code == .invalidClientId
            }
        }
    }

    @Test func missingValuesAreRejectedWithoutEchoingTheSecret() throws {
        #expect {
            try AMQPPlatformLogin(
                clientId: "c",
                accessKeyId: "id",
                accessKeySecret: "",
                consumerGroupId: "g",
                iotInstanceId: nil
            )
        } throws: { error in
            (error as? PlatformError)?.code == .invalidArgument
        }
        #expect {
            try self.makeLogin(authMode: .ststoken, securityToken: nil)
        } throws: { error in
            (error as? PlatformError)?.code == .invalidArgument
        }
    }

    @Test func signMethodParsesWithoutCase() {
        #expect(SignMethod(caseInsensitive: "Hmacsha1") == .hmacsha1)
        #expect(SignMethod(caseInsensitive: "HMACSHA256") == .hmacsha256)
        #expect(SignMethod(caseInsensitive: "sha1") == nil)
    }
}
