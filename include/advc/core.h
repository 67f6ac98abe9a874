/* advc/core.h: the ground floor under everything: errors, RNG, timers and
 * the thread pool.  Nothing here knows about tensors or networks.
 *
 * Errors: library functions return an advc_status (or NULL) and leave a
 * one-line message for advc_last_error().  Kernels never report errors;
 * they assert their preconditions.
 */
#ifndef ADVC_CORE_H
#define ADVC_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ADVC_VERSION "0.1.0"

/* ---- status / errors -------------------------------------------------- */

typedef enum {
    ADVC_OK = 0,
    ADVC_ERR_ARG,     /* bad argument or flag value                       */
    ADVC_ERR_IO,      /* open/read/write/rename failed                    */
    ADVC_ERR_FORMAT,  /* a file's contents are not what they must be      */
    ADVC_ERR_NOMEM,   /* allocation failed                                */
    ADVC_ERR_NAN,     /* a NaN or inf appeared where a number must be     */
    ADVC_ERR_STATE    /* call made in the wrong state (e.g. not compiled) */
} advc_status;

/* Records a printf-style message for this thread and returns s. */
advc_status advc_set_error(advc_status s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The last message recorded on this thread ("" if none). */
const char *advc_last_error(void);
/* The status that came with it (ADVC_OK if none). */
advc_status advc_last_status(void);
const char *advc_status_name(advc_status s);

/* ---- random numbers ---------------------------------------------------- */

/* PCG32 (O'Neill 2014): 64-bit LCG state, xorshift-rotate output.  Explicit
 * state so every random choice is reproducible from a seed. */
typedef struct {
    uint64_t state;
    uint64_t inc; /* stream selector, always odd */
} advc_rng;

void advc_rng_seed(advc_rng *r, uint64_t seed, uint64_t stream);
/* splitmix64's finaliser (Steele, Lea, Flood 2014) over a + golden*(b+1):
 * one well-mixed 64-bit key from two small ones (a seed and a purpose). */
uint64_t advc_mix64(uint64_t a, uint64_t b);
uint32_t advc_rng_u32(advc_rng *r);
/* Uniform integer in [0, n), unbiased (Lemire's method). n > 0. */
uint32_t advc_rng_below(advc_rng *r, uint32_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float advc_rng_uniform(advc_rng *r);
/* Standard normal (Box-Muller, no cached second value: stateless beyond r). */
float advc_rng_normal(advc_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void advc_rng_shuffle(advc_rng *r, int *idx, int n);

/* ---- time -------------------------------------------------------------- */

/* Monotonic wall-clock seconds. */
double advc_now(void);

/* ---- thread pool ------------------------------------------------------- */

/* A fixed set of worker threads created once.  advc_pool_run(p, fn, ctx)
 * calls fn(ctx, t, T) for every t in [0, T) (t = 0 on the caller's thread)
 * and returns when all have finished.  Work is split by t only, never by
 * who finishes first, so results do not depend on timing.
 * A NULL pool means one thread: fn(ctx, 0, 1) on the caller. */
typedef struct advc_pool advc_pool;
typedef void (*advc_task_fn)(void *ctx, int t, int nthreads);

/* nthreads <= 0 means: ADVC_THREADS from the environment, else online CPUs.
 * NULL (with the error set) when out of memory or ADVC_THREADS is not a
 * thread count. */
advc_pool *advc_pool_create(int nthreads);
void advc_pool_destroy(advc_pool *p);
int advc_pool_threads(const advc_pool *p); /* 1 for NULL */
void advc_pool_run(advc_pool *p, advc_task_fn fn, void *ctx);
/* Reusable scratch memory for worker t of pool p (slot in [0, 4)): at
 * least `bytes`, 64-byte aligned, kept between calls and grown on demand,
 * freed with the pool.  With p == NULL the buffer is private to the
 * calling OS thread (freed when that thread exits).  Contents are not
 * preserved when it grows.  Returns NULL if allocation fails. */
#define ADVC_SCRATCH_SLOTS 4
void *advc_pool_scratch(advc_pool *p, int t, int slot, size_t bytes);
/* Default thread count: ADVC_THREADS if set, else online CPUs.  A set but
 * invalid ADVC_THREADS (not an integer from 1 to 1024: "0", "abc") is an
 * error, not ignored: 0 is returned with ADVC_ERR_ARG set. */
int advc_default_threads(void);

/* Split [0, n) into T nearly equal contiguous parts aligned to `align`;
 * part t is [*lo, *hi).  Fixed for given (n, t, T, align). */
void advc_split_range(size_t n, int t, int T, size_t align,
                      size_t *lo, size_t *hi);

/* ---- memory ------------------------------------------------------------ */

/* 64-byte aligned allocation (cache line, and any SIMD width).  Free with
 * advc_free.  Returns NULL and sets the error on failure. */
void *advc_alloc(size_t bytes);
void advc_free(void *p);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_CORE_H */
