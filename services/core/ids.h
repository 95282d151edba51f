/*
 * Server-assigned opaque ids: a type prefix, '_', and 24 lowercase hex
 * digits of fresh randomness (96 bits): org_…, key_…, evt_…
 */
#ifndef REG_CORE_IDS_H
#define REG_CORE_IDS_H

#include <stddef.h>

#define IDS_MAX 48

/* Writes "<prefix>_<24 hex>" into out (cap ≥ strlen(prefix) + 26). */
void ids_new(const char *prefix, char *out, size_t cap);

#endif
