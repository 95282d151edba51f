/*
 * Every registry.v1 method, who may call it and whether it needs a key
 * (SPEC §1, §2, §4). roles 0 with needs_key: any authenticated caller —
 * the handler then checks ownership where the SPEC says "its own".
 * Health and reflection are served by the transport itself, without a key.
 */
#include "services/methods.h"

#include "registry/v1/credit.pb-c.h"
#include "registry/v1/invoice.pb-c.h"
#include "registry/v1/listing.pb-c.h"
#include "registry/v1/log.pb-c.h"
#include "registry/v1/org.pb-c.h"
#include "registry/v1/wipe.pb-c.h"
#include "services/credit/credit_rpc.h"
#include "services/invoice/invoice_rpc.h"
#include "services/listing/listing_rpc.h"
#include "services/log/log_rpc.h"
#include "services/log/log_watch.h"
#include "services/org/org_rpc.h"
#include "services/wipe/wipe_rpc.h"

#define ROLE(r) (1u << REGISTRY__V1__ROLE__ROLE_##r)
#define ANY_CALLER 0u

/* protoc-c lowers "WhoAmIRequest" to who_am_irequest */
#define registry__v1__who_am_i_request__descriptor registry__v1__who_am_irequest__descriptor
#define registry__v1__who_am_i_response__descriptor registry__v1__who_am_iresponse__descriptor

#define UNARY(svc, method, lower, fn, roles_)                        \
  {.path = "/registry.v1." #svc "/" #method,                         \
   .input = &registry__v1__##lower##_request__descriptor,            \
   .output = &registry__v1__##lower##_response__descriptor,          \
   .kind = RPC_KIND_UNARY, .unary = fn, .needs_key = 1, .roles = roles_}

/* A public method (SPEC §2): no API key; it still runs on a worker, where
 * the authorize hook lets it through at once. */
#define PUBLIC(svc, method, lower, fn)                               \
  {.path = "/registry.v1." #svc "/" #method,                         \
   .input = &registry__v1__##lower##_request__descriptor,            \
   .output = &registry__v1__##lower##_response__descriptor,          \
   .kind = RPC_KIND_UNARY, .unary = fn, .needs_key = 0, .roles = 0}

const rpc_method registry_methods[] = {
    /* OrgService (SPEC §4.1): ADMIN unless said otherwise */
    UNARY(OrgService, CreateOrganization, create_organization, org_rpc_create_organization, ROLE(ADMIN)),
    UNARY(OrgService, IssueApiKey, issue_api_key, org_rpc_issue_api_key, ANY_CALLER), /* own keys; ADMIN any */
    UNARY(OrgService, RevokeApiKey, revoke_api_key, org_rpc_revoke_api_key, ANY_CALLER), /* own keys; ADMIN any */
    UNARY(OrgService, ListApiKeys, list_api_keys, org_rpc_list_api_keys, ANY_CALLER), /* own keys; ADMIN any */
    UNARY(OrgService, SuspendOrganization, suspend_organization, org_rpc_suspend_organization, ROLE(ADMIN)),
    UNARY(OrgService, ReinstateOrganization, reinstate_organization, org_rpc_reinstate_organization, ROLE(ADMIN)),
    UNARY(OrgService, GetOrganization, get_organization, org_rpc_get_organization, ANY_CALLER), /* own; ADMIN, INSPECTOR any */
    UNARY(OrgService, WhoAmI, who_am_i, org_rpc_who_am_i, ANY_CALLER),
    UNARY(OrgService, SetQualification, set_qualification, org_rpc_set_qualification, ROLE(ADMIN)),
    UNARY(OrgService, RevokeQualification, revoke_qualification, org_rpc_revoke_qualification, ROLE(ADMIN)),
    UNARY(OrgService, ListOrganizations, list_organizations, org_rpc_list_organizations, ANY_CALLER),

    /* LogService (SPEC §4.6) */
    PUBLIC(LogService, ListSigningKeys, list_signing_keys, log_rpc_list_signing_keys),
    PUBLIC(LogService, GetCheckpoint, get_checkpoint, log_rpc_get_checkpoint),
    PUBLIC(LogService, GetInclusionProof, get_inclusion_proof, log_rpc_get_inclusion_proof),
    UNARY(LogService, GetInclusionProofByHash, get_inclusion_proof_by_hash,
          log_rpc_get_inclusion_proof_by_hash, ANY_CALLER),
    PUBLIC(LogService, GetConsistencyProof, get_consistency_proof, log_rpc_get_consistency_proof),
    UNARY(LogService, GetEntries, get_entries, log_rpc_get_entries, ANY_CALLER),
    UNARY(LogService, GetReceipt, get_receipt, log_rpc_get_receipt, ANY_CALLER),
    /* server streaming, owned by the loop (services/log/log_watch.c); who
     * sees which event is the visibility rule of SPEC §4.6 */
    {.path = "/registry.v1.LogService/WatchEvents",
     .input = &registry__v1__watch_events_request__descriptor,
     .output = &registry__v1__watch_events_response__descriptor,
     .kind = RPC_KIND_SERVER_STREAM, .stream = &log_watch_ops, .needs_key = 1, .roles = ANY_CALLER},

    /* ListingService (SPEC §4.2): a platform reads only its own listings
     * and sales, an inspector everything (the handlers check ownership) */
    UNARY(ListingService, RegisterItem, register_item, listing_rpc_register_item,
          ROLE(PLATFORM) | ROLE(WIPER) | ROLE(RECYCLER) | ROLE(APPRAISER) | ROLE(INSPECTOR)),
    UNARY(ListingService, GetItem, get_item, listing_rpc_get_item, ANY_CALLER),
    UNARY(ListingService, GetItemHistory, get_item_history, listing_rpc_get_item_history, ANY_CALLER),
    UNARY(ListingService, CreateListing, create_listing, listing_rpc_create_listing, ROLE(PLATFORM)),
    UNARY(ListingService, UpdateListing, update_listing, listing_rpc_update_listing, ROLE(PLATFORM)), /* own */
    UNARY(ListingService, RecordSale, record_sale, listing_rpc_record_sale, ROLE(PLATFORM)), /* own */
    UNARY(ListingService, GetListing, get_listing, listing_rpc_get_listing,
          ROLE(PLATFORM) | ROLE(INSPECTOR)), /* own; INSPECTOR any */
    UNARY(ListingService, ListListings, list_listings, listing_rpc_list_listings,
          ROLE(PLATFORM) | ROLE(INSPECTOR)), /* own; INSPECTOR any */
    UNARY(ListingService, ListSales, list_sales, listing_rpc_list_sales,
          ROLE(PLATFORM) | ROLE(INSPECTOR)), /* own; INSPECTOR any */
    UNARY(ListingService, AttachAppraisal, attach_appraisal, listing_rpc_attach_appraisal,
          ROLE(APPRAISER)), /* + a valid APPRAISAL qualification */
    UNARY(ListingService, ReportStolen, report_stolen, listing_rpc_report_stolen, ROLE(INSPECTOR)),
    UNARY(ListingService, ClearStolen, clear_stolen, listing_rpc_clear_stolen, ROLE(INSPECTOR)),
    UNARY(ListingService, ClearBrand, clear_brand, listing_rpc_clear_brand, ROLE(INSPECTOR)),
    UNARY(ListingService, TakeDownListing, take_down_listing, listing_rpc_take_down_listing,
          ROLE(INSPECTOR)),
    UNARY(ListingService, RegisterMarket, register_market, listing_rpc_register_market,
          ROLE(PLATFORM) | ROLE(INSPECTOR) | ROLE(ADMIN)),

    /* WipeService (SPEC §4.3): certificates hold no personal data in clear,
     * so every caller may read them and anyone verify them */
    UNARY(WipeService, SubmitWipe, submit_wipe, wipe_rpc_submit_wipe,
          ROLE(WIPER)), /* + a valid DATA_WIPE qualification */
    UNARY(WipeService, GetCertificate, get_certificate, wipe_rpc_get_certificate, ANY_CALLER),
    UNARY(WipeService, ListCertificates, list_certificates, wipe_rpc_list_certificates, ANY_CALLER),
    PUBLIC(WipeService, VerifyCertificate, verify_certificate, wipe_rpc_verify_certificate),
    UNARY(WipeService, RevokeCertificate, revoke_certificate, wipe_rpc_revoke_certificate,
          ROLE(WIPER) | ROLE(INSPECTOR)), /* the issuer; INSPECTOR any */

    /* InvoiceService (SPEC §4.5): an issuer reads its own invoices, an
     * inspector all (the handlers check) */
    UNARY(InvoiceService, IssueReverseInvoice, issue_reverse_invoice,
          invoice_rpc_issue_reverse_invoice, ROLE(RECYCLER)), /* + a qualification */
    UNARY(InvoiceService, IssueRedInvoice, issue_red_invoice, invoice_rpc_issue_red_invoice,
          ROLE(RECYCLER)), /* the original's issuer */
    UNARY(InvoiceService, CheckSellerCap, check_seller_cap, invoice_rpc_check_seller_cap,
          ROLE(RECYCLER)),
    UNARY(InvoiceService, GetInvoice, get_invoice, invoice_rpc_get_invoice,
          ROLE(RECYCLER) | ROLE(INSPECTOR)), /* the issuer; INSPECTOR any */
    UNARY(InvoiceService, ListInvoices, list_invoices, invoice_rpc_list_invoices,
          ROLE(RECYCLER) | ROLE(INSPECTOR)), /* own; INSPECTOR any, by seller */
    UNARY(InvoiceService, GetMonthlySummary, get_monthly_summary, invoice_rpc_get_monthly_summary,
          ROLE(RECYCLER) | ROLE(INSPECTOR)), /* own; INSPECTOR any */
    UNARY(InvoiceService, GetSellerTotal, get_seller_total, invoice_rpc_get_seller_total,
          ROLE(INSPECTOR)),

    /* CreditService (SPEC §4.4): the handlers check who may submit about,
     * read the records of and dispute which subject */
    UNARY(CreditService, RegisterSubject, register_subject, credit_rpc_register_subject,
          ROLE(PLATFORM) | ROLE(APPRAISER) | ROLE(INSPECTOR) | ROLE(ADMIN)), /* by kind */
    UNARY(CreditService, GetSubject, get_subject, credit_rpc_get_subject, ANY_CALLER),
    UNARY(CreditService, SubmitRecord, submit_record, credit_rpc_submit_record,
          ROLE(PLATFORM) | ROLE(APPRAISER) | ROLE(INSPECTOR)), /* about whom: §4.4 */
    UNARY(CreditService, GetCreditProfile, get_credit_profile, credit_rpc_get_credit_profile,
          ANY_CALLER),
    UNARY(CreditService, ListRecords, list_records, credit_rpc_list_records, ANY_CALLER),
    UNARY(CreditService, ListAccessLog, list_access_log, credit_rpc_list_access_log, ANY_CALLER),
    UNARY(CreditService, FileDispute, file_dispute, credit_rpc_file_dispute, ANY_CALLER),
    UNARY(CreditService, ResolveDispute, resolve_dispute, credit_rpc_resolve_dispute, ANY_CALLER),
    UNARY(CreditService, ListDisputes, list_disputes, credit_rpc_list_disputes, ANY_CALLER),
    UNARY(CreditService, PlaceOnDishonestyList, place_on_dishonesty_list,
          credit_rpc_place_on_dishonesty_list, ROLE(INSPECTOR)),
    UNARY(CreditService, RemoveFromDishonestyList, remove_from_dishonesty_list,
          credit_rpc_remove_from_dishonesty_list, ROLE(INSPECTOR)),
};
const size_t registry_methods_n = sizeof(registry_methods) / sizeof(registry_methods[0]);
