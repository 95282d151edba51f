/*
 * Error codes shared by every module below the RPC layer. Fallible functions
 * return 0 or one of these (negative); gRPC status codes appear only in
 * services/rpc and the thin <svc>_rpc.c handlers, which map these.
 */
#ifndef REG_BASE_ERR_H
#define REG_BASE_ERR_H

#define REG_MUST_CHECK __attribute__((warn_unused_result))

enum reg_err {
  REG_OK = 0,
  REG_ENOMEM = -1,     /* allocation failed or a hard size limit was hit */
  REG_EINVAL = -2,     /* malformed input */
  REG_EIO = -3,        /* an I/O or SQL error that is not one of the below */
  REG_ENOTFOUND = -4,  /* no such row / key */
  REG_EEXIST = -5,     /* unique key already present */
  REG_EUNAVAIL = -6,   /* PostgreSQL or Redis unreachable */
  REG_ETIMEDOUT = -7,  /* deadline or statement timeout */
  REG_ECRYPTO = -8,    /* authentication tag / signature check failed */
  REG_ERANGE = -9,     /* value out of range, buffer too small */
  REG_EPERM = -10,     /* not allowed */
  REG_ECONFLICT = -11, /* serialization failure, lock held: retry */
};

/* A static English description; never NULL. */
const char *reg_strerror(int err);

#endif
