//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

/// The control plane is where a running simulated instance's consumer groups and subscribe relations live: the
/// OpenAPI changes them, the AMQP endpoint and the devices read them.
extension SimulatedControlPlane: SubscriptionDirectory {}
