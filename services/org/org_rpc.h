/*
 * OrgService's handlers (rpc_unary_fn), referenced by the one method table
 * in services/methods.c, which also says who may call each.
 */
#ifndef REG_ORG_ORG_RPC_H
#define REG_ORG_ORG_RPC_H

#include "services/rpc/rpc.h"

int org_rpc_create_organization(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_issue_api_key(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_revoke_api_key(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_list_api_keys(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_suspend_organization(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_reinstate_organization(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_get_organization(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_who_am_i(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_set_qualification(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_revoke_qualification(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int org_rpc_list_organizations(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);

#endif
