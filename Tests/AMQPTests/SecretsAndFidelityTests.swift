//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

@testable import AMQP

/// No secret in any trace, description or dump; and nothing the message model cannot hold goes unreported.
@Suite struct SecretsAndFidelityTests {
    static let password = "Tr4ce-Secret-pw!"
    /// Proton's raw trace of our client's sasl-init, as `iotbridge amqp send --log-level trace` printed it before
    /// raw lines were redacted.
    static let saslInitRaw = #""\x00\x00\x00+\x02\x01\x00\x00\x00SA\xc0\x1e\x02\xa3\x05PLAIN\xa0\x14\x00u1\x00Tr4ce-Secret-pw!""#
    /// The Open frame that followed it.
    static let openRaw = #""\x00\x00\x00@\x02\x00\x00\x00\x00S\x10\xc03\x0a\xa1\x17iotbridge-1lh2h60qejt6z\xa1\x09127.0.0.1@`\x7f\xffp\x00\x00\xea`@@@@@""#

    @Test func rawTracesNeverShowASASLFrame() {
        let redacted = ProtonLogging.redactedRaw(Self.saslInitRaw)
        #expect(!redacted.contains(Self.password))
        #expect(!redacted.contains("u1"))
        #expect(redacted == #""<sasl frame, 43 bytes, redacted>""#)
        // Proton quotes the output buffer from its start, so a SASL frame can lead a line about a later frame.
        let both = "\"" + Self.saslInitRaw.dropFirst().dropLast() + Self.openRaw.dropFirst()
        let redactedBoth = ProtonLogging.redactedRaw(both)
        #expect(!redactedBoth.contains(Self.password))
        #expect(redactedBoth == "\"<sasl frame, 43 bytes, redacted>" + Self.openRaw.dropFirst())
        // A line cut short inside the SASL frame, or inside any frame header, is still redacted.
        let cut = String(Self.saslInitRaw.prefix(60)) + "\""
        #expect(!ProtonLogging.redactedRaw(cut).contains("Tr4ce"))
        #expect(ProtonLogging.redactedRaw(#""\x00\x00\x00""#) == #""<3 bytes redacted>""#)
    }

    @Test func rawTracesKeepAMQPFramesAndRedactWhatTheyCannotParse() {
        #expect(ProtonLogging.redactedRaw(Self.openRaw) == Self.openRaw)
        #expect(ProtonLogging.redactedRaw("  -> EOS") == "  -> EOS")
        #expect(ProtonLogging.redactedRaw("PLAIN u1 Tr4ce-Secret-pw!") == "<raw trace redacted>")
        #expect(ProtonLogging.redactedRaw(#""\x0"#) == "<raw trace redacted>")
        #expect(ProtonLogging.redactedRaw(#""\x00\x00\x00\x01\x02\x00Tr4ce-Secret-pw!""#).contains("not a frame"))
        #expect(!ProtonLogging.redactedRaw(#""\x00\x00\x00\x01\x02\x00Tr4ce-Secret-pw!""#).contains("Tr4ce"))
    }

    @Test func frameTracesRedactEverySASLResponse() {
        let response = #"0 -> @sasl-response(67) [response=b"\x00u1\x00Tr4ce-Secret-pw!"]"#
        #expect(!ProtonLogging.redacted(response).contains("Tr4ce"))
        let initial = #"0 -> @sasl-init(65) [mechanism=:PLAIN, initial-response=b"\x00u1\x00Tr4ce-Secret-pw!"]"#
        #expect(ProtonLogging.redacted(initial) == "0 -> @sasl-init(65) [mechanism=:PLAIN, initial-response=<redacted>]")
    }

    @Test func bytesAPeerSentInTheWrongPlaceAreNotQuotedBack() {
        let condition = #"Unknown protocol detected: '\x00\x00\x00+\x02\x01\x00\x00\x00SA\xc0\x1e\x02\xa3\x05PLAIN\xa0\x14\x00u1\x00Tr4ce-Secret-pw!'"#
        let redacted = ProtonLogging.redacted(condition)
        #expect(!redacted.contains("Tr4ce"))
        #expect(redacted.hasPrefix("Unknown protocol detected: '<"))
        #expect(ProtonLogging.redacted("link 'telemetry' detached") == "link 'telemetry' detached")
    }

    /// Everything a value shows of itself: description, debug description and `dump`.
    static func shown(_ value: Any) -> String {
        var dumped = ""
        dump(value, to: &dumped)
        return String(describing: value) + "\n" + String(reflecting: value) + "\n" + dumped
    }

    @Test func configurationsNeverShowAPasswordOrSecret() throws {
        let endpoint = try AMQPEndpoint(url: "amqp://u1:\(Self.password)@broker:5672/q")
        let client = AMQPConnectionConfiguration(endpoint: endpoint)
        var listener = AMQPListenerConfiguration(authenticator: .fixed(username: "u1", password: Self.password))
        listener.tls = .init(certificateFile: "c.pem", privateKeyFile: "k.pem", privateKeyPassword: Self.password)
        for value in [endpoint, client, client.authentication, listener, listener.tls!, listener.authenticator!] as [Any] {
            let text = Self.shown(value)
            #expect(!text.contains(Self.password), "\(text)")
        }
        #expect(Self.shown(client).contains("***"))
        #expect(Self.shown(listener).contains("c.pem"))
    }

    @Test func whatTheModelCannotHoldIsNamed() throws {
        let message = try ProtonMessageCodec.decode(EncodedMessageTests.full)
        for part in [
            "header.ttl", "header.priority", "header.first-acquirer", "delivery-annotations", "message-annotations",
            "properties.user-id", "properties.to", "properties.reply-to", "properties.content-encoding",
            "properties.absolute-expiry-time", "properties.group-id", "properties.group-sequence",
            "properties.reply-to-group-id", "footer", #"application-properties["n-uint"] (uint, held as long)"#,
            #"application-properties["flt"] (float, held as double)"#, #"application-properties["list"] (list)"#,
            #"application-properties["map"] (map)"#,
        ] {
            #expect(message.unrepresented.contains(part), "\(part) in \(message.unrepresented)")
        }
        #expect(!message.unrepresented.contains { $0.contains("topic") || $0.contains("messageId") })
        let sequence = try ProtonMessageCodec.decode(EncodedMessageTests.sequence)
        #expect(sequence.unrepresented.contains { $0.hasPrefix("body") }, "\(sequence.unrepresented)")
        // What the model holds completely reports nothing.
        let plain = AMQPMessage(body: .data([1]), applicationProperties: ["topic": .string("t")], messageID: .string("1"))
        #expect(try ProtonMessageCodec.decode(ProtonMessageCodec.encode(plain)).unrepresented == [])
    }

    @Test func aMessageWithPlaceholdersIsNotSentAsSomethingElse() async throws {
        try await Loopback.run { setup in
            let (sender, _) = try await setup.publishingLink()
            let error = await #expect(throws: AMQPError.self) {
                _ = try await sender.send(AMQPMessage(body: .unsupported("list")))
            }
            #expect(error?.message.contains("body (list)") == true)
            await #expect(throws: AMQPError.self) {
                try await sender.enqueue(AMQPMessage(applicationProperties: ["m": .unsupported("map")])) { _ in }
            }
            #expect(sender.inFlight == 0)
        }
    }
}
