/* test_core.c: the core floor: RNG reproducibility and ranges, the thread
 * pool (every part runs once, nested runs, scratch), range splitting,
 * error messages, aligned allocation, and that the build runs the ISA it
 * was asked for. */
#include <stdlib.h>
#include <string.h>
#include "testutil.h"

START_TEST(test_isa_is_the_one_built)
{
#ifdef ADVC_EXPECT_ISA
    ck_assert_str_eq(advc_isa_name(), ADVC_EXPECT_ISA);
#else
    const char *isa = advc_isa_name();
    ck_assert(strcmp(isa, "avx512") == 0 || strcmp(isa, "avx2") == 0 ||
              strcmp(isa, "neon") == 0 || strcmp(isa, "scalar") == 0);
#endif
}
END_TEST

START_TEST(test_rng_reproducible_and_in_range)
{
    advc_rng a, b, c;
    advc_rng_seed(&a, 42, 1);
    advc_rng_seed(&b, 42, 1);
    advc_rng_seed(&c, 42, 2);
    int differ = 0;
    double sum = 0, sumsq = 0;
    for (int i = 0; i < 100000; i++) {
        uint32_t x = advc_rng_u32(&a);
        ck_assert_uint_eq(x, advc_rng_u32(&b));
        differ += x != advc_rng_u32(&c);
        float u = advc_rng_uniform(&a);
        advc_rng_uniform(&b);
        ck_assert(u >= 0.0f && u < 1.0f);
        ck_assert_uint_lt(advc_rng_below(&a, 7), 7);
        advc_rng_below(&b, 7);
        float z = advc_rng_normal(&a);
        advc_rng_normal(&b);
        ck_assert(isfinite(z));
        sum += z, sumsq += (double)z * z;
    }
    ck_assert_int_gt(differ, 99000); /* another stream is another sequence */
    ck_assert(fabs(sum / 1e5) < 0.02);
    ck_assert(fabs(sumsq / 1e5 - 1.0) < 0.02);
}
END_TEST

START_TEST(test_rng_shuffle_is_permutation)
{
    int idx[1000], seen[1000] = { 0 };
    for (int i = 0; i < 1000; i++) idx[i] = i;
    advc_rng r;
    advc_rng_seed(&r, 7, 0);
    advc_rng_shuffle(&r, idx, 1000);
    int moved = 0;
    for (int i = 0; i < 1000; i++) {
        ck_assert(idx[i] >= 0 && idx[i] < 1000);
        seen[idx[i]]++;
        moved += idx[i] != i;
    }
    for (int i = 0; i < 1000; i++) ck_assert_int_eq(seen[i], 1);
    ck_assert_int_gt(moved, 900);
}
END_TEST

START_TEST(test_split_range_covers_exactly)
{
    for (size_t n = 0; n < 200; n += 7)
        for (int T = 1; T <= 5; T++)
            for (size_t align = 1; align <= 16; align *= 4) {
                size_t expect = 0;
                for (int t = 0; t < T; t++) {
                    size_t lo, hi;
                    advc_split_range(n, t, T, align, &lo, &hi);
                    ck_assert_uint_eq(lo, expect);
                    ck_assert_uint_le(lo, hi);
                    if (hi < n) ck_assert_uint_eq(hi % align, 0);
                    expect = hi;
                }
                ck_assert_uint_eq(expect, n);
            }
}
END_TEST

typedef struct {
    int hits[8];
    advc_pool *pool;
    int nested_hits[8][8];
} pool_ctx;

static void count_part(void *vctx, int t, int T)
{
    pool_ctx *c = vctx;
    ck_assert_int_lt(t, T);
    __atomic_fetch_add(&c->hits[t], 1, __ATOMIC_RELAXED);
}

static void nested_inner(void *vctx, int t, int T)
{
    int *row = vctx;
    (void)T;
    row[t]++;
}

static void nested_outer(void *vctx, int t, int T)
{
    pool_ctx *c = vctx;
    (void)T;
    /* Runs inline on this thread: must not deadlock. */
    advc_pool_run(c->pool, nested_inner, c->nested_hits[t]);
    float *s = advc_pool_scratch(c->pool, t, 0, 1024);
    ck_assert_ptr_nonnull(s);
    s[255] = (float)t;
}

START_TEST(test_pool_runs_every_part_once)
{
    for (int n = 1; n <= 4; n++) {
        advc_pool *p = advc_pool_create(n);
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(advc_pool_threads(p), n);
        pool_ctx c;
        memset(&c, 0, sizeof c);
        c.pool = p;
        for (int rep = 0; rep < 500; rep++) advc_pool_run(p, count_part, &c);
        for (int t = 0; t < n; t++) ck_assert_int_eq(c.hits[t], 500);
        advc_pool_run(p, nested_outer, &c);
        for (int t = 0; t < n; t++)
            for (int u = 0; u < n; u++)
                ck_assert_int_eq(c.nested_hits[t][u], 1);
        advc_pool_destroy(p);
    }
    pool_ctx c;
    memset(&c, 0, sizeof c);
    advc_pool_run(NULL, count_part, &c); /* NULL pool = one thread */
    ck_assert_int_eq(c.hits[0], 1);
    ck_assert_int_eq(advc_pool_threads(NULL), 1);
}
END_TEST

START_TEST(test_scratch_grows_and_is_aligned)
{
    advc_pool *p = advc_pool_create(2);
    float *a = advc_pool_scratch(p, 1, 2, 100);
    ck_assert_ptr_nonnull(a);
    ck_assert_uint_eq((uintptr_t)a % 64, 0);
    ck_assert_ptr_eq(advc_pool_scratch(p, 1, 2, 50), a); /* reused */
    float *b = advc_pool_scratch(p, 1, 2, 1 << 20);
    ck_assert_ptr_nonnull(b);
    b[(1 << 18) - 1] = 1.0f;
    ck_assert_ptr_null(advc_pool_scratch(p, 0, ADVC_SCRATCH_SLOTS, 8));
    advc_pool_destroy(p);
    float *own = advc_pool_scratch(NULL, 0, 0, 4096);
    ck_assert_ptr_nonnull(own);
    own[1023] = 2.0f;
}
END_TEST

START_TEST(test_errors_and_alloc)
{
    advc_status s = advc_set_error(ADVC_ERR_FORMAT, "%s: bad magic %d",
                                   "f.idx", 7);
    ck_assert_int_eq(s, ADVC_ERR_FORMAT);
    ck_assert_str_eq(advc_last_error(), "f.idx: bad magic 7");
    ck_assert_str_eq(advc_status_name(ADVC_ERR_IO), "i/o error");
    void *p = advc_alloc(1000);
    ck_assert_ptr_nonnull(p);
    ck_assert_uint_eq((uintptr_t)p % 64, 0);
    advc_free(p);
    ck_assert_ptr_null(advc_alloc((size_t)-1));
    ck_assert_int_gt((int)strlen(advc_last_error()), 0);
}
END_TEST

START_TEST(test_default_threads_env)
{
    setenv("ADVC_THREADS", "3", 1);
    ck_assert_int_eq(advc_default_threads(), 3);
    const char *bad[] = { "junk", "0", "-2", "3x", "1025", " 2" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        setenv("ADVC_THREADS", bad[i], 1);
        ck_assert_int_eq(advc_default_threads(), 0);
        ck_assert_int_eq(advc_last_status(), ADVC_ERR_ARG);
        ck_assert_ptr_nonnull(strstr(advc_last_error(), "ADVC_THREADS"));
        ck_assert_ptr_null(advc_pool_create(0));
    }
    unsetenv("ADVC_THREADS");
    ck_assert_int_ge(advc_default_threads(), 1);
}
END_TEST

Suite *advc_suite_core(void)
{
    Suite *s = suite_create("core");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_isa_is_the_one_built);
    tcase_add_test(tc, test_rng_reproducible_and_in_range);
    tcase_add_test(tc, test_rng_shuffle_is_permutation);
    tcase_add_test(tc, test_split_range_covers_exactly);
    tcase_add_test(tc, test_pool_runs_every_part_once);
    tcase_add_test(tc, test_scratch_grows_and_is_aligned);
    tcase_add_test(tc, test_errors_and_alloc);
    tcase_add_test(tc, test_default_threads_env);
    suite_add_tcase(s, tc);
    return s;
}
