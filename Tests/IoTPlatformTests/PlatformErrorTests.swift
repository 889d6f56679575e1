//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import IoTPlatform
import Testing

/// PlatformError follows the project's error shape (AMQPError): a stable code, an actionable message naming the
/// context, and no secret.
@Suite struct PlatformErrorTests {
    @Test func codesSpellThemselvesInKebabCase() {
        #expect("\(PlatformError.Code.invalidClientId)" == "invalid-client-id")
        #expect("\(PlatformError.Code.invalidArgument)" == "invalid-argument")
        #expect("\(PlatformError.Code.loginRefused)" == "login-refused")
        #expect(PlatformError(.loginRefused, "m") == PlatformError(code: .loginRefused, message: "m"))
    }

    @Test func anInvalidClientIdNamesItAndHidesTheSecret() {
        let secret = "ak-secret-5ZbYx"
        #expect {
            _ = try AMQPPlatformLogin(
                clientId: "bad|client", accessKeyId: "testid", accessKeySecret: secret,
                consumerGroupId: "DEFAULT_GROUP", iotInstanceId: nil
            )
        } throws: { error in
            guard let error = error as? PlatformError else { return false }
            let text = error.description
            let ok =
                error.code == .invalidClientId && text.hasPrefix("PlatformError(invalid-client-id): ")
                && text.contains("bad|client") && !text.contains(secret)
            if !ok { Issue.record("got \(text)") }
            return ok
        }
    }

    @Test func aRefusedLoginNamesTheClientAndNotThePassword() throws {
        let verifier = try PlatformLoginVerifier(consumerGroups: [
            .init(id: "DEFAULT_GROUP", accessKeys: [.init(accessKeyId: "testid", accessKeySecret: "right-secret")])
        ])
        let login = try AMQPPlatformLogin(
            clientId: "backend-9", accessKeyId: "testid", accessKeySecret: "wrong-secret-Q7",
            consumerGroupId: "DEFAULT_GROUP", iotInstanceId: nil
        )
        guard case .failure(let error) = verifier.verify(username: login.username, password: login.password) else {
            Issue.record("a wrong secret was accepted")
            return
        }
        #expect(error.code == .loginRefused)
        #expect(error.description.contains("backend-9"))
        #expect(!error.description.contains("wrong-secret-Q7"))
        #expect(!error.description.contains("right-secret"))
        #expect(!error.description.contains(login.password))
    }
}
