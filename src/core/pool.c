/* pool.c: a fixed pthreads pool, created once and reused by every kernel.
 *
 * advc_pool_run(p, fn, ctx) runs fn(ctx, t, T) for t = 0..T-1: t = 0 on the
 * caller, the rest on the workers, and returns when all are done.  Work is
 * assigned by t alone, so results never depend on which thread is faster.
 * Workers spin briefly on a generation counter (a GEMM issues several runs
 * back to back, and a sleeping thread takes tens of microseconds to wake),
 * then sleep on a condition variable.  A run issued from inside a task
 * (nested) executes all T parts on the calling thread: same split, same
 * result, no deadlock.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advc/core.h"
#include "advc/param.h"

/* How long a worker polls before sleeping: ~2^16 polls is some tens of
 * microseconds, longer than the gap between back-to-back runs. */
#define SPIN_POLLS (1 << 16)

typedef struct {
    void *ptr;
    size_t cap;
} scratch_buf;

typedef struct {
    advc_pool *pool;
    int t;
} worker_arg;

struct advc_pool {
    int n;                      /* threads including the caller */
    pthread_t *threads;         /* (n - 1) workers                */
    worker_arg *args;           /* (n - 1)                        */
    pthread_mutex_t mu;
    pthread_cond_t start_cv, done_cv;
    atomic_uint generation;     /* bumped once per run            */
    atomic_int pending;         /* workers still running this run */
    atomic_int stop;
    advc_task_fn fn;
    void *ctx;
    scratch_buf (*scratch)[ADVC_SCRATCH_SLOTS]; /* (n, slots) */
};

/* How many pool tasks this thread is inside: 1 in an ordinary task, 2 or
 * more in a nested run, which executes inline and so must not use the
 * pool's per-worker scratch (another worker may hold the same slot). */
static _Thread_local int task_depth;

/* One poll of a spin-wait.  Every 64th poll gives the CPU away: on an
 * idle machine sched_yield returns at once, but when more threads are
 * runnable than there are cores (other jobs, or a pool larger than the
 * machine) the thread we wait for gets to run instead of our spinning. */
static inline void cpu_relax(int poll)
{
    if ((poll & 63) == 63) {
        sched_yield();
        return;
    }
#if defined(__x86_64__) || defined(__i386__)
    __asm__ __volatile__("pause");
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *arg)
{
    worker_arg *wa = arg;
    advc_pool *p = wa->pool;
    unsigned seen = 0;
    for (;;) {
        int polls = 0;
        while (atomic_load_explicit(&p->generation, memory_order_acquire) ==
                   seen &&
               !atomic_load(&p->stop) && polls < SPIN_POLLS) {
            cpu_relax(polls);
            polls++;
        }
        pthread_mutex_lock(&p->mu);
        while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
            pthread_cond_wait(&p->start_cv, &p->mu);
        pthread_mutex_unlock(&p->mu);
        if (atomic_load(&p->stop)) return NULL;
        seen = atomic_load(&p->generation);

        task_depth = 1;
        p->fn(p->ctx, wa->t, p->n);
        task_depth = 0;

        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) ==
            1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

int advc_default_threads(void)
{
    const char *env = getenv("ADVC_THREADS");
    if (env && *env) {
        int v;
        if (advc_parse_threads(env, &v) != ADVC_OK) {
            char why[160];
            snprintf(why, sizeof why, "%s", advc_last_error());
            advc_set_error(ADVC_ERR_ARG, "bad value in the environment: "
                           "ADVC_THREADS=%s (%s)", env, why);
            return 0;
        }
        return v;
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n >= 1 ? (int)n : 1;
}

advc_pool *advc_pool_create(int nthreads)
{
    if (nthreads <= 0 && (nthreads = advc_default_threads()) == 0)
        return NULL; /* a bad ADVC_THREADS: the error says so */
    advc_pool *p = calloc(1, sizeof *p);
    if (!p) goto oom;
    p->n = nthreads;
    p->scratch = calloc((size_t)nthreads, sizeof *p->scratch);
    p->threads = calloc((size_t)nthreads, sizeof *p->threads);
    p->args = calloc((size_t)nthreads, sizeof *p->args);
    if (!p->scratch || !p->threads || !p->args) goto oom;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->start_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->stop, 0);
    for (int t = 1; t < nthreads; t++) {
        p->args[t - 1] = (worker_arg){ p, t };
        if (pthread_create(&p->threads[t - 1], NULL, worker_main,
                           &p->args[t - 1]) != 0) {
            /* Keep the threads we have: the pool still works, smaller. */
            p->n = t;
            break;
        }
    }
    return p;
oom:
    if (p) {
        free(p->scratch);
        free(p->threads);
        free(p->args);
        free(p);
    }
    advc_set_error(ADVC_ERR_NOMEM, "out of memory creating a thread pool");
    return NULL;
}

void advc_pool_destroy(advc_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mu);
    for (int t = 1; t < p->n; t++) pthread_join(p->threads[t - 1], NULL);
    for (int t = 0; t < p->n; t++)
        for (int s = 0; s < ADVC_SCRATCH_SLOTS; s++)
            advc_free(p->scratch[t][s].ptr);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->start_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p->scratch);
    free(p->threads);
    free(p->args);
    free(p);
}

int advc_pool_threads(const advc_pool *p) { return p ? p->n : 1; }

void advc_pool_run(advc_pool *p, advc_task_fn fn, void *ctx)
{
    if (!p || p->n == 1 || task_depth > 0) {
        int n = p ? p->n : 1;
        task_depth++;
        for (int t = 0; t < n; t++) fn(ctx, t, n);
        task_depth--;
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store(&p->pending, p->n - 1);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->start_cv);
    pthread_mutex_unlock(&p->mu);

    task_depth = 1;
    fn(ctx, 0, p->n);
    task_depth = 0;

    int polls = 0;
    while (atomic_load_explicit(&p->pending, memory_order_acquire) != 0 &&
           polls < SPIN_POLLS) {
        cpu_relax(polls);
        polls++;
    }
    pthread_mutex_lock(&p->mu);
    while (atomic_load(&p->pending) != 0)
        pthread_cond_wait(&p->done_cv, &p->mu);
    pthread_mutex_unlock(&p->mu);
}

void advc_split_range(size_t n, int t, int T, size_t align, size_t *lo,
                      size_t *hi)
{
    if (align == 0) align = 1;
    size_t units = (n + align - 1) / align;
    size_t per = units / (size_t)T, rem = units % (size_t)T;
    size_t ut = (size_t)t;
    size_t a = ut * per + (ut < rem ? ut : rem);
    size_t b = a + per + (ut < rem ? 1 : 0);
    *lo = a * align < n ? a * align : n;
    *hi = b * align < n ? b * align : n;
}

/* ---- scratch ------------------------------------------------------------ */

static void *grow(scratch_buf *s, size_t bytes)
{
    if (s->cap >= bytes && s->ptr) return s->ptr;
    advc_free(s->ptr);
    s->ptr = advc_alloc(bytes);
    s->cap = s->ptr ? bytes : 0;
    return s->ptr;
}

/* Buffers for callers without a pool: one set per OS thread, freed by the
 * key's destructor when the thread exits (and at exit for the main thread
 * they stay reachable, so leak checkers stay quiet). */
static pthread_key_t own_key;
static pthread_once_t own_once = PTHREAD_ONCE_INIT;

static void free_own(void *v)
{
    scratch_buf *s = v;
    for (int i = 0; i < ADVC_SCRATCH_SLOTS; i++) advc_free(s[i].ptr);
    free(s);
}

static void make_own_key(void) { pthread_key_create(&own_key, free_own); }

void *advc_pool_scratch(advc_pool *p, int t, int slot, size_t bytes)
{
    if (slot < 0 || slot >= ADVC_SCRATCH_SLOTS) return NULL;
    if (p && t >= 0 && t < p->n && task_depth <= 1)
        return grow(&p->scratch[t][slot], bytes);
    pthread_once(&own_once, make_own_key);
    scratch_buf *s = pthread_getspecific(own_key);
    if (!s) {
        s = calloc(ADVC_SCRATCH_SLOTS, sizeof *s);
        if (!s) return NULL;
        pthread_setspecific(own_key, s);
    }
    return grow(&s[slot], bytes);
}
