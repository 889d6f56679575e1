//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HTTPClient
import Migration
import Testing

/// HTTPClientError and MigrationError follow the project's error shape (AMQPError): a stable code, the context, an
/// actionable message, and no secret.
@Suite struct ErrorShapeTests {
    @Test func migrationCodesSpellThemselvesInKebabCase() {
        let codes: [(MigrationError.Code, String)] = [
            (.config, "config"), (.yaml, "yaml"), (.invalidPlan, "invalid-plan"), (.stalePlan, "stale-plan"),
            (.unreachable, "unreachable"), (.authentication, "authentication"), (.throttled, "throttled"),
            (.api, "api"), (.notFound, "not-found"), (.conflict, "conflict"), (.journal, "journal"),
            (.verifyMismatch, "verify-mismatch"), (.assessmentBlocked, "assessment-blocked"),
            (.runInProgress, "run-in-progress"),
        ]
        for (code, text) in codes { #expect("\(code)" == text) }
        #expect(Set(codes.map(\.0)).count == codes.count)
    }

    @Test func aMigrationErrorSaysWhereWhatAndWhich() {
        let error = MigrationError(.stalePlan, "the source changed; run 'migrate plan' again", step: "3", location: "plan.yaml:42")
        #expect(error.description == "plan.yaml:42: step 3: the source changed; run 'migrate plan' again [stale-plan]")
        #expect(MigrationError(.api, "m").description == "m [api]")
    }

    @Test func httpCodesSpellThemselvesInKebabCase() {
        let codes: [(HTTPClientError.Code, String)] = [
            (.nameResolution, "name-resolution"), (.connectionRefused, "connection-refused"), (.timeout, "timeout"),
            (.tls, "tls"), (.invalidURL, "invalid-url"), (.transport, "transport"),
        ]
        for (code, text) in codes { #expect("\(code)" == text) }
    }

    @Test func aRefusedConnectionNamesTheURLAndWhatToCheck() async throws {
        // A real refusal: port 1 on loopback has no listener.
        let client = HTTPClient()
        await #expect {
            _ = try await client.execute(HTTPRequest(method: "GET", url: "http://127.0.0.1:1/x"))
        } throws: { error in
            guard let error = error as? HTTPClientError else { return false }
            let ok =
                error.code == .connectionRefused && error.url == "http://127.0.0.1:1/x" && error.isTransient
                && error.description.hasPrefix("cannot reach http://127.0.0.1:1/x: ")
                && error.description.hasSuffix("check the endpoint's host and port, and that the service is up")
            if !ok { Issue.record("got \(error.code): \(error)") }
            return ok
        }
    }

    @Test(
        "secrets in a URL never reach the error",
        arguments: [
            ("https://user:pa55word@host:8443/p?AccessKeyId=LTAI&Signature=abc", "https://user:***@host:8443/p?***"),
            ("http://host/path?Signature=abc", "http://host/path?***"),
            ("http://user@host/", "http://user@host/"),
            ("http://host:80/", "http://host:80/"),
        ]
    )
    func redaction(url: String, shown: String) {
        let error = HTTPClientError(.transport, "reset by peer", url: url)
        #expect(error.url == shown)
        #expect(!error.description.contains("pa55word") && !error.description.contains("Signature"))
        #expect(error.message == error.description)
    }

    @Test func onlyTransportTroubleIsTransient() {
        #expect(!HTTPClientError(code: .invalidURL, url: "x", detail: "d").isTransient)
        #expect(!HTTPClientError(code: .tls, url: "x", detail: "d").isTransient)
        #expect(HTTPClientError(code: .timeout, url: "x", detail: "d").isTransient)
    }
}
