//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton

/// The server side of SASL PLAIN (and optionally ANONYMOUS), installed per transport through Proton's
/// `sasl_plugin.h`: Proton's built-in server offers only ANONYMOUS and EXTERNAL.
final class ProtonSASLServer {
    let authenticator: AMQPAuthenticator?
    let allowAnonymous: Bool

    init(authenticator: AMQPAuthenticator?, allowAnonymous: Bool) {
        self.authenticator = authenticator
        self.allowAnonymous = allowAnonymous
    }

    /// Installs the mechanism on a server transport. The transport keeps this object alive through its context
    /// until Proton calls `free`.
    func install(on transport: OpaquePointer, encrypted: Bool) {
        let sasl = pn_sasl(transport)
        pn_sasl_allowed_mechs(sasl, self.mechanismList)
        // PLAIN over plain TCP is what loopback backends use; TLS listeners encrypt it anyway.
        pn_sasl_set_allow_insecure_mechs(sasl, true)
        let context = Unmanaged.passRetained(self).toOpaque()
        pnx_sasl_set_implementation(transport, ProtonSASLServer.implementation, context)
    }

    /// The mechanisms offered, space-separated as SASL lists them.
    var mechanismList: String {
        var mechanisms: [String] = []
        if self.authenticator != nil { mechanisms.append("PLAIN") }
        if self.allowAnonymous { mechanisms.append("ANONYMOUS") }
        return mechanisms.joined(separator: " ")
    }

    static func server(_ transport: OpaquePointer?) -> ProtonSASLServer? {
        guard let transport, let context = pnx_sasl_get_context(transport) else { return nil }
        return Unmanaged<ProtonSASLServer>.fromOpaque(context).takeUnretainedValue()
    }

    /// Splits PLAIN's `authzid NUL authcid NUL passwd` (RFC 4616).
    static func parsePlain(_ bytes: [UInt8]) -> (user: String, password: String)? {
        let parts = bytes.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        return (String(decoding: parts[1], as: UTF8.self), String(decoding: parts[2], as: UTF8.self))
    }

    /// The C function table Proton calls; allocated once, never freed.
    nonisolated(unsafe) static let implementation: UnsafeMutablePointer<pnx_sasl_implementation> = {
        let table = UnsafeMutablePointer<pnx_sasl_implementation>.allocate(capacity: 1)
        table.initialize(
            to: pnx_sasl_implementation(
                free: { transport in
                    guard let transport, let context = pnx_sasl_get_context(transport) else { return }
                    Unmanaged<ProtonSASLServer>.fromOpaque(context).release()
                    pnx_sasl_set_context(transport, nil)
                },
                list_mechanisms: { transport in
                    // Proton copies the list; a static string keeps the pointer valid.
                    guard let server = ProtonSASLServer.server(transport) else { return ProtonSASLServer.plainCString }
                    if server.authenticator != nil && server.allowAnonymous { return ProtonSASLServer.bothCString }
                    return server.authenticator != nil ? ProtonSASLServer.plainCString : ProtonSASLServer.anonymousCString
                },
                init_server: { transport in
                    pnx_sasl_set_desired_state(transport, SASL_POSTED_MECHANISMS)
                    return true
                },
                init_client: { _ in false },
                prepare_write: { _ in },
                process_init: { transport, mechanism, received in
                    guard let transport, let mechanism else { return }
                    let server = ProtonSASLServer.server(transport)
                    let name = String(cString: mechanism)
                    var allowed = false
                    var user = "anonymous"
                    if name == "PLAIN", let authenticator = server?.authenticator, let received {
                        let bytes = ProtonMessageCodec.bytes(received.pointee)
                        if let credentials = ProtonSASLServer.parsePlain(bytes) {
                            user = credentials.user
                            allowed = authenticator.check(credentials.user, credentials.password)
                        }
                    } else if name == "ANONYMOUS", server?.allowAnonymous == true {
                        allowed = true
                    }
                    if allowed {
                        pnx_sasl_set_succeeded(transport, user, nil)
                    } else {
                        pnx_sasl_set_failed(transport)
                    }
                    pnx_sasl_set_desired_state(transport, SASL_POSTED_OUTCOME)
                },
                process_response: { _, _ in },
                process_mechanisms: { _, _ in false },
                process_challenge: { _, _ in },
                process_outcome: { _, _ in },
                can_encrypt: { _ in false },
                max_encrypt_size: { _ in 0 },
                encode: { _, _, _ in 0 },
                decode: { _, _, _ in 0 }
            )
        )
        return table
    }()

    // Static strings are NUL-terminated and live for the whole process, as Proton's list pointer must.
    nonisolated(unsafe) static let plainCString = cString("PLAIN")
    nonisolated(unsafe) static let anonymousCString = cString("ANONYMOUS")
    nonisolated(unsafe) static let bothCString = cString("PLAIN ANONYMOUS")

    private static func cString(_ text: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
