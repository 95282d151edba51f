/* tests services/org/org_rules.c: the validation an operator would expect
 * of CreateOrganization and SetQualification, each case naming its field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "services/org/org.h"

static const char *valid_uscc(void) {
  static char buf[32];
  char path[512];
  snprintf(path, sizeof(path), "%s/identifiers.json", getenv("REG_TEST_DATA"));
  json_t *j = json_load_file(path, 0, NULL);
  assert_non_null(j);
  snprintf(buf, sizeof(buf), "%s", json_string_value(json_array_get(json_object_get(j, "uscc_valid"), 0)));
  json_decref(j);
  return buf;
}

typedef struct create_case {
  const char *what;
  const char *name;
  const char *uscc; /* "VALID": a valid one from the vectors */
  int roles[3];
  size_t n_roles;
  const char *region;
  const char *field; /* NULL: accepted */
} create_case;

static void test_create(void **st) {
  (void)st;
  char long_name[700];
  memset(long_name, 'a', 201);
  long_name[201] = 0;
  char cjk_name[700] = "";
  for (int i = 0; i < 200; i++) strcat(cjk_name, "回"); /* 200 characters, 600 bytes: fine */
  const create_case cases[] = {
      {"valid platform", "Yangquan Market Co.", "VALID", {1}, 1, "140302", NULL},
      {"valid, several roles", "回收公司", "VALID", {2, 3}, 2, "140302", NULL},
      {"200 CJK characters", cjk_name, "VALID", {1}, 1, "140302", NULL},
      {"lower-case uscc normalized", "X", "lower", {1}, 1, "140302", NULL},
      {"empty name", "", "VALID", {1}, 1, "140302", "name"},
      {"blank name", "   ", "VALID", {1}, 1, "140302", "name"},
      {"name too long", long_name, "VALID", {1}, 1, "140302", "name"},
      {"control char in name", "a\tb", "VALID", {1}, 1, "140302", "name"},
      {"bad uscc check", "X", "91350100M000100Y44", {1}, 1, "140302", "uscc"},
      {"empty uscc", "X", "", {1}, 1, "140302", "uscc"},
      {"no roles", "X", "VALID", {0}, 0, "140302", "roles"},
      {"ROLE_UNSPECIFIED", "X", "VALID", {0}, 1, "140302", "roles"},
      {"unknown role", "X", "VALID", {1, 99}, 2, "140302", "roles"},
      {"region 5 digits", "X", "VALID", {1}, 1, "14030", "region_code"},
      {"region letters", "X", "VALID", {1}, 1, "14030a", "region_code"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const create_case *c = &cases[i];
    Registry__V1__CreateOrganizationRequest req = REGISTRY__V1__CREATE_ORGANIZATION_REQUEST__INIT;
    Registry__V1__Role roles[3];
    char uscc[32];
    if (!strcmp(c->uscc, "VALID")) snprintf(uscc, sizeof(uscc), "%s", valid_uscc());
    else if (!strcmp(c->uscc, "lower")) {
      snprintf(uscc, sizeof(uscc), "%s", valid_uscc());
      for (char *p = uscc; *p; p++) if (*p >= 'A' && *p <= 'Z') *p = (char)(*p + 32);
    } else snprintf(uscc, sizeof(uscc), "%s", c->uscc);
    for (size_t k = 0; k < c->n_roles; k++) roles[k] = (Registry__V1__Role)c->roles[k];
    req.name = (char *)c->name;
    req.uscc = uscc;
    req.roles = roles;
    req.n_roles = c->n_roles;
    req.region_code = (char *)c->region;
    char out[19] = "";
    uint32_t mask = 0;
    org_violation v = {{0}, {0}};
    int rv = org_rules_check_create(&req, out, &mask, &v);
    if (!c->field) {
      if (rv != 0) fail_msg("%s: refused on %s: %s", c->what, v.field, v.message);
      assert_string_equal(out, valid_uscc()); /* normalized to upper case */
      for (size_t k = 0; k < c->n_roles; k++) assert_true(mask & (1u << c->roles[k]));
    } else {
      if (rv != REG_EINVAL) fail_msg("%s: accepted", c->what);
      if (strcmp(v.field, c->field) != 0)
        fail_msg("%s: field %s, expected %s", c->what, v.field, c->field);
      assert_true(strlen(v.message) > 0);
    }
  }
}

typedef struct qual_case {
  const char *what;
  int kind;
  const char *cert;
  const char *from, *until;
  const char *field;
} qual_case;

static void test_qualification(void **st) {
  (void)st;
  const qual_case cases[] = {
      {"valid", 1, "SX-2024-001", "2024-01-01", "2027-12-31", NULL},
      {"one day", 4, "W-1", "2026-11-28", "2026-11-28", NULL},
      {"kind unspecified", 0, "C", "2024-01-01", "2025-01-01", "kind"},
      {"kind unknown", 6, "C", "2024-01-01", "2025-01-01", "kind"},
      {"no certificate", 1, "", "2024-01-01", "2025-01-01", "certificate_no"},
      {"bad from", 1, "C", "2024-02-30", "2025-01-01", "valid_from"},
      {"empty until", 1, "C", "2024-01-01", "", "valid_until"},
      {"until before from", 1, "C", "2025-01-02", "2025-01-01", "valid_until"},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const qual_case *c = &cases[i];
    Registry__V1__SetQualificationRequest req = REGISTRY__V1__SET_QUALIFICATION_REQUEST__INIT;
    req.kind = (Registry__V1__QualificationKind)c->kind;
    req.certificate_no = (char *)c->cert;
    req.valid_from = (char *)c->from;
    req.valid_until = (char *)c->until;
    clock_day f = -1, u = -1;
    org_violation v = {{0}, {0}};
    int rv = org_rules_check_qualification(&req, &f, &u, &v);
    if (!c->field) {
      if (rv != 0) fail_msg("%s: refused on %s", c->what, v.field);
      clock_day ef, eu;
      assert_int_equal(clock_day_parse(c->from, &ef), 0);
      assert_int_equal(clock_day_parse(c->until, &eu), 0);
      assert_int_equal(f, ef);
      assert_int_equal(u, eu);
    } else {
      if (rv != REG_EINVAL) fail_msg("%s: accepted", c->what);
      if (strcmp(v.field, c->field) != 0)
        fail_msg("%s: field %s, expected %s", c->what, v.field, c->field);
    }
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_create),
      cmocka_unit_test(test_qualification),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
