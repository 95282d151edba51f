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
      cmocka_unit_test(test_master_key),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
