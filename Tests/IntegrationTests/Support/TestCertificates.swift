//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Foundation

/// A throw-away CA and a server certificate it signed, made with the `openssl` command for TLS tests. The
/// server certificate names `localhost` and `127.0.0.1` (subjectAltName, by default), so a client that verifies
/// either name against the CA succeeds and any other name fails.
struct TestCertificates: Sendable {
    /// The CA certificate (PEM): what a client passes as `caFile`.
    let caFile: String
    /// The server certificate (PEM), signed by the CA.
    let certificateFile: String
    /// The server's private key (PEM, unencrypted).
    let privateKeyFile: String

    /// Makes the CA and the server certificate in `directory` (EC P-256 keys: fast to generate, valid two days).
    /// `commonName` is the server certificate's subject CN and `subjectAltName` its extension value, in openssl's
    /// syntax. (Proton also accepts a name that matches only the CN, so tests of a wrong name change both.)
    static func make(
        openssl: String,
        in directory: TemporaryDirectory,
        commonName: String = "localhost",
        subjectAltName: String = "DNS:localhost, IP:127.0.0.1"
    ) async throws -> TestCertificates {
        let caKey = directory.file("ca-key.pem")
        let caFile = directory.file("ca.pem")
        let key = directory.file("server-key.pem")
        let request = directory.file("server.csr")
        let certificate = directory.file("server.pem")
        let extensions = directory.file("server-ext.cnf")
        try """
        basicConstraints = CA:FALSE
        keyUsage = critical, digitalSignature, keyEncipherment
        extendedKeyUsage = serverAuth
        subjectAltName = \(subjectAltName)

        """.write(toFile: extensions, atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            [
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", caKey, "-out", caFile, "-days", "2", "-subj", "/CN=iotbridge integration test CA",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ],
            [
                "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", request, "-subj", "/CN=\(commonName)",
            ],
            [
                "x509", "-req", "-in", request, "-CA", caFile, "-CAkey", caKey, "-CAcreateserial",
                "-out", certificate, "-days", "2", "-extfile", extensions,
            ],
        ]
        for arguments in steps {
            let result = try await ManagedProcess.run(openssl, arguments, outputDirectory: directory)
            guard result.status == 0 else {
                throw IntegrationTestError(
                    "openssl \(arguments.prefix(2).joined(separator: " ")) failed: \(result.stderr)"
                )
            }
        }
        return TestCertificates(caFile: caFile, certificateFile: certificate, privateKeyFile: key)
    }
}
