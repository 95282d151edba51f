/*
 * OrgService handlers: one thin function per method. Each validates with
 * org_rules, then runs its SQL through the shared write driver (request_id,
 * one transaction, events) or a read, and maps outcomes to gRPC statuses.
 * Who may call which method is in services/methods.c; what remains here is
 * ownership ("an organization for its own keys").
 */
#include <string.h>

#include "registry/v1/log.pb-c.h"
#include "services/base/clock.h"
#include "services/core/app.h"
#include "services/core/events.h"
#include "services/core/ids.h"
#include "services/core/page.h"
#include "services/core/pbtime.h"
#include "services/core/rpcutil.h"
#include "services/core/write.h"
#include "services/org/org.h"
#include "services/org/org_rpc.h"

#define EV(name) REGISTRY__V1__EVENT_TYPE__EVENT_TYPE_##name

static int bad(rpc_call *call, const org_violation *v) {
  return rpc_fail_field(&call->status, v->field, "%s %s", v->field, v->message);
}

static int is_admin(const rpc_call *call) {
  return org_has_role(call->caller.roles, REGISTRY__V1__ROLE__ROLE_ADMIN);
}


/* Appends an event whose record is the packed message. */
static int event(rpc_call *call, pg_conn *pg, int type, const ProtobufCMessage *record) {
  size_t len = 0;
  uint8_t *buf = org_pack(call->arena, record, &len);
  if (!buf) return REG_ENOMEM;
  return events_append(pg, type, call->caller.org_id, NULL, buf, len, NULL);
}

/* The target organization of a self-service key call: the request's, or
 * the caller's own when empty. Others' keys only for ADMIN. */
static int key_target(rpc_call *call, const char *requested, const char **out) {
  const char *target = requested && *requested ? requested : call->caller.org_id;
  if (strcmp(target, call->caller.org_id) != 0 && !is_admin(call))
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "only an ADMIN may manage another organization's keys");
  *out = target;
  return 0;
}

/* ---- CreateOrganization ---- */

typedef struct create_arg {
  const Registry__V1__CreateOrganizationRequest *req;
  char uscc[19];
  uint32_t roles;
} create_arg;

static int do_create(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                     ProtobufCMessage **stored) {
  create_arg *c = arg;
  reg_app *app = call_app(call);
  char id[IDS_MAX];
  ids_new("org", id, sizeof(id));
  int rv = org_store_insert(pg, id, c->req->name, c->uscc, c->roles, c->req->region_code);
  if (rv == REG_EEXIST)
    return rpc_fail_reason(&call->status, RPC_ALREADY_EXISTS, "ORGANIZATION_EXISTS",
                           "an organization with uscc %s already exists", c->uscc);
  if (rv != 0) return rv;
  char *key = arena_alloc(call->arena, 64), *key_id = arena_alloc(call->arena, IDS_MAX);
  Registry__V1__ApiKey *meta = NULL;
  Registry__V1__Organization *org = NULL;
  if (!key || !key_id) return REG_ENOMEM;
  if ((rv = org_store_key_create(pg, app->token_key, id, 0, key, key_id, call->arena, &meta)) ||
      (rv = org_store_get(pg, call->arena, id, -1, &org)) ||
      (rv = event(call, pg, EV(ORGANIZATION_CREATED), &org->base)) ||
      (rv = event(call, pg, EV(API_KEY_ISSUED), &meta->base)))
    return rv;
  Registry__V1__CreateOrganizationResponse *r = arena_alloc(call->arena, 2 * sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__create_organization_response__init(r);
  r->organization = org;
  r->api_key = key;
  r->key_id = key_id;
  /* a replay returns everything but the key, which is never stored */
  r[1] = r[0];
  r[1].api_key = (char *)"";
  *resp = &r[0].base;
  *stored = &r[1].base;
  return 0;
}

int org_rpc_create_organization(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  create_arg c = {.req = (const Registry__V1__CreateOrganizationRequest *)m};
  org_violation v;
  if (org_rules_check_create(c.req, c.uscc, &c.roles, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__create_organization_response__descriptor, do_create,
                   &c, resp);
}

/* ---- IssueApiKey ---- */

typedef struct issue_arg {
  const char *org_id;
  int64_t valid_until_us;
} issue_arg;

static int do_issue(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                    ProtobufCMessage **stored) {
  issue_arg *c = arg;
  Registry__V1__Organization *org = NULL;
  int rv = org_store_get(pg, call->arena, c->org_id, -1, &org);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "organization", c->org_id);
  if (rv != 0) return rv;
  char *key = arena_alloc(call->arena, 64), *key_id = arena_alloc(call->arena, IDS_MAX);
  Registry__V1__ApiKey *meta = NULL;
  if (!key || !key_id) return REG_ENOMEM;
  if ((rv = org_store_key_create(pg, call_app(call)->token_key, c->org_id, c->valid_until_us, key,
                                 key_id, call->arena, &meta)) ||
      (rv = event(call, pg, EV(API_KEY_ISSUED), &meta->base)))
    return rv;
  Registry__V1__IssueApiKeyResponse *r = arena_alloc(call->arena, 2 * sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__issue_api_key_response__init(r);
  r->api_key = key;
  r->key_id = key_id;
  r[1] = r[0];
  r[1].api_key = (char *)"";
  *resp = &r[0].base;
  *stored = &r[1].base;
  return 0;
}

int org_rpc_issue_api_key(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__IssueApiKeyRequest *req = (const void *)m;
  issue_arg c = {0};
  if (key_target(call, req->organization_id, &c.org_id) != 0) return -1;
  if (req->valid_until) {
    c.valid_until_us = pbtime_us(req->valid_until);
    if (req->valid_until->nanos < 0 || req->valid_until->nanos > 999999999 ||
        c.valid_until_us <= clock_now_us())
      return rpc_fail_field(&call->status, "valid_until", "valid_until must be in the future");
  }
  return write_run(call, m, &registry__v1__issue_api_key_response__descriptor, do_issue, &c, resp);
}

/* ---- RevokeApiKey ---- */

static int do_revoke_key(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                         ProtobufCMessage **stored) {
  (void)stored;
  const char *key_id = arg;
  Registry__V1__ApiKey *k = NULL;
  int rv = org_store_key_get(pg, call->arena, key_id, &k);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "API key", key_id);
  if (rv != 0) return rv;
  if (strcmp(k->organization_id, call->caller.org_id) != 0 && !is_admin(call))
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "API key %s belongs to another organization", key_id);
  if (!k->revoked) {
    if ((rv = org_store_key_revoke(pg, key_id)) ||
        (rv = org_store_key_get(pg, call->arena, key_id, &k)) ||
        (rv = event(call, pg, EV(API_KEY_REVOKED), &k->base)))
      return rv;
  }
  return core_respond(call, &registry__v1__revoke_api_key_response__descriptor, "key", k, resp);
}

int org_rpc_revoke_api_key(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__RevokeApiKeyRequest *req = (const void *)m;
  if (!req->key_id || !*req->key_id) return rpc_fail_field(&call->status, "key_id", "key_id is required");
  return write_run(call, m, &registry__v1__revoke_api_key_response__descriptor, do_revoke_key,
                   req->key_id, resp);
}

/* ---- ListApiKeys ---- */

typedef struct list_keys_arg {
  const char *org_id;
  page_req page;
} list_keys_arg;

static int do_list_keys(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_keys_arg *c = arg;
  if (strcmp(c->org_id, call->caller.org_id) != 0) {
    Registry__V1__Organization *org = NULL;
    int rv = org_store_get(pg, call->arena, c->org_id, -1, &org);
    if (rv == REG_ENOTFOUND) return core_not_found(call, "organization", c->org_id);
    if (rv != 0) return rv;
  }
  Registry__V1__ListApiKeysResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__list_api_keys_response__init(r);
  int more = 0;
  int rv = org_store_key_list(pg, call->arena, c->org_id, c->page.cursor, c->page.size, &r->keys,
                              &r->n_keys, &more);
  if (rv == REG_EINVAL) return core_bad_page_token(call);
  if (rv != 0) return rv;
  if (more && r->n_keys &&
      (rv = core_page_token(call, &c->page, org_store_key_cursor(call->arena, r->keys[r->n_keys - 1]),
                            &r->next_page_token)) != 0)
    return rv;
  *resp = &r->base;
  return 0;
}


int org_rpc_list_api_keys(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ListApiKeysRequest *req = (const void *)m;
  list_keys_arg c = {0};
  if (key_target(call, req->organization_id, &c.org_id) != 0) return -1;
  const char *filters[] = {call->method->path, c.org_id};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 2, &c.page) != 0) return -1;
  return read_run(call, do_list_keys, &c, resp);
}

/* ---- Suspend / Reinstate ---- */

typedef struct suspend_arg {
  const char *org_id;
  const char *reason;
  int suspend;
} suspend_arg;

static int do_suspend(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                      ProtobufCMessage **stored) {
  (void)stored;
  suspend_arg *c = arg;
  Registry__V1__Organization *org = NULL;
  int rv = org_store_get(pg, call->arena, c->org_id, -1, &org);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "organization", c->org_id);
  if (rv != 0) return rv;
  int was_suspended = org->status == REGISTRY__V1__ORGANIZATION_STATUS__ORGANIZATION_STATUS_SUSPENDED;
  /* reinstating an active organization changes nothing and logs nothing;
   * suspending again records the new reason */
  if (c->suspend || was_suspended) {
    if ((rv = org_store_set_suspended(pg, c->org_id, c->suspend, c->reason)) ||
        (rv = org_store_get(pg, call->arena, c->org_id, -1, &org)) ||
        (rv = event(call, pg, c->suspend ? EV(ORGANIZATION_SUSPENDED) : EV(ORGANIZATION_REINSTATED),
                    &org->base)))
      return rv;
  }
  return core_respond(call,
                      c->suspend ? &registry__v1__suspend_organization_response__descriptor
                                 : &registry__v1__reinstate_organization_response__descriptor,
                      "organization", org, resp);
}

static int suspend_common(rpc_call *call, const ProtobufCMessage *m, const char *org_id,
                          const char *reason, int suspend, ProtobufCMessage **resp) {
  org_violation v;
  if (!org_id || !*org_id)
    return rpc_fail_field(&call->status, "organization_id", "organization_id is required");
  if (org_rules_check_text(reason, "reason", suspend, ORG_TEXT_MAX, &v) != 0) return bad(call, &v);
  if (suspend && strcmp(org_id, call->caller.org_id) == 0)
    return rpc_fail_reason(&call->status, RPC_FAILED_PRECONDITION, "CANNOT_SUSPEND_SELF",
                           "an organization cannot suspend itself");
  suspend_arg c = {org_id, reason ? reason : "", suspend};
  return write_run(call, m,
                   suspend ? &registry__v1__suspend_organization_response__descriptor
                           : &registry__v1__reinstate_organization_response__descriptor,
                   do_suspend, &c, resp);
}

int org_rpc_suspend_organization(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__SuspendOrganizationRequest *req = (const void *)m;
  return suspend_common(call, m, req->organization_id, req->reason, 1, resp);
}

int org_rpc_reinstate_organization(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ReinstateOrganizationRequest *req = (const void *)m;
  return suspend_common(call, m, req->organization_id, req->reason, 0, resp);
}

/* ---- GetOrganization / WhoAmI ---- */

static int get_org_plain(rpc_call *call, const char *id, Registry__V1__Organization **org) {
  if (core_timeout_ms(call) < 0) return rpc_fail(&call->status, RPC_DEADLINE_EXCEEDED, "deadline exceeded");
  int rv = org_store_get(call_pg(call), call->arena, id, -1, org);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "organization", id);
  if (rv != 0) return core_fail_err(call, rv);
  return 0;
}

int org_rpc_get_organization(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__GetOrganizationRequest *req = (const void *)m;
  if (!req->organization_id || !*req->organization_id)
    return rpc_fail_field(&call->status, "organization_id", "organization_id is required");
  if (strcmp(req->organization_id, call->caller.org_id) != 0 && !is_admin(call) &&
      !org_has_role(call->caller.roles, REGISTRY__V1__ROLE__ROLE_INSPECTOR))
    return rpc_fail(&call->status, RPC_PERMISSION_DENIED,
                    "only ADMIN and INSPECTOR read other organizations (see ListOrganizations)");
  Registry__V1__GetOrganizationResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
  registry__v1__get_organization_response__init(r);
  if (get_org_plain(call, req->organization_id, &r->organization) != 0) return -1;
  *resp = &r->base;
  return 0;
}

int org_rpc_who_am_i(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  (void)m;
  Registry__V1__WhoAmIResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return rpc_fail(&call->status, RPC_RESOURCE_EXHAUSTED, "out of memory");
  registry__v1__who_am_iresponse__init(r);
  if (get_org_plain(call, call->caller.org_id, &r->organization) != 0) return -1;
  r->key_id = call->caller.key_id;
  *resp = &r->base;
  return 0;
}

/* ---- SetQualification / RevokeQualification ---- */

typedef struct qual_arg {
  const char *org_id;
  int kind;
  const char *cert_no;
  const char *reason;
  clock_day from, until;
  int revoke;
} qual_arg;

static int do_qualification(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp,
                            ProtobufCMessage **stored) {
  (void)stored;
  qual_arg *c = arg;
  Registry__V1__Organization *org = NULL;
  int rv = org_store_get(pg, call->arena, c->org_id, -1, &org);
  if (rv == REG_ENOTFOUND) return core_not_found(call, "organization", c->org_id);
  if (rv != 0) return rv;
  if (c->revoke) {
    rv = org_store_revoke_qualification(pg, c->org_id, c->kind, c->reason);
    if (rv == REG_ENOTFOUND)
      return rpc_fail(&call->status, RPC_NOT_FOUND,
                      "organization %s holds no unrevoked qualification of that kind", c->org_id);
  } else {
    rv = org_store_set_qualification(pg, c->org_id, c->kind, c->cert_no, c->from, c->until);
  }
  if (rv || (rv = org_store_get(pg, call->arena, c->org_id, -1, &org)) ||
      (rv = event(call, pg, c->revoke ? EV(QUALIFICATION_REVOKED) : EV(QUALIFICATION_SET),
                  &org->base)))
    return rv;
  return core_respond(call,
                      c->revoke ? &registry__v1__revoke_qualification_response__descriptor
                                : &registry__v1__set_qualification_response__descriptor,
                      "organization", org, resp);
}

int org_rpc_set_qualification(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__SetQualificationRequest *req = (const void *)m;
  qual_arg c = {.org_id = req->organization_id, .kind = (int)req->kind, .cert_no = req->certificate_no};
  org_violation v;
  if (!c.org_id || !*c.org_id)
    return rpc_fail_field(&call->status, "organization_id", "organization_id is required");
  if (org_rules_check_qualification(req, &c.from, &c.until, &v) != 0) return bad(call, &v);
  return write_run(call, m, &registry__v1__set_qualification_response__descriptor,
                   do_qualification, &c, resp);
}

int org_rpc_revoke_qualification(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__RevokeQualificationRequest *req = (const void *)m;
  qual_arg c = {.org_id = req->organization_id, .kind = (int)req->kind, .reason = req->reason,
                .revoke = 1};
  org_violation v;
  if (!c.org_id || !*c.org_id)
    return rpc_fail_field(&call->status, "organization_id", "organization_id is required");
  if (org_rules_check_kind(c.kind, "kind", &v) != 0 ||
      org_rules_check_text(req->reason, "reason", 1, ORG_TEXT_MAX, &v) != 0)
    return bad(call, &v);
  return write_run(call, m, &registry__v1__revoke_qualification_response__descriptor,
                   do_qualification, &c, resp);
}

/* ---- ListOrganizations ---- */

typedef struct list_orgs_arg {
  int role, kind;
  clock_day valid_on;
  page_req page;
} list_orgs_arg;

static int do_list_orgs(rpc_call *call, pg_conn *pg, void *arg, ProtobufCMessage **resp) {
  list_orgs_arg *c = arg;
  Registry__V1__ListOrganizationsResponse *r = arena_alloc(call->arena, sizeof(*r));
  if (!r) return REG_ENOMEM;
  registry__v1__list_organizations_response__init(r);
  int more = 0;
  int rv = org_store_list(pg, call->arena, c->role, c->kind, c->valid_on, c->page.cursor,
                          c->page.size, &r->organizations, &r->n_organizations, &more);
  if (rv != 0) return rv;
  /* the public directory: no suspension details */
  for (size_t i = 0; i < r->n_organizations; i++) r->organizations[i]->suspended_reason = (char *)"";
  if (more && r->n_organizations &&
      (rv = core_page_token(call, &c->page, r->organizations[r->n_organizations - 1]->id,
                            &r->next_page_token)) != 0)
    return rv;
  *resp = &r->base;
  return 0;
}

int org_rpc_list_organizations(rpc_call *call, const ProtobufCMessage *m, ProtobufCMessage **resp) {
  const Registry__V1__ListOrganizationsRequest *req = (const void *)m;
  list_orgs_arg c = {.role = (int)req->role, .kind = (int)req->qualification_kind};
  org_violation v;
  if (c.role && org_rules_check_role(c.role, "role", &v) != 0) return bad(call, &v);
  if (c.kind && org_rules_check_kind(c.kind, "qualification_kind", &v) != 0) return bad(call, &v);
  if (core_parse_day(call, req->valid_on, "valid_on", &c.valid_on) != 0) return -1;
  if (!core_given(req->valid_on)) c.valid_on = clock_today_cst();
  char role[12], kind[12], day[11];
  snprintf(role, sizeof(role), "%d", c.role);
  snprintf(kind, sizeof(kind), "%d", c.kind);
  clock_day_format(c.valid_on, day);
  const char *filters[] = {call->method->path, role, kind, day};
  if (core_page_begin(call, req->page_size, req->page_token, filters, 4, &c.page) != 0) return -1;
  return read_run(call, do_list_orgs, &c, resp);
}

