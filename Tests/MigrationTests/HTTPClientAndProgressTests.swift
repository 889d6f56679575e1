//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import HTTPClient
import Migration
import Testing

/// The libcurl client's transport errors, and the progress lines of `migrate run`.
@Suite struct HTTPClientAndProgressTests {
    @Test func refusedConnectionIsATypedError() async throws {
        let client = HTTPClient()
        await #expect {
            try await client.execute(HTTPRequest(url: "http://127.0.0.1:9/"))
        } throws: { error in
            guard let error = error as? HTTPClientError else { return false }
            return error.code == .connectionRefused && error.description.contains("cannot reach http://127.0.0.1:9/")
        }
        await #expect {
            try await client.execute(HTTPRequest(url: "ftp://example.invalid/"))
        } throws: { error in
            (error as? HTTPClientError)?.code == .invalidURL
        }
    }

    @Test func responsesComeBackWhateverTheirStatus() async throws {
        let server = try await OpenAPITestServer()
        let client = HTTPClient()
        let missing = try await client.execute(HTTPRequest(url: server.endpoint + "/nothing-here"))
        #expect(missing.status == 404)
        #expect(missing.text.contains("NotFound"))
        let posted = try await client.execute(
            HTTPRequest(method: "POST", url: server.endpoint + "/", body: Array("Action=X".utf8))
        )
        #expect(posted.status == 404)
        #expect(posted.text.contains("InvalidAccessKeyId.NotFound"))
    }

    @Test func plainProgressLinesNameStepAndETA() {
        let renderer = ProgressRenderer(isTerminal: false)
        let line = renderer.line(
            for: MigrationProgress(done: 3, total: 12, stepId: "rule:temp_alarm", phase: .finished, etaSeconds: 75)
        )
        #expect(line == "[3/12] finished rule:temp_alarm (ETA 1:15)")
    }

    @Test func terminalProgressIsABar() {
        let renderer = ProgressRenderer(isTerminal: true, width: 10)
        let line = renderer.line(
            for: MigrationProgress(done: 5, total: 10, stepId: "cg:orders", phase: .started, etaSeconds: nil)
        )
        #expect(line == "[#####.....] 5/10  cg:orders  ETA --:--")
    }
}
