/*
 * Validation of OrgService requests: pure functions over the decoded
 * request, no I/O, each naming the first bad field. Strings are already
 * valid UTF-8 (the transport checks every string before a handler runs).
 */
#include <stdio.h>
#include <string.h>

#include "services/core/ident.h"
#include "services/core/text.h"
#include "services/org/org.h"

static int fail(org_violation *v, const char *field, const char *msg) {
  snprintf(v->field, sizeof(v->field), "%s", field);
  snprintf(v->message, sizeof(v->message), "%s", msg);
  return REG_EINVAL;
}


int org_rules_check_text(const char *s, const char *field, int required, size_t max_chars,
                         org_violation *v) {
  if (!s) s = "";
  int blank = 1;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if (*p < 0x20 || *p == 0x7f) return fail(v, field, "must not contain control characters");
    if (*p != ' ') blank = 0;
  }
  if (required && blank) return fail(v, field, "is required");
  if (text_chars(s) > max_chars) {
    char m[64];
    snprintf(m, sizeof(m), "is longer than %zu characters", max_chars);
    return fail(v, field, m);
  }
  return 0;
}

int org_rules_check_role(int role, const char *field, org_violation *v) {
  if (role < REGISTRY__V1__ROLE__ROLE_PLATFORM || role > REGISTRY__V1__ROLE__ROLE_ADMIN)
    return fail(v, field, "must be a known role other than ROLE_UNSPECIFIED");
  return 0;
}

int org_rules_check_kind(int kind, const char *field, org_violation *v) {
  if (kind < REGISTRY__V1__QUALIFICATION_KIND__QUALIFICATION_KIND_REVERSE_INVOICE ||
      kind > REGISTRY__V1__QUALIFICATION_KIND__QUALIFICATION_KIND_APPRAISAL)
    return fail(v, field, "must be a known qualification kind other than UNSPECIFIED");
  return 0;
}

int org_rules_check_create(const Registry__V1__CreateOrganizationRequest *req,
                           char uscc_out[19], uint32_t *roles_out, org_violation *v) {
  if (org_rules_check_text(req->name, "name", 1, ORG_NAME_MAX, v)) return REG_EINVAL;
  char uscc[19];
  if (ident_uscc_check(req->uscc ? req->uscc : "", uscc) != 0)
    return fail(v, "uscc", "is not a valid unified social credit code (GB 32100-2015)");
  if (req->n_roles == 0) return fail(v, "roles", "at least one role is required");
  uint32_t roles = 0;
  for (size_t i = 0; i < req->n_roles; i++) {
    if (org_rules_check_role((int)req->roles[i], "roles", v)) return REG_EINVAL;
    roles |= 1u << req->roles[i];
  }
  const char *rc = req->region_code ? req->region_code : "";
  if (strlen(rc) != 6 || strspn(rc, "0123456789") != 6)
    return fail(v, "region_code", "must be a 6-digit administrative division code");
  memcpy(uscc_out, uscc, sizeof(uscc));
  *roles_out = roles;
  return 0;
}

int org_rules_check_qualification(const Registry__V1__SetQualificationRequest *req,
                                  clock_day *from, clock_day *until, org_violation *v) {
  if (org_rules_check_kind((int)req->kind, "kind", v)) return REG_EINVAL;
  if (org_rules_check_text(req->certificate_no, "certificate_no", 1, ORG_TEXT_MAX, v))
    return REG_EINVAL;
  clock_day f, u;
  if (clock_day_parse(req->valid_from, &f) != 0)
    return fail(v, "valid_from", "must be a date YYYY-MM-DD");
  if (clock_day_parse(req->valid_until, &u) != 0)
    return fail(v, "valid_until", "must be a date YYYY-MM-DD");
  if (u < f) return fail(v, "valid_until", "must not be before valid_from");
  *from = f;
  *until = u;
  return 0;
}
