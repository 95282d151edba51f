/*
 * The libFuzzer entry points every target in tests/fuzz defines. Built
 * with -fsanitize=fuzzer (FUZZ=ON) libFuzzer's main calls them; in every
 * other build replay_main.c does, over the committed corpus.
 */
#ifndef REG_TESTS_FUZZ_FUZZ_H
#define REG_TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input; returns 0 (libFuzzer reserves other values). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
/* Optional one-time setup, before the first input. */
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* A broken property: report it and abort, so that both libFuzzer and the
 * replay driver (and ctest) see a crash with the line that failed. */
#define FUZZ_CHECK(cond)                                                    \
  do {                                                                      \
    if (!(cond)) {                                                          \
      fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__,   \
              #cond);                                                       \
      abort();                                                              \
    }                                                                       \
  } while (0)

#endif
