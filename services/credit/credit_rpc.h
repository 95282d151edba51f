/*
 * CreditService's handlers (rpc_unary_fn), referenced by the one method
 * table in services/methods.c; the service's start-up state (the grade
 * rule from configuration); and what the listing gate asks.
 */
#ifndef REG_CREDIT_CREDIT_RPC_H
#define REG_CREDIT_CREDIT_RPC_H

#include <stddef.h>
#include <stdint.h>

#include "services/base/clock.h"
#include "services/base/config.h"
#include "services/rpc/rpc.h"
#include "storage/pg/pg.h"

/* The grade rule from cfg (credit_grade); 0, or REG_EINVAL logged. */
int credit_init(const reg_config *cfg);

/* SELLER_BLACKLISTED (services/listing/listing_gates.c): 1 when a subject
 * with this seller (kind 1 person: 32-byte blind index; 2 business: the
 * USCC's bytes) is on the dishonesty list in force on `today`, else 0; or
 * a REG_* storage error. */
int credit_seller_listed(pg_conn *pg, int seller_kind, const uint8_t *ref, size_t ref_len,
                         clock_day today);

int credit_rpc_register_subject(rpc_call *call, const ProtobufCMessage *req,
                                ProtobufCMessage **resp);
int credit_rpc_get_subject(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int credit_rpc_submit_record(rpc_call *call, const ProtobufCMessage *req,
                             ProtobufCMessage **resp);
int credit_rpc_get_credit_profile(rpc_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage **resp);
int credit_rpc_list_records(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int credit_rpc_list_access_log(rpc_call *call, const ProtobufCMessage *req,
                               ProtobufCMessage **resp);
int credit_rpc_file_dispute(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int credit_rpc_resolve_dispute(rpc_call *call, const ProtobufCMessage *req,
                               ProtobufCMessage **resp);
int credit_rpc_list_disputes(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int credit_rpc_place_on_dishonesty_list(rpc_call *call, const ProtobufCMessage *req,
                                        ProtobufCMessage **resp);
int credit_rpc_remove_from_dishonesty_list(rpc_call *call, const ProtobufCMessage *req,
                                           ProtobufCMessage **resp);

#endif
