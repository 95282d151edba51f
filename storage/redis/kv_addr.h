/*
 * Parsing of a Redis address: "host:port" or "[v6]:port". Internal to
 * storage/redis.
 */
#ifndef REG_STORAGE_KV_ADDR_H
#define REG_STORAGE_KV_ADDR_H

#include <stddef.h>

/* 0 with host (NUL-terminated, at most cap - 1 bytes) and port 1..65535;
 * else REG_EINVAL, outputs untouched. */
int kv_addr_parse(const char *addr, char *host, size_t cap, int *port);

#endif
