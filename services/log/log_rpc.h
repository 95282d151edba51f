/*
 * LogService's handlers (rpc_unary_fn), referenced by the one method table
 * in services/methods.c, which also says which need a key. WatchEvents is
 * loop-owned and comes separately.
 */
#ifndef REG_LOG_LOG_RPC_H
#define REG_LOG_LOG_RPC_H

#include "services/rpc/rpc.h"

int log_rpc_list_signing_keys(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int log_rpc_get_checkpoint(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int log_rpc_get_inclusion_proof(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int log_rpc_get_inclusion_proof_by_hash(rpc_call *call, const ProtobufCMessage *req,
                                        ProtobufCMessage **resp);
int log_rpc_get_consistency_proof(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int log_rpc_get_entries(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int log_rpc_get_receipt(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);

#endif
