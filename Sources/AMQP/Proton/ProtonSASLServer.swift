//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

internal import CQpidProton

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The server side of SASL PLAIN (and optionally ANONYMOUS) for one listener, installed per transport through
/// Proton's `sasl_plugin.h`: Proton's built-in server offers only ANONYMOUS and EXTERNAL. It only judges the
/// credentials; when the verdict is sent (at once, or after the failed-login delay) is the connection's decision.
final class ProtonSASLServer {
    /// What SASL concluded about one client.
    enum Verdict: Equatable {
        /// Logged in.
        case succeeded(user: String, mechanism: String)
        /// SASL succeeds, but the connection is refused at Open with `condition` (which a SASL outcome cannot
        /// carry): PLAIN over unencrypted TCP where that is not allowed. The credentials are not even checked.
        case refused(user: String, mechanism: String, condition: AMQPCondition)
        /// Wrong credentials, a malformed response, or a mechanism we do not offer.
        case failed(user: String?, mechanism: String)
    }

    let authenticator: AMQPAuthenticator?
    let allowAnonymous: Bool
    /// Whether PLAIN may travel over unencrypted TCP: the listener is loopback-only, or insecure logins are
    /// allowed. Set once the listener is bound (before it accepts anything), on the proactor thread.
    var allowsInsecurePlain: Bool

    init(authenticator: AMQPAuthenticator?, allowAnonymous: Bool, allowsInsecurePlain: Bool) {
        self.authenticator = authenticator
        self.allowAnonymous = allowAnonymous
        self.allowsInsecurePlain = allowsInsecurePlain
    }

    /// Installs the mechanism on a server transport for `driver`. The transport keeps a `ProtonSASLSession` alive
    /// through its context until Proton calls `free`.
    func install(on transport: OpaquePointer, for driver: ServerConnectionDriver) {
        let sasl = pn_sasl(transport)
        pn_sasl_allowed_mechs(sasl, self.mechanismList)
        // Proton applies this to its built-in mechanisms only; for ours the verdict decides per connection
        // (PLAIN over unencrypted TCP is refused with a reason unless `allowsInsecurePlain`).
        pn_sasl_set_allow_insecure_mechs(sasl, true)
        let session = ProtonSASLSession(server: self, driver: driver)
        pnx_sasl_set_implementation(transport, ProtonSASLServer.implementation, Unmanaged.passRetained(session).toOpaque())
    }

    /// The mechanisms offered, space-separated as SASL lists them.
    var mechanismList: String {
        var mechanisms: [String] = []
        if self.authenticator != nil { mechanisms.append("PLAIN") }
        if self.allowAnonymous || self.authenticator == nil { mechanisms.append("ANONYMOUS") }
        return mechanisms.joined(separator: " ")
    }

    /// Judges a sasl-init: `mechanism` and its initial response, over a transport that is `encrypted` or not.
    func verdict(mechanism: String, response: [UInt8], encrypted: Bool) -> Verdict {
        switch mechanism {
        case "PLAIN":
            guard let authenticator = self.authenticator, let credentials = Self.parsePlain(response) else {
                return .failed(user: nil, mechanism: mechanism)
            }
            if !encrypted && !self.allowsInsecurePlain {
                return .refused(user: credentials.user, mechanism: mechanism, condition: Self.insecurePlain)
            }
            return authenticator.check(credentials.user, credentials.password)
                ? .succeeded(user: credentials.user, mechanism: mechanism)
                : .failed(user: credentials.user, mechanism: mechanism)
        case "ANONYMOUS":
            guard self.allowAnonymous || self.authenticator == nil else { return .failed(user: nil, mechanism: mechanism) }
            return .succeeded(user: "anonymous", mechanism: mechanism)
        default:
            return .failed(user: nil, mechanism: mechanism)
        }
    }

    /// Why PLAIN over plain TCP is refused, for the client's error.
    static let insecurePlain = AMQPCondition(
        name: AMQPCondition.unauthorizedAccess,
        description: "SASL PLAIN over unencrypted TCP is refused: this listener accepts remote clients, and PLAIN would "
            + "send the password in clear. Connect with amqps:// (TLS), or have the listener allow insecure logins "
            + "(--allow-insecure, allowInsecure: true)"
    )

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
                    // Proton is done with the transport: the strings it kept can go with the session.
                    pnx_sasl_set_context(transport, nil)
                    Unmanaged<ProtonSASLSession>.fromOpaque(context).release()
                },
                list_mechanisms: { transport in
                    // Proton copies the list; a static string keeps the pointer valid.
                    guard let server = ProtonSASLSession.session(transport)?.server else { return ProtonSASLServer.plainCString }
                    let anonymous = server.allowAnonymous || server.authenticator == nil
                    if server.authenticator != nil && anonymous { return ProtonSASLServer.bothCString }
                    return server.authenticator != nil ? ProtonSASLServer.plainCString : ProtonSASLServer.anonymousCString
                },
                init_server: { transport in
                    pnx_sasl_set_desired_state(transport, SASL_POSTED_MECHANISMS)
                    return true
                },
                init_client: { _ in false },
                prepare_write: { _ in },
                process_init: { transport, mechanism, received in
                    guard let transport, let session = ProtonSASLSession.session(transport) else { return }
                    let name = mechanism.map { String(cString: $0) } ?? ""
                    let bytes = received.map { ProtonMessageCodec.bytes($0.pointee) } ?? []
                    session.processInit(transport, mechanism: name, response: bytes)
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

/// One server transport's SASL exchange: the connection it belongs to, whether the verdict was given, and the
/// C strings handed to Proton. `pnx_sasl_set_succeeded` keeps the user name pointer it is given (for
/// `pn_transport_get_user` and its own logs) without copying, so the copy made here lives until Proton calls
/// the implementation's `free`, when the transport itself is freed.
final class ProtonSASLSession {
    let server: ProtonSASLServer
    /// The connection, for the timing of the verdict; weak because the transport outlives its driver briefly.
    weak var driver: ServerConnectionDriver?
    /// Whether a sasl-init arrived (SASL allows one).
    private(set) var hasInit = false
    /// Whether the outcome was handed to Proton (success or failure); nothing may change it afterwards.
    private(set) var isDecided = false
    /// C strings Proton holds pointers to; freed with the session.
    private var retainedStrings: [UnsafeMutablePointer<CChar>] = []

    init(server: ProtonSASLServer, driver: ServerConnectionDriver) {
        self.server = server
        self.driver = driver
    }

    deinit {
        for text in self.retainedStrings { free(text) }
    }

    static func session(_ transport: OpaquePointer?) -> ProtonSASLSession? {
        guard let transport, let context = pnx_sasl_get_context(transport) else { return nil }
        return Unmanaged<ProtonSASLSession>.fromOpaque(context).takeUnretainedValue()
    }

    /// A copy of `text` that stays valid until Proton frees the transport.
    private func retained(_ text: String) -> UnsafeMutablePointer<CChar>? {
        guard let copy = strdup(text) else { return nil }
        self.retainedStrings.append(copy)
        return copy
    }

    /// The client's sasl-init. A second one is a protocol violation, answered with a failed outcome at once: each
    /// init makes Proton copy the mechanism name anew (and drop the old copy without freeing it), so they must not
    /// be processed while a verdict waits for its delay.
    func processInit(_ transport: OpaquePointer, mechanism: String, response: [UInt8]) {
        guard !self.hasInit else {
            pnx_sasl_error(transport, "the client sent a second sasl-init", AMQPCondition.unauthorizedAccess)
            self.fail(transport)
            return
        }
        self.hasInit = true
        let verdict = self.server.verdict(
            mechanism: mechanism,
            response: response,
            encrypted: pnx_sasl_is_transport_encrypted(transport)
        )
        if let driver = self.driver {
            driver.saslVerdict(verdict)
        } else {
            self.fail(transport)
        }
    }

    /// Sends a successful outcome for `user`. Does nothing once an outcome was given.
    func succeed(_ transport: OpaquePointer, user: String) {
        guard !self.isDecided else { return }
        self.isDecided = true
        pnx_sasl_set_succeeded(transport, self.retained(user), nil)
        pnx_sasl_set_desired_state(transport, SASL_POSTED_OUTCOME)
    }

    /// Sends a failed outcome (Proton then closes the transport with `amqp:unauthorized-access`). Does nothing
    /// once an outcome was given.
    func fail(_ transport: OpaquePointer) {
        guard !self.isDecided else { return }
        self.isDecided = true
        pnx_sasl_set_failed(transport)
        pnx_sasl_set_desired_state(transport, SASL_POSTED_OUTCOME)
    }
}
