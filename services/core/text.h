/*
 * Small text helpers every service's rules use (strings arrive as valid
 * UTF-8: the transport checks every string before a handler runs).
 */
#ifndef REG_CORE_TEXT_H
#define REG_CORE_TEXT_H

#include <stddef.h>

/* Unicode characters (code points) of a valid UTF-8 string: every byte
 * that is not a continuation byte (0x80..0xBF) starts one. */
size_t text_chars(const char *s);

/* Removes leading and trailing spaces and tabs in place. A string with
 * none is never written to (protobuf-c's shared empty string stays
 * untouched). NULL is a no-op. */
void text_trim(char *s);

#endif
