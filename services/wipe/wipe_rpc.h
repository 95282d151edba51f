/*
 * WipeService's handlers (rpc_unary_fn), referenced by the one method
 * table in services/methods.c, which also says who may call each.
 */
#ifndef REG_WIPE_WIPE_RPC_H
#define REG_WIPE_WIPE_RPC_H

#include "services/rpc/rpc.h"

int wipe_rpc_submit_wipe(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int wipe_rpc_get_certificate(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int wipe_rpc_list_certificates(rpc_call *call, const ProtobufCMessage *req,
                               ProtobufCMessage **resp);
int wipe_rpc_verify_certificate(rpc_call *call, const ProtobufCMessage *req,
                                ProtobufCMessage **resp);
int wipe_rpc_revoke_certificate(rpc_call *call, const ProtobufCMessage *req,
                                ProtobufCMessage **resp);

#endif
