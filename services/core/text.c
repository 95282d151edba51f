#include "services/core/text.h"

#include <string.h>

size_t text_chars(const char *s) {
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)s; *p; p++)
    if ((*p & 0xC0) != 0x80) n++;
  return n;
}

void text_trim(char *s) {
  if (!s || !*s) return;
  size_t b = 0, e = strlen(s);
  while (b < e && (s[b] == ' ' || s[b] == '\t')) b++;
  while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t')) e--;
  if (b == 0 && s[e] == 0) return; /* unchanged: never write */
  memmove(s, s + b, e - b);
  s[e - b] = 0;
}
