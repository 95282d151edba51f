/*
 * The check every rules unit test makes of a verdict (a core_violation,
 * services/core/text.h): included by the rules unit tests under tests/unit.
 */
#ifndef REG_TESTS_UNIT_RULESTEST_H
#define REG_TESTS_UNIT_RULESTEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "services/base/err.h"
#include "services/core/text.h"

/* Checks a rule's verdict: `field` NULL → accepted; otherwise refused with
 * REG_EINVAL naming exactly `field` (or, when `field` ends in '*', a field
 * that starts with what comes before it), with a message. */
static inline void expect(const char *what, int rv, const core_violation *v, const char *field) {
  if (!field) {
    if (rv != 0) fail_msg("%s: refused (%d) on %s: %s", what, rv, v->field, v->message);
    return;
  }
  if (rv != REG_EINVAL) fail_msg("%s: accepted (%d), expected a refusal on %s", what, rv, field);
  size_t fl = strlen(field);
  int ok = fl > 0 && field[fl - 1] == '*' ? strncmp(v->field, field, fl - 1) == 0
                                          : strcmp(v->field, field) == 0;
  if (!ok) fail_msg("%s: refused on %s (%s), expected %s", what, v->field, v->message, field);
  if (!v->message[0]) fail_msg("%s: no message", what);
}

#endif
