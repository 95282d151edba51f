/*
 * Redis addresses, shared by the synchronous (kv.c) and the asynchronous
 * (kv_async.c) clients.
 */
#include "storage/redis/kv_addr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "services/base/err.h"

int kv_addr_parse(const char *addr, char *host, size_t cap, int *port) {
  const char *colon;
  const char *h = addr;
  size_t hlen;
  if (addr[0] == '[') {
    const char *end = strchr(addr, ']');
    if (!end || end[1] != ':') return REG_EINVAL;
    h = addr + 1;
    hlen = (size_t)(end - h);
    colon = end + 1;
  } else {
    colon = strrchr(addr, ':');
    if (!colon) return REG_EINVAL;
    hlen = (size_t)(colon - addr);
  }
  if (hlen == 0 || hlen >= cap) return REG_EINVAL;
  char *endp = NULL;
  errno = 0;
  long p = strtol(colon + 1, &endp, 10);
  if (errno || !endp || *endp || endp == colon + 1 || p < 1 || p > 65535) return REG_EINVAL;
  memcpy(host, h, hlen);
  host[hlen] = '\0';
  *port = (int)p;
  return 0;
}
