/* tests services/base/config.c: precedence INI < environment < flags,
 * extra flags, bad values, the master key file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "services/base/config.h"
#include "services/base/err.h"

static char ini_path[64];

static int setup(void **st) {
  (void)st;
  snprintf(ini_path, sizeof(ini_path), "/tmp/reg_config_test_%d.ini", (int)getpid());
  FILE *f = fopen(ini_path, "w");
  fprintf(f, "[registry]\nlisten = 127.0.0.1:1111\nworkers = 3\nregistry_id = from-ini\n"
             "redis = 127.0.0.1:2222\n");
  fclose(f);
  unsetenv("REGISTRY_LISTEN");
  unsetenv("REGISTRY_WORKERS");
  unsetenv("REGISTRY_CONFIG");
  return 0;
}

static int teardown(void **st) {
  (void)st;
  unlink(ini_path);
  unsetenv("REGISTRY_WORKERS");
  unsetenv("REGISTRY_ID");
  return 0;
}

static void test_precedence(void **st) {
  (void)st;
  reg_config c;
  config_defaults(&c);
  assert_string_equal(c.listen, "127.0.0.1:50051");
  assert_int_equal(c.max_message_bytes, 4u << 20);
  setenv("REGISTRY_WORKERS", "5", 1);
  setenv("REGISTRY_ID", "from-env", 1);
  char name[32] = "";
  config_extra extra[] = {{"name", name, sizeof(name)}};
  char *argv[] = {"registryd", "admin", "bootstrap", "--config", ini_path,
                  "--registry-id=from-flag", "--name", "Operator", NULL};
  int rest[4], n_rest = -1;
  assert_int_equal(config_load(&c, 8, argv, 3, extra, 1, rest, 4, &n_rest), 0);
  assert_string_equal(c.listen, "127.0.0.1:1111"); /* INI */
  assert_string_equal(c.redis, "127.0.0.1:2222");  /* INI */
  assert_int_equal(c.workers, 5);                  /* env over INI */
  assert_string_equal(c.registry_id, "from-flag"); /* flag over env and INI */
  assert_string_equal(name, "Operator");
  assert_int_equal(n_rest, 0);
}

static void test_rejects(void **st) {
  (void)st;
  reg_config c;
  config_defaults(&c);
  char *unknown[] = {"registryd", "--no-such-flag", "1", NULL};
  assert_int_equal(config_load(&c, 3, unknown, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
  char *badnum[] = {"registryd", "--workers", "many", NULL};
  assert_int_equal(config_load(&c, 3, badnum, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
  char *range[] = {"registryd", "--workers", "0", NULL};
  assert_int_equal(config_load(&c, 3, range, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
  char *novalue[] = {"registryd", "--workers", NULL};
  assert_int_equal(config_load(&c, 2, novalue, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
  char *missing[] = {"registryd", "--config", "/nonexistent/x.ini", NULL};
  assert_int_equal(config_load(&c, 3, missing, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
}

/* The listing settings: the scrapping-age table spec (a string holding
 * ':' and '=', which the INI reader must pass through) and the
 * guided-scrapping threshold (an int64_t). */
static void test_listing_settings(void **st) {
  (void)st;
  unsetenv("REGISTRY_SCRAPPING_AGE");
  unsetenv("REGISTRY_GUIDED_SCRAPPING_KM");
  reg_config c;
  config_defaults(&c);
  assert_string_equal(c.scrapping_age, ""); /* the built-in table only */
  assert_true(c.guided_scrapping_km == 600000);

  char path[64];
  snprintf(path, sizeof(path), "/tmp/reg_config_listing_%d.ini", (int)getpid());
  FILE *f = fopen(path, "w");
  assert_non_null(f);
  fprintf(f, "[registry]\nscrapping_age = 2030-01-01:TAXI/SMALL_PASSENGER=6,*/SPECIAL=none\n"
             "guided_scrapping_km = 500000\n");
  fclose(f);
  char *ini_only[] = {"registryd", "--config", path, NULL};
  assert_int_equal(config_load(&c, 3, ini_only, 1, NULL, 0, NULL, 0, NULL), 0);
  assert_string_equal(c.scrapping_age, "2030-01-01:TAXI/SMALL_PASSENGER=6,*/SPECIAL=none");
  assert_true(c.guided_scrapping_km == 500000);

  /* environment over INI, flags over both */
  config_defaults(&c);
  setenv("REGISTRY_GUIDED_SCRAPPING_KM", "400000", 1);
  setenv("REGISTRY_SCRAPPING_AGE", "TAXI/*=7", 1);
  assert_int_equal(config_load(&c, 3, ini_only, 1, NULL, 0, NULL, 0, NULL), 0);
  assert_string_equal(c.scrapping_age, "TAXI/*=7");
  assert_true(c.guided_scrapping_km == 400000);
  char *flags[] = {"registryd", "--config", path, "--scrapping-age=", "--guided-scrapping-km",
                   "9000000000", NULL}; /* fits int64_t, above the 100,000,000 limit */
  assert_int_equal(config_load(&c, 6, flags, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);
  flags[5] = "700000";
  config_defaults(&c);
  assert_int_equal(config_load(&c, 6, flags, 1, NULL, 0, NULL, 0, NULL), 0);
  assert_string_equal(c.scrapping_age, ""); /* an empty flag clears it */
  assert_true(c.guided_scrapping_km == 700000);
  unsetenv("REGISTRY_SCRAPPING_AGE");
  unsetenv("REGISTRY_GUIDED_SCRAPPING_KM");
  unlink(path);

  /* bad values */
  const char *bad_km[] = {"0", "-1", "600k", "", "100000001", "1e6"};
  for (size_t i = 0; i < sizeof(bad_km) / sizeof(bad_km[0]); i++) {
    char *argv[] = {"registryd", "--guided-scrapping-km", (char *)bad_km[i], NULL};
    config_defaults(&c);
    if (config_load(&c, 3, argv, 1, NULL, 0, NULL, 0, NULL) != REG_EINVAL)
      fail_msg("--guided-scrapping-km %s accepted", bad_km[i]);
    assert_true(c.guided_scrapping_km == 600000);
  }
  char *max_km[] = {"registryd", "--guided-scrapping-km", "100000000", NULL};
  assert_int_equal(config_load(&c, 3, max_km, 1, NULL, 0, NULL, 0, NULL), 0);
  assert_true(c.guided_scrapping_km == 100000000);
  static char spec[2100];
  memset(spec, 'A', sizeof(c.scrapping_age) - 1); /* 2047 characters fit */
  spec[sizeof(c.scrapping_age) - 1] = 0;
  char *fits[] = {"registryd", "--scrapping-age", spec, NULL};
  assert_int_equal(config_load(&c, 3, fits, 1, NULL, 0, NULL, 0, NULL), 0);
  assert_int_equal(strlen(c.scrapping_age), sizeof(c.scrapping_age) - 1);
  spec[sizeof(c.scrapping_age) - 1] = 'A'; /* 2048: too long */
  spec[sizeof(c.scrapping_age)] = 0;
  assert_int_equal(config_load(&c, 3, fits, 1, NULL, 0, NULL, 0, NULL), REG_EINVAL);

  /* --help lists both with their variables */
  char *text = NULL;
  size_t len = 0;
  FILE *out = open_memstream(&text, &len);
  assert_non_null(out);
  config_usage(out);
  fclose(out);
  assert_non_null(strstr(text, "--scrapping-age"));
  assert_non_null(strstr(text, "REGISTRY_SCRAPPING_AGE"));
  assert_non_null(strstr(text, "--guided-scrapping-km"));
  assert_non_null(strstr(text, "REGISTRY_GUIDED_SCRAPPING_KM"));
  free(text);
}

static void test_master_key(void **st) {
  (void)st;
  char path[64];
  snprintf(path, sizeof(path), "/tmp/reg_mk_test_%d", (int)getpid());
  unsigned char key[32];
  FILE *f = fopen(path, "w");
  fprintf(f, "  000102030405060708090a0b0c0d0e0f101112131415161718191A1B1C1D1E1F\n\n");
  fclose(f);
  assert_int_equal(config_read_master_key(path, key), 0);
  for (int i = 0; i < 32; i++) assert_int_equal(key[i], i);
  f = fopen(path, "w");
  fprintf(f, "0001020304\n"); /* too short */
  fclose(f);
  memset(key, 7, sizeof(key));
  assert_int_equal(config_read_master_key(path, key), REG_EINVAL);
  assert_int_equal(key[0], 7); /* untouched */
  f = fopen(path, "w");
  fprintf(f, "zz0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n");
  fclose(f);
  assert_int_equal(config_read_master_key(path, key), REG_EINVAL);
  unlink(path);
  assert_int_equal(config_read_master_key(path, key), REG_EIO);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
      cmocka_unit_test(test_rejects),
      cmocka_unit_test(test_listing_settings),
      cmocka_unit_test(test_master_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
