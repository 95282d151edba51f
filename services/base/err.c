/*
 * Descriptions of the registry's own error codes (err.h).
 */
#include "services/base/err.h"

const char *reg_strerror(int err) {
  switch (err) {
  case REG_OK: return "success";
  case REG_ENOMEM: return "out of memory or size limit";
  case REG_EINVAL: return "invalid input";
  case REG_EIO: return "I/O error";
  case REG_ENOTFOUND: return "not found";
  case REG_EEXIST: return "already exists";
  case REG_EUNAVAIL: return "service unavailable";
  case REG_ETIMEDOUT: return "timed out";
  case REG_ECRYPTO: return "cryptographic check failed";
  case REG_ERANGE: return "out of range";
  case REG_EPERM: return "not permitted";
  case REG_ECONFLICT: return "conflict, retry";
  default: return "unknown error";
  }
}
