//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

import Testing

/// The parent of every integration suite (each file extends it with one). `.serialized` is inherited by the
/// nested suites, so only one suite talks to brokers and peers at a time: they start processes, measure
/// timeouts and watch credit windows, and the machine has two cores shared with the unit tests.
@Suite(.serialized) enum IntegrationSuites {}
