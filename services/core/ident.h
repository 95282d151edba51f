/*
 * Validators for the identifiers of DOMAIN §5. Each checks length,
 * alphabet and check character, accepts lower case, and writes the
 * normalized (upper-case) form, NUL-terminated, to out — only on success.
 * All return 0 or REG_EINVAL; none allocates.
 */
#ifndef REG_CORE_IDENT_H
#define REG_CORE_IDENT_H

#include "services/base/err.h"

/* VIN (ISO 3779 / GB 16735): 17 characters from 0-9 A-Z without I, O, Q;
 * position 9 is the check digit (0-9 or X). */
int ident_vin_check(const char *in, char out[18]) REG_MUST_CHECK;

/* IMEI (3GPP TS 23.003): 15 digits, the last a Luhn check digit. */
int ident_imei_check(const char *in, char out[16]) REG_MUST_CHECK;

/* Resident ID (GB 11643-1999): 6-digit area code, 8-digit birth date that
 * is a real date from 1900-01-01 to today (Asia/Shanghai), 3-digit
 * sequence, ISO 7064 MOD 11-2 check character (0-9 or X; "x" accepted and
 * written "X"). The area code is checked for digits only. */
int ident_resident_id_check(const char *in, char out[19]) REG_MUST_CHECK;

/* Unified social credit code (GB 32100-2015): 18 characters from
 * 0-9 A-H J-N P-R T U W-Y, characters 3–8 a 6-digit area code, the GB
 * 32100 check character, and the GB 11714 check character (the 17th) of
 * the organization code embedded in characters 9–17. */
int ident_uscc_check(const char *in, char out[19]) REG_MUST_CHECK;

/* 0 if in is a canonical textual UUID: 36 characters, hex digits (either
 * case) in groups 8-4-4-4-12 separated by "-". Version and variant bits
 * are not checked. */
int ident_uuid_check(const char *in) REG_MUST_CHECK;

#endif
