/*
 * ListingService's handlers (rpc_unary_fn), referenced by the one method
 * table in services/methods.c, which also says who may call each.
 */
#ifndef REG_LISTING_LISTING_RPC_H
#define REG_LISTING_LISTING_RPC_H

#include "services/rpc/rpc.h"

int listing_rpc_register_item(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_get_item(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_get_item_history(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_create_listing(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_update_listing(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_record_sale(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_get_listing(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_list_listings(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_list_sales(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_attach_appraisal(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_report_stolen(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_clear_stolen(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_clear_brand(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_take_down_listing(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int listing_rpc_register_market(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);

#endif
