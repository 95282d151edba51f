/*
 * InvoiceService's handlers (rpc_unary_fn), referenced by the one method
 * table in services/methods.c, which also says who may call each; and the
 * service's start-up state (the dated rate table from configuration).
 */
#ifndef REG_INVOICE_INVOICE_RPC_H
#define REG_INVOICE_INVOICE_RPC_H

#include "services/base/config.h"
#include "services/rpc/rpc.h"

/* Builds the rate table from cfg (invoice_vat, invoice_income_tax); 0, or
 * REG_EINVAL with the reason logged. Once, before any worker runs. */
int invoice_init(const reg_config *cfg);
void invoice_shutdown(void);

int invoice_rpc_issue_reverse_invoice(rpc_call *call, const ProtobufCMessage *req,
                                      ProtobufCMessage **resp);
int invoice_rpc_issue_red_invoice(rpc_call *call, const ProtobufCMessage *req,
                                  ProtobufCMessage **resp);
int invoice_rpc_check_seller_cap(rpc_call *call, const ProtobufCMessage *req,
                                 ProtobufCMessage **resp);
int invoice_rpc_get_invoice(rpc_call *call, const ProtobufCMessage *req, ProtobufCMessage **resp);
int invoice_rpc_list_invoices(rpc_call *call, const ProtobufCMessage *req,
                              ProtobufCMessage **resp);
int invoice_rpc_get_monthly_summary(rpc_call *call, const ProtobufCMessage *req,
                                    ProtobufCMessage **resp);
int invoice_rpc_get_seller_total(rpc_call *call, const ProtobufCMessage *req,
                                 ProtobufCMessage **resp);

#endif
