/*
 * The worker pool: N threads that run handlers as plain synchronous
 * functions, each with its own state from worker_init (its PostgreSQL and
 * Redis connections), created and destroyed on that thread.
 *
 * One FIFO queue, bounded by max_queue: a submit over the bound fails with
 * REG_EUNAVAIL and the caller answers UNAVAILABLE (the overload is
 * transient and every gRPC client may retry it; RESOURCE_EXHAUSTED is kept
 * for per-key quotas). A job whose deadline passed while it waited is not
 * started: it goes back marked skipped, so no statement runs for a caller
 * that already got DEADLINE_EXCEEDED.
 *
 * Results go back to the job's own loop through rpc_loop_post: a per-loop
 * list under a mutex, and one event_active() when the list turns non-empty,
 * so a burst of results costs one wake-up.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "services/base/clock.h"
#include "services/base/err.h"
#include "services/base/log.h"
#include "services/rpc/rpc_internal.h"

struct rpc_pool {
  rpc_server *srv;
  int n;
  size_t max_queue;
  pthread_mutex_t mu;
  pthread_cond_t cv;       /* work or stop */
  pthread_cond_t ready_cv; /* a worker finished worker_init */
  rpc_job *head, *tail;
  _Atomic size_t depth;
  int stop;
  int n_ready, n_failed, init_err;
  pthread_t *threads;
  int n_threads;
};

typedef struct worker_arg {
  rpc_pool *p;
  int index;
} worker_arg;

static void *worker_main(void *argp) {
  worker_arg wa = *(worker_arg *)argp;
  free(argp);
  rpc_pool *p = wa.p;
  rpc_server *srv = p->srv;
  void *state = NULL;
  int rv = 0;
  if (srv->cfg.worker_init) rv = srv->cfg.worker_init(srv->cfg.app, wa.index, &state);

  pthread_mutex_lock(&p->mu);
  if (rv != 0) {
    p->n_failed++;
    p->init_err = rv;
  } else {
    p->n_ready++;
  }
  pthread_cond_broadcast(&p->ready_cv);
  pthread_mutex_unlock(&p->mu);
  if (rv != 0) {
    log_error(NULL, "worker %d: worker_init failed: %s", wa.index, reg_strerror(rv));
    return NULL;
  }

  for (;;) {
    pthread_mutex_lock(&p->mu);
    while (!p->head && !p->stop) pthread_cond_wait(&p->cv, &p->mu);
    if (p->stop) {
      pthread_mutex_unlock(&p->mu);
      break;
    }
    rpc_job *j = p->head;
    p->head = j->next;
    if (!p->head) p->tail = NULL;
    atomic_fetch_sub_explicit(&p->depth, 1, memory_order_relaxed);
    pthread_mutex_unlock(&p->mu);

    j->next = NULL;
    j->worker_index = wa.index;
    if (j->deadline_us && clock_mono_us() >= j->deadline_us) {
      j->skipped = 1;
    } else {
      j->skipped = 0;
      j->run(j, state);
    }
    rpc_loop_post(j->loop, j);
  }
  if (srv->cfg.worker_fini) srv->cfg.worker_fini(srv->cfg.app, state);
  return NULL;
}

int rpc_pool_new(rpc_server *srv, int n, size_t max_queue, rpc_pool **out) {
  int rv = REG_ENOMEM;
  rpc_pool *p = calloc(1, sizeof(*p));
  if (!p) goto fail;
  p->srv = srv;
  p->n = n;
  p->max_queue = max_queue;
  p->threads = calloc((size_t)n, sizeof(pthread_t));
  if (!p->threads) goto fail_threads;
  if (pthread_mutex_init(&p->mu, NULL) != 0) goto fail_mu;
  if (pthread_cond_init(&p->cv, NULL) != 0) goto fail_cv;
  if (pthread_cond_init(&p->ready_cv, NULL) != 0) goto fail_ready;

  /* Workers must not take SIGTERM/SIGINT: loop 0 handles those. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGINT);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  for (int i = 0; i < n; i++) {
    worker_arg *wa = malloc(sizeof(*wa));
    if (!wa) break;
    wa->p = p;
    wa->index = i;
    if (pthread_create(&p->threads[i], NULL, worker_main, wa) != 0) {
      log_error(NULL, "pthread_create(worker %d): %s", i, strerror(errno));
      free(wa);
      break;
    }
    p->n_threads++;
  }
  pthread_sigmask(SIG_SETMASK, &old, NULL);

  pthread_mutex_lock(&p->mu);
  while (p->n_ready + p->n_failed < p->n_threads) pthread_cond_wait(&p->ready_cv, &p->mu);
  int failed = p->n_failed > 0 || p->n_threads < n;
  rv = p->n_failed > 0 ? p->init_err : REG_ENOMEM;
  pthread_mutex_unlock(&p->mu);
  if (failed) {
    rpc_pool_stop(p);
    rpc_pool_free(p);
    return rv;
  }
  *out = p;
  return 0;

fail_ready:
  pthread_cond_destroy(&p->cv);
fail_cv:
  pthread_mutex_destroy(&p->mu);
fail_mu:
  free(p->threads);
fail_threads:
  free(p);
fail:
  return rv;
}

int rpc_pool_submit(rpc_pool *p, rpc_job *j) {
  int rv = REG_EUNAVAIL;
  j->next = NULL;
  j->skipped = 0;
  pthread_mutex_lock(&p->mu);
  if (p->stop || atomic_load_explicit(&p->depth, memory_order_relaxed) >= p->max_queue)
    goto out;
  if (p->tail)
    p->tail->next = j;
  else
    p->head = j;
  p->tail = j;
  atomic_fetch_add_explicit(&p->depth, 1, memory_order_relaxed);
  pthread_cond_signal(&p->cv);
  rv = 0;
out:
  pthread_mutex_unlock(&p->mu);
  return rv;
}

size_t rpc_pool_depth(const rpc_pool *p) {
  return p ? atomic_load_explicit(&p->depth, memory_order_relaxed) : 0;
}

void rpc_pool_stop(rpc_pool *p) {
  if (!p) return;
  pthread_mutex_lock(&p->mu);
  int was = p->stop;
  p->stop = 1;
  pthread_cond_broadcast(&p->cv);
  pthread_mutex_unlock(&p->mu);
  if (was) return;
  for (int i = 0; i < p->n_threads; i++) pthread_join(p->threads[i], NULL);
  /* Jobs nobody took: back to their loops, marked skipped, so that their
   * done callbacks free what they hold. */
  rpc_job *j = p->head;
  p->head = p->tail = NULL;
  while (j) {
    rpc_job *next = j->next;
    j->next = NULL;
    j->skipped = 2;
    atomic_fetch_sub_explicit(&p->depth, 1, memory_order_relaxed);
    rpc_loop_post(j->loop, j);
    j = next;
  }
}

void rpc_pool_free(rpc_pool *p) {
  if (!p) return;
  rpc_pool_stop(p);
  pthread_cond_destroy(&p->ready_cv);
  pthread_cond_destroy(&p->cv);
  pthread_mutex_destroy(&p->mu);
  free(p->threads);
  free(p);
}

void rpc_loop_post(rpc_loop *l, rpc_job *j) {
  pthread_mutex_lock(&l->mu);
  int was_empty = l->done_head == NULL;
  if (l->done_tail)
    l->done_tail->next = j;
  else
    l->done_head = j;
  l->done_tail = j;
  pthread_mutex_unlock(&l->mu);
  if (was_empty && l->notify_ev) event_active(l->notify_ev, EV_READ, 0);
}

void rpc_loop_drain_jobs(rpc_loop *l) {
  pthread_mutex_lock(&l->mu);
  rpc_job *j = l->done_head;
  l->done_head = l->done_tail = NULL;
  pthread_mutex_unlock(&l->mu);
  while (j) {
    rpc_job *next = j->next;
    j->next = NULL;
    j->done(j);
    j = next;
  }
}
