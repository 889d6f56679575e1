//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import AMQP
import Foundation

/// A self-signed certificate for `localhost` and `127.0.0.1`, made with the `openssl` command (the library we
/// link for TLS has no API of ours to mint certificates; the command is installed wherever the build is). Clients
/// trust the certificate file itself (it is its own CA).
enum SelfSignedCertificate {
    /// Makes an EC P-256 key and a certificate valid for 30 days in `directory`.
    static func make(in directory: String, openssl: String = "/usr/bin/openssl") throws(SimulatorError) -> AMQPListenerConfiguration.TLS {
        let key = directory + "/amqp-key.pem"
        let certificate = directory + "/amqp-cert.pem"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: openssl)
        process.arguments = [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key, "-out", certificate, "-days", "30", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext", "basicConstraints=critical,CA:TRUE",
        ]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw SimulatorError(
                .certificate,
                "cannot run \(openssl) to make the self-signed certificate (\(error.localizedDescription)); install openssl or "
                    + "give a certificate (tls.certificate, tls.privateKey)"
            )
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SimulatorError(
                .certificate,
                "openssl failed to make the self-signed certificate: \(String(decoding: output, as: UTF8.self).prefix(300))"
            )
        }
        return AMQPListenerConfiguration.TLS(certificateFile: certificate, privateKeyFile: key)
    }
}
