//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// Simulated IoT Platform instances: what `iotbridge sim` and `iotbridge demo` run, and what tests talk to
/// where the cloud itself cannot run. Each instance has an AMQP 1.0 endpoint that logs in and delivers the way the
/// platform documents, an OpenAPI endpoint that checks signature v1, devices that publish, and grayscale migration.
public enum Simulator {}
