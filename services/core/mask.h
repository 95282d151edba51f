/*
 * Masking of personal data in responses (SPEC §3), counting Unicode
 * characters, not bytes: input is assumed to be valid UTF-8 (it was
 * validated on the way in).
 *
 * Every function returns a NUL-terminated string allocated from the
 * arena (it dies with the arena; never free it), or NULL when s is NULL
 * or the arena is exhausted.
 */
#ifndef REG_CORE_MASK_H
#define REG_CORE_MASK_H

#include "services/base/arena.h"

/* A person's name: 1 character → "*"; 2 → first + "*"; 3 or more →
 * first + "*" + last ("张小三" → "张*三", "欧阳小明" → "欧*明"). The empty
 * name stays "". */
char *mask_name(arena *a, const char *name);

/* An ID number: first 4 + ten "*" + last 4 ("110105194912310021" →
 * "1101**********0021"). An input of 8 characters or fewer, which that
 * rule would show whole, becomes as many "*" as it has characters. */
char *mask_id_number(arena *a, const char *id);

/* A phone number: first 3 + "****" + last 4 ("13812345678" →
 * "138****5678"). An input of 7 characters or fewer, which that rule
 * would show whole, becomes as many "*" as it has characters. */
char *mask_phone(arena *a, const char *phone);

#endif
