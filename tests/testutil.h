/* testutil.h: small helpers shared by the Check suites: seeded random
 * fills, error measures (absolute, relative, ulp), and the one scratch
 * directory helper every test that writes files uses. */
#ifndef ADVC_TESTUTIL_H
#define ADVC_TESTUTIL_H

#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "advc/advc.h"

/* Lengths that reach every loop of every ISA's element-wise kernels: the
 * vec/ kernels step 4 vectors (sum, dot, max), 2 vectors (activations) or
 * 1 vector at a time, then a partial vector, and the widest vector is
 * AVX-512's 16 floats.  Every n in [0, TU_TILE_N] therefore covers, on
 * any ISA, two full 4-vector blocks followed by every count of whole and
 * partial vectors. */
#define TU_MAX_LANES 16
#define TU_TILE_N (8 * TU_MAX_LANES + 2)

/* True in the slow configurations: the NEON build (run under qemu, 20-60x
 * slower than native), an AddressSanitizer build, or ADVC_TEST_QUICK set
 * in the environment.  Tests then run the same checks on less work (fewer
 * rounds, samples or queries); every native build runs them in full. */
#if defined(__SANITIZE_ADDRESS__)
#define TU_ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TU_ASAN_BUILD 1
#endif
#endif
#ifndef TU_ASAN_BUILD
#define TU_ASAN_BUILD 0
#endif

static inline bool tu_quick(void)
{
    return getenv("ADVC_TEST_QUICK") || TU_ASAN_BUILD ||
           strcmp(advc_isa_name(), "neon") == 0;
}

/* Uniform fill in [lo, hi) from a seeded PCG stream. */
static inline void tu_fill(float *x, size_t n, float lo, float hi,
                           uint64_t seed)
{
    advc_rng r;
    advc_rng_seed(&r, seed, 7);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * advc_rng_uniform(&r);
}

/* Distance in units in the last place between two finite floats (0 when
 * equal, counting across zero). */
static inline int64_t tu_ulp_diff(float a, float b)
{
    int32_t ia, ib;
    memcpy(&ia, &a, 4);
    memcpy(&ib, &b, 4);
    /* Map the sign-magnitude bit patterns onto a monotonic integer line. */
    int64_t la = ia < 0 ? (int64_t)INT32_MIN - ia : ia;
    int64_t lb = ib < 0 ? (int64_t)INT32_MIN - ib : ib;
    return la > lb ? la - lb : lb - la;
}

static inline double tu_max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > m || d != d) m = d;
    }
    return m;
}

/* True if every element is finite. */
static inline int tu_all_finite(const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(a[i])) return 0;
    return 1;
}

/* ---- scratch directories ------------------------------------------------
 * A fresh directory per test under $TMPDIR (default /tmp), removed with
 * everything in it by tu_tmpdir_remove:
 *   tu_tmpdir t;
 *   tu_tmpdir_make(&t, "ckpt");               // /tmp/advc-test-ckpt-XXXXXX
 *   advc_checkpoint_write(tu_tmpdir_path(&t, "m.advc"), ...);
 *   ck_assert_int_eq(tu_tmpdir_entries(&t, NULL, 0), 1);
 *   tu_tmpdir_remove(&t);
 */
#define TU_PATH_MAX 512 /* longest scratch path a test builds */

typedef struct {
    char dir[TU_PATH_MAX];
} tu_tmpdir;

static inline void tu_tmpdir_make(tu_tmpdir *t, const char *tag)
{
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    int n = snprintf(t->dir, sizeof t->dir, "%s/advc-test-%s-XXXXXX", base,
                     tag);
    ck_assert(n > 0 && (size_t)n < sizeof t->dir / 2);
    ck_assert_msg(mkdtemp(t->dir) != NULL, "mkdtemp %s failed", t->dir);
}

/* dir/name, in one of 8 rotating buffers (a test may hold a few). */
static inline const char *tu_tmpdir_path(const tu_tmpdir *t, const char *name)
{
    static char ring[8][TU_PATH_MAX];
    static int k;
    char *p = ring[k++ % 8];
    int n = snprintf(p, TU_PATH_MAX, "%s/%s", t->dir, name);
    ck_assert(n > 0 && n < TU_PATH_MAX);
    return p;
}

/* Entries in the directory (not . and ..); their names, space-separated,
 * into names when it is not NULL. */
static inline int tu_tmpdir_entries(const tu_tmpdir *t, char *names,
                                    size_t cap)
{
    DIR *d = opendir(t->dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    if (names && cap) names[0] = '\0';
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        n++;
        if (names && strlen(names) + strlen(e->d_name) + 2 < cap) {
            strcat(names, e->d_name);
            strcat(names, " ");
        }
    }
    closedir(d);
    return n;
}

/* Removes path and, when it is a directory, everything under it. */
static inline void tu_remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char p[TU_PATH_MAX];
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            int n = snprintf(p, sizeof p, "%s/%s", path, e->d_name);
            if (n > 0 && n < (int)sizeof p) tu_remove_tree(p);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void tu_tmpdir_remove(tu_tmpdir *t)
{
    tu_remove_tree(t->dir);
    t->dir[0] = '\0';
}

/* Trains g (compiled for batches of `batch` 28x28 MNIST images, 10
 * classes) for `steps` Adam steps at rate 3e-3 on CE, cycling through
 * ds in order: a briefly trained model for tests that need one. */
static inline void tu_train_mnist(advc_graph *g, const advc_dataset *ds,
                                  int batch, int steps)
{
    const size_t d = 784;
    advc_opt_config oc = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_optimizer *o = advc_optimizer_new(g, &oc);
    float *xb = malloc((size_t)batch * d * sizeof *xb);
    int *yb = malloc((size_t)batch * sizeof *yb);
    ck_assert(o && xb && yb);
    for (int st = 0; st < steps; st++) {
        for (int j = 0; j < batch; j++) {
            int i = (st * batch + j) % ds->n;
            memcpy(xb + (size_t)j * d, ds->x + (size_t)i * d, d * sizeof *xb);
            yb[j] = ds->y[i];
        }
        advc_graph_zero_grads(g); /* CE(f(x), y), mean over the batch */
        advc_graph_forward(g, xb, batch, ADVC_MODE_TRAIN);
        float *dz = advc_graph_dlogits(g, 0);
        memset(dz, 0, (size_t)batch * 10 * sizeof *dz);
        advc_loss_xent(batch, 10, advc_graph_logits(g, 0), yb, NULL, dz,
                       1.0f / (float)batch);
        advc_graph_backward(g, ADVC_PASS_UPDATE);
        advc_optimizer_step(o, 3e-3f);
    }
    advc_optimizer_free(o);
    free(xb);
    free(yb);
}

#endif
