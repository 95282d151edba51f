/*
 * The plain driver of the fuzz targets for builds without libFuzzer (the
 * normal and the sanitized gcc builds): runs LLVMFuzzerTestOneInput once
 * over every regular file named on the command line or found (not
 * recursively) in a directory named there, in name order so that a failure
 * is reproducible. ctest runs it over tests/fuzz/corpus/<name>/ (label
 * fuzz). Exit 0 when every input ran; a broken property aborts, and the
 * sanitizers report on their own. Prints the file before running it, so
 * that the last line names a crashing input.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/fuzz/fuzz.h"

/* Targets that need no setup do not define it. */
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

static int run_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
    return -1;
  }
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len == cap) {
      size_t ncap = cap ? 2 * cap : 4096;
      uint8_t *nb = realloc(buf, ncap);
      if (!nb) {
        fprintf(stderr, "replay: %s: out of memory\n", path);
        free(buf);
        fclose(f);
        return -1;
      }
      buf = nb;
      cap = ncap;
    }
    size_t n = fread(buf + len, 1, cap - len, f);
    len += n;
    if (n == 0) break;
  }
  int err = ferror(f);
  fclose(f);
  if (err) {
    fprintf(stderr, "replay: %s: read error\n", path);
    free(buf);
    return -1;
  }
  fprintf(stderr, "replay: %s (%zu bytes)\n", path, len);
  /* An exact-size copy, so that a read past the input is an ASan error
   * here too, as it is under libFuzzer. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  if (len) memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  return 0;
}

static int cmp_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int run_dir(const char *dir, size_t *count) {
  DIR *d = opendir(dir);
  if (!d) {
    fprintf(stderr, "replay: %s: %s\n", dir, strerror(errno));
    return -1;
  }
  char **names = NULL;
  size_t n = 0, cap = 0;
  int rv = 0;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    if (n == cap) {
      size_t ncap = cap ? 2 * cap : 64;
      char **nn = realloc(names, ncap * sizeof(*nn));
      if (!nn) {
        rv = -1;
        break;
      }
      names = nn;
      cap = ncap;
    }
    size_t need = strlen(dir) + 1 + strlen(e->d_name) + 1;
    names[n] = malloc(need);
    if (!names[n]) {
      rv = -1;
      break;
    }
    snprintf(names[n], need, "%s/%s", dir, e->d_name);
    n++;
  }
  closedir(d);
  if (rv == 0) qsort(names, n, sizeof(*names), cmp_names);
  for (size_t i = 0; rv == 0 && i < n; i++) {
    struct stat st;
    if (stat(names[i], &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (run_file(names[i]) != 0) rv = -1;
    else (*count)++;
  }
  for (size_t i = 0; i < n; i++) free(names[i]);
  free(names);
  return rv;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
    return 2;
  }
  if (LLVMFuzzerInitialize) LLVMFuzzerInitialize(&argc, &argv);
  size_t count = 0;
  int rv = 0;
  for (int i = 1; i < argc; i++) {
    struct stat st;
    if (stat(argv[i], &st) != 0) {
      fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
      rv = 1;
    } else if (S_ISDIR(st.st_mode)) {
      if (run_dir(argv[i], &count) != 0) rv = 1;
    } else if (run_file(argv[i]) != 0) {
      rv = 1;
    } else {
      count++;
    }
  }
  fprintf(stderr, "replay: %zu inputs\n", count);
  if (count == 0) rv = 1; /* an empty corpus is a mistake, not a pass */
  return rv;
}
