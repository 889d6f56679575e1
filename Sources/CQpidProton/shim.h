//===----------------------------------------------------------------------===//
//
// This source file is part of the iotbridge open source project
// SPDX-License-Identifier: Apache-2.0
//
//===----------------------------------------------------------------------===//

// The whole Qpid Proton C surface that the AMQP module uses, plus typed
// wrappers for the variadic functions Swift cannot call. No logic lives here.

#ifndef CQPIDPROTON_SHIM_H
#define CQPIDPROTON_SHIM_H

#include <proton/codec.h>
#include <proton/condition.h>
#include <proton/connection.h>
#include <proton/delivery.h>
#include <proton/disposition.h>
#include <proton/error.h>
#include <proton/event.h>
#include <proton/link.h>
#include <proton/listener.h>
#include <proton/logger.h>
#include <proton/message.h>
#include <proton/netaddr.h>
#include <proton/proactor.h>
#include <proton/sasl.h>
#include <proton/sasl_plugin.h>
#include <proton/session.h>
#include <proton/ssl.h>
#include <proton/terminus.h>
#include <proton/transport.h>
#include <proton/types.h>
#include <proton/version.h>

/// Sets a condition's name and description without printf-style formatting,
/// so a peer-supplied or user-supplied text can never be read as a format.
static inline int cqp_condition_set_text(pn_condition_t *condition, const char *name, const char *text) {
    return pn_condition_format(condition, name, "%s", text);
}

#endif
