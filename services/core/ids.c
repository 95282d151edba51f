/*
 * Opaque ids from libsodium's CSPRNG (randombytes_buf is thread-safe once
 * sodium_init has run, which registryd does first thing).
 */
#include "services/core/ids.h"

#include <sodium.h>
#include <stdio.h>

void ids_new(const char *prefix, char *out, size_t cap) {
  unsigned char r[12];
  char hex[25];
  randombytes_buf(r, sizeof(r));
  sodium_bin2hex(hex, sizeof(hex), r, sizeof(r));
  snprintf(out, cap, "%s_%s", prefix, hex);
}
