/* test_gemm.c: advc_sgemm against the oracle advc_sgemm_ref.
 *
 * Every m and n from 1 to three micro-tiles past MR/NR, depths around KC,
 * sizes past the MC/NC/KC cache blocks, all four transpose forms, both
 * modes, leading dimensions above the minimum, and 1, 2 (3, 4) threads,
 * whose results must be bitwise identical.  The error allowed for each
 * element is a proper bound for a float dot product, not a blanket
 * tolerance.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "testutil.h"
#include "gemm_blocking.h"

/* Unit roundoff of float, 2^-24. */
#define U_FLOAT 5.9604644775390625e-8

/* Written into the padding columns of C (between n and ldc): any change
 * there means the kernel wrote outside its m x n block. */
#define SENTINEL 1234.5f

static float *falloc(size_t n)
{
    float *p = advc_alloc((n ? n : 1) * sizeof(float));
    if (!p)
        ck_abort_msg("out of memory");
    return p;
}

/* One GEMM problem with its operands; rows/ld of the stored matrices
 * follow from the forms. */
typedef struct {
    advc_trans ta, tb;
    int m, n, k;
    int pad;            /* extra columns in lda, ldb, ldc */
    bool accumulate;
    int lda, ldb, ldc;
    float *A, *B, *C0;  /* inputs; C0 = C before the call */
    float *absA, *absB, *absC0;
} problem;

static void problem_make(problem *P, advc_trans ta, advc_trans tb, int m,
                         int n, int k, int pad, bool accumulate,
                         uint64_t seed)
{
    P->ta = ta, P->tb = tb, P->m = m, P->n = n, P->k = k, P->pad = pad;
    P->accumulate = accumulate;
    int ra = ta == ADVC_NOTRANS ? m : k, ca = ta == ADVC_NOTRANS ? k : m;
    int rb = tb == ADVC_NOTRANS ? k : n, cb = tb == ADVC_NOTRANS ? n : k;
    P->lda = ca + pad, P->ldb = cb + pad, P->ldc = n + pad;
    size_t na = (size_t)ra * P->lda, nb = (size_t)rb * P->ldb;
    size_t nc = (size_t)m * P->ldc;
    P->A = falloc(na), P->B = falloc(nb), P->C0 = falloc(nc);
    P->absA = falloc(na), P->absB = falloc(nb), P->absC0 = falloc(nc);
    tu_fill(P->A, na, -1.0f, 1.0f, seed);
    tu_fill(P->B, nb, -1.0f, 1.0f, seed + 1);
    tu_fill(P->C0, nc, -1.0f, 1.0f, seed + 2);
    for (int i = 0; i < m; i++)
        for (int j = n; j < P->ldc; j++)
            P->C0[(size_t)i * P->ldc + j] = SENTINEL;
    for (size_t i = 0; i < na; i++) P->absA[i] = fabsf(P->A[i]);
    for (size_t i = 0; i < nb; i++) P->absB[i] = fabsf(P->B[i]);
    for (size_t i = 0; i < nc; i++) P->absC0[i] = fabsf(P->C0[i]);
}

static void problem_free(problem *P)
{
    advc_free(P->A), advc_free(P->B), advc_free(P->C0);
    advc_free(P->absA), advc_free(P->absB), advc_free(P->absC0);
}

static size_t c_elems(const problem *P) { return (size_t)P->m * P->ldc; }

/* C = C0, then C (+)= op(A) op(B) with advc_sgemm on `pool`. */
static void run_fast(const problem *P, advc_pool *pool, float *C)
{
    memcpy(C, P->C0, c_elems(P) * sizeof *C);
    advc_sgemm(pool, P->ta, P->tb, P->m, P->n, P->k, P->A, P->lda, P->B,
               P->ldb, P->accumulate, C, P->ldc);
}

/* Checks C against the reference.  Each KC block of the fast GEMM is a
 * chain of kc multiply-adds and the blocks are then added to C one by
 * one, so every product passes through at most k + ceil(k/KC) + 1
 * roundings (+1 for the reference's own rounding to float): the error is
 * at most that many u times sum_p |a_ip b_pj| (+ |C0_ij| when
 * accumulating), the classic bound for a float dot product.  Also checks
 * that the padding columns of C still hold the sentinel. */
static void check_against_ref(const problem *P, const float *C,
                              const char *what)
{
    size_t nc = c_elems(P);
    float *ref = falloc(nc), *bound = falloc(nc);
    memcpy(ref, P->C0, nc * sizeof *ref);
    memcpy(bound, P->absC0, nc * sizeof *bound);
    advc_sgemm_ref(P->ta, P->tb, P->m, P->n, P->k, P->A, P->lda, P->B,
                   P->ldb, P->accumulate, ref, P->ldc);
    advc_sgemm_ref(P->ta, P->tb, P->m, P->n, P->k, P->absA, P->lda,
                   P->absB, P->ldb, P->accumulate, bound, P->ldc);
    int kblocks = (P->k + GEMM_KC - 1) / GEMM_KC;
    double roundings = P->k + kblocks + 2;
    /* Assert only on failure: every passing ck_assert costs Check a
     * system call, and there are millions of elements here. */
    for (int i = 0; i < P->m; i++) {
        for (int j = 0; j < P->ldc; j++) {
            size_t e = (size_t)i * P->ldc + j;
            if (j >= P->n) {
                if (C[e] != SENTINEL)
                    ck_abort_msg("%s: wrote C[%d][%d] outside n = %d", what,
                                 i, j, P->n);
                continue;
            }
            double err = fabs((double)C[e] - ref[e]);
            /* FLT_MIN: an absolute floor for an all-zero bound. */
            double tol = roundings * U_FLOAT * bound[e] + FLT_MIN;
            if (!(err <= tol))
                ck_abort_msg("%s: C[%d][%d] = %.9g, ref %.9g, err %.3g > "
                             "bound %.3g", what, i, j, C[e], ref[e], err,
                             tol);
        }
    }
    advc_free(ref);
    advc_free(bound);
}

/* Runs P with 1 thread and with `pool` (2 or more threads): both must
 * match the reference, and each other bit for bit. */
static void check_problem(const problem *P, advc_pool *pool)
{
    char what[160];
    snprintf(what, sizeof what, "%c%c m=%d n=%d k=%d pad=%d %s",
             P->ta ? 'T' : 'N', P->tb ? 'T' : 'N', P->m, P->n, P->k, P->pad,
             P->accumulate ? "accumulate" : "overwrite");
    size_t nc = c_elems(P);
    float *C1 = falloc(nc), *C2 = falloc(nc);
    run_fast(P, NULL, C1);
    check_against_ref(P, C1, what);
    run_fast(P, pool, C2);
    if (memcmp(C1, C2, nc * sizeof *C1) != 0)
        ck_abort_msg("%s: %d threads differ from 1 thread", what,
                     advc_pool_threads(pool));
    advc_free(C1);
    advc_free(C2);
}

/* All four forms x both modes of one size. */
static void check_all_forms(int m, int n, int k, int pad, advc_pool *pool2,
                            uint64_t seed)
{
    for (int f = 0; f < 4; f++) {
        for (int mode = 0; mode < 2; mode++) {
            problem P;
            problem_make(&P, (advc_trans)(f >> 1), (advc_trans)(f & 1), m, n,
                         k, pad, mode == 1, seed + 10 * f + mode);
            check_problem(&P, pool2);
            problem_free(&P);
        }
    }
}

/* The oracle itself, on numbers worked out by hand:
 * [1 2 3; 4 5 6] [1 0; 0 1; 2 -1] = [7 -1; 16 -1]. */
START_TEST(test_ref_by_hand)
{
    const float A[6] = { 1, 2, 3, 4, 5, 6 };    /* 2 x 3 */
    const float At[6] = { 1, 4, 2, 5, 3, 6 };   /* A^T stored 3 x 2 */
    const float B[6] = { 1, 0, 0, 1, 2, -1 };   /* 3 x 2 */
    const float Bt[6] = { 1, 0, 2, 0, 1, -1 };  /* B^T stored 2 x 3 */
    const float want[4] = { 7, -1, 16, -1 };
    for (int f = 0; f < 4; f++) {
        advc_trans ta = (advc_trans)(f >> 1), tb = (advc_trans)(f & 1);
        float C[4] = { 100, 100, 100, 100 };
        advc_sgemm_ref(ta, tb, 2, 2, 3, ta ? At : A, ta ? 2 : 3, tb ? Bt : B,
                       tb ? 3 : 2, true, C, 2);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(C[i], 100 + want[i]);
        float D[4];
        advc_sgemm(NULL, ta, tb, 2, 2, 3, ta ? At : A, ta ? 2 : 3,
                   tb ? Bt : B, tb ? 3 : 2, false, D, 2);
        for (int i = 0; i < 4; i++)
            ck_assert_float_eq(D[i], want[i]);
    }
}
END_TEST

/* Every m in [1, 3 MR + 1] and n in [1, 3 NR + 1]: full, partial and
 * multiple micro-tiles in both directions, short k. */
START_TEST(test_every_tile_edge)
{
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    for (int m = 1; m <= 3 * GEMM_MR + 1; m++)
        for (int n = 1; n <= 3 * GEMM_NR + 1; n++)
            check_all_forms(m, n, 3, (m + n) % 3, pool2,
                            (uint64_t)(1000 * m + n));
    advc_pool_destroy(pool2);
}
END_TEST

/* Depths 1, 2, 7 and around one and two KC blocks, on sizes at the tile
 * edges. */
START_TEST(test_depths)
{
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    const int ms[] = { 1, GEMM_MR - 1, GEMM_MR + 1, 2 * GEMM_MR + 1 };
    const int ns[] = { 1, GEMM_NR, GEMM_NR + 1, 2 * GEMM_NR + 3 };
    const int ks[] = { 1, 2, 7, GEMM_KC - 1, GEMM_KC, GEMM_KC + 1,
                       2 * GEMM_KC + 3 };
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
            for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
                check_all_forms(ms[a], ns[b], ks[c], 1, pool2,
                                77 + 100 * a + 10 * b + c);
    advc_pool_destroy(pool2);
}
END_TEST

/* Past each cache block: m > MC, n > NC, k > 2 KC, and all at once at
 * moderate size. */
START_TEST(test_cache_blocks)
{
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    check_all_forms(GEMM_MC + GEMM_MR + 1, 2 * GEMM_NR + 5, 33, 2, pool2, 5);
    check_all_forms(GEMM_MR + 1, GEMM_NC + GEMM_NR + 3, 9, 1, pool2, 6);
    check_all_forms(GEMM_MR * 2 + 1, GEMM_NR + 7, 2 * GEMM_KC + 5, 3, pool2,
                    7);
    check_all_forms(GEMM_MC + 1, GEMM_NR * 3 + 1, GEMM_KC + 1, 0, pool2, 8);
    advc_pool_destroy(pool2);
}
END_TEST

/* Sizes big enough to be split over 2 threads, split along n, along m and
 * both ways, with odd edges: must equal one thread bit for bit. */
START_TEST(test_threads_bitwise)
{
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    check_all_forms(131, 157, 197, 1, pool2, 11);  /* about square    */
    check_all_forms(7, 1001, 301, 0, pool2, 12);   /* wide: split n   */
    check_all_forms(1003, 5, 601, 2, pool2, 13);   /* tall: split m   */
    advc_pool_destroy(pool2);
    /* 3 and 4 workers (more than the machine's cores is fine): grids of
     * 3 x 1 and 2 x 2, the latter split both ways at once. */
    for (int T = 3; T <= 4; T++) {
        advc_pool *pool = advc_pool_create(T);
        ck_assert_ptr_nonnull(pool);
        problem P;
        if (T == 3)
            problem_make(&P, ADVC_TRANS, ADVC_NOTRANS, 259, 263, 129, 1,
                         true, 17);
        else
            problem_make(&P, ADVC_NOTRANS, ADVC_TRANS, 200, 320, 80, 1,
                         false, 18);
        check_problem(&P, pool);
        problem_free(&P);
        advc_pool_destroy(pool);
    }
}
END_TEST

/* op(A) given as A (NOTRANS: read in place by the rows micro-kernel where
 * the ISA has one) and as the stored transpose of A (TRANS: packed) must
 * give the same bits: the same products in the same order.  Shapes at the
 * tile edges, around KC, past MC, both modes, and an lda that is a
 * multiple of 1024 (packed either way). */
START_TEST(test_rows_a_matches_packed)
{
    const int ms[] = { 1, GEMM_MR - 1, GEMM_MR, 3 * GEMM_MR + 1,
                       GEMM_MC + GEMM_MR + 3 };
    const int ns[] = { 1, 10, 16, 33, GEMM_NR, 2 * GEMM_NR + 4 };
    const int ks[] = { 1, 16, 100, GEMM_KC + 1, 1024 };
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++)
            for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
                for (int acc = 0; acc < 2; acc++) {
                    int m = ms[a], n = ns[b], k = ks[c];
                    problem P;
                    problem_make(&P, ADVC_NOTRANS, ADVC_NOTRANS, m, n, k,
                                 (int)(a + b) % 3, acc == 1,
                                 900 + 100 * a + 10 * b + c);
                    float *At = falloc((size_t)k * m);
                    for (int i = 0; i < m; i++)
                        for (int p = 0; p < k; p++)
                            At[(size_t)p * m + i] = P.A[(size_t)i * P.lda + p];
                    size_t nc = c_elems(&P);
                    float *C1 = falloc(nc), *C2 = falloc(nc);
                    run_fast(&P, NULL, C1);
                    memcpy(C2, P.C0, nc * sizeof *C2);
                    advc_sgemm(NULL, ADVC_TRANS, ADVC_NOTRANS, m, n, k, At, m,
                               P.B, P.ldb, P.accumulate, C2, P.ldc);
                    if (memcmp(C1, C2, nc * sizeof *C1) != 0)
                        ck_abort_msg("m=%d n=%d k=%d acc=%d: A in place and "
                                     "packed differ", m, n, k, acc);
                    advc_free(C1), advc_free(C2), advc_free(At);
                    problem_free(&P);
                }
}
END_TEST

/* The first n columns of a product are the same bits whatever the width
 * of the panel they sit in (AVX-512: a last panel of at most 8 columns is
 * computed in ymm registers, a wider one in zmm): C = A B[:, :n] against
 * the first n columns of A B[:, :W], both ways A can be read, both
 * modes. */
START_TEST(test_narrow_panels_match_wide)
{
    enum { W = 2 * GEMM_NR + 16 };
    const int ms[] = { 1, 5, GEMM_MR + 3 };
    const int ks[] = { 1, 16, 100, GEMM_KC + 7 };
    const int ns[] = { 1, 2, 4, 7, 8, 9, GEMM_NR + 4, 2 * GEMM_NR + 8 };
    for (size_t a = 0; a < sizeof ms / sizeof ms[0]; a++)
        for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++)
            for (int f = 0; f < 4; f++) {
                advc_trans ta = (advc_trans)(f >> 1);
                bool acc = f & 1;
                int m = ms[a], k = ks[c];
                float *A = falloc((size_t)m * k), *B = falloc((size_t)k * W);
                float *Cw = falloc((size_t)m * W), *Cn = falloc((size_t)m * W);
                tu_fill(A, (size_t)m * k, -1.0f, 1.0f, 40 + a + 10 * c);
                tu_fill(B, (size_t)k * W, -1.0f, 1.0f, 41 + a + 10 * c);
                int lda = ta == ADVC_NOTRANS ? k : m;
                for (size_t b = 0; b < sizeof ns / sizeof ns[0]; b++) {
                    int n = ns[b];
                    tu_fill(Cw, (size_t)m * W, -1.0f, 1.0f, 7);
                    memcpy(Cn, Cw, (size_t)m * W * sizeof *Cn);
                    advc_sgemm(NULL, ta, ADVC_NOTRANS, m, W, k, A, lda, B, W,
                               acc, Cw, W);
                    advc_sgemm(NULL, ta, ADVC_NOTRANS, m, n, k, A, lda, B, W,
                               acc, Cn, W);
                    for (int i = 0; i < m; i++)
                        if (memcmp(Cw + (size_t)i * W, Cn + (size_t)i * W,
                                   (size_t)n * sizeof *Cn) != 0)
                            ck_abort_msg("%c m=%d n=%d k=%d acc=%d: the "
                                         "narrow panel differs from the "
                                         "wide one", ta ? 'T' : 'N', m, n,
                                         k, acc);
                }
                advc_free(A), advc_free(B), advc_free(Cw), advc_free(Cn);
            }
}
END_TEST

/* k = 0 is an empty sum: C = 0 (even over NaN) or C unchanged; m = 0 or
 * n = 0 touches nothing. */
START_TEST(test_empty)
{
    float A[4] = { 1, 2, 3, 4 }, B[4] = { 1, 2, 3, 4 };
    float C[6];
    for (int i = 0; i < 6; i++) C[i] = NAN;
    advc_sgemm(NULL, ADVC_NOTRANS, ADVC_NOTRANS, 2, 2, 0, A, 1, B, 2, false,
               C, 3);
    ck_assert(C[0] == 0 && C[1] == 0 && C[3] == 0 && C[4] == 0);
    ck_assert(isnan(C[2]) && isnan(C[5])); /* padding left alone */
    for (int i = 0; i < 6; i++) C[i] = (float)i;
    advc_sgemm(NULL, ADVC_TRANS, ADVC_TRANS, 2, 2, 0, A, 2, B, 1, true, C,
               3);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(C[i], (float)i);
    advc_sgemm(NULL, ADVC_NOTRANS, ADVC_NOTRANS, 0, 2, 2, A, 2, B, 2, false,
               C, 3);
    advc_sgemm(NULL, ADVC_NOTRANS, ADVC_NOTRANS, 2, 0, 2, A, 2, B, 2, false,
               C, 3);
    for (int i = 0; i < 6; i++) ck_assert_float_eq(C[i], (float)i);
}
END_TEST

/* With accumulate = false the old C must not leak in, even as NaN. */
START_TEST(test_overwrite_ignores_nan)
{
    problem P;
    problem_make(&P, ADVC_NOTRANS, ADVC_TRANS, 2 * GEMM_MR + 1,
                 2 * GEMM_NR + 1, 300, 0, false, 21);
    size_t nc = c_elems(&P);
    for (size_t i = 0; i < nc; i++) P.C0[i] = NAN;
    float *C = falloc(nc);
    run_fast(&P, NULL, C);
    ck_assert(tu_all_finite(C, nc));
    advc_free(C);
    problem_free(&P);
}
END_TEST

/* One large problem, 1000^3, once, 1 and 2 threads.  Under qemu (the NEON
 * build on this x86 machine) or ASan the triple-loop reference would take
 * minutes, so in tu_quick() a smaller case that still spans several MC,
 * NC and KC blocks runs instead. */
START_TEST(test_large)
{
    bool small = tu_quick();
    int s = small ? 2 * GEMM_MC + 11 : 1000;
    int k = small ? 2 * GEMM_KC + 9 : 1000;
    advc_pool *pool2 = advc_pool_create(2);
    ck_assert_ptr_nonnull(pool2);
    problem P;
    problem_make(&P, ADVC_NOTRANS, ADVC_NOTRANS, s, s, k, 0, false, 31);
    check_problem(&P, pool2);
    problem_free(&P);
    advc_pool_destroy(pool2);
}
END_TEST

/* advc_sparse_gemm: the CSR form of a dense A with about a fifth of its
 * entries nonzero (and some rows empty) gives advc_sgemm's bits on that A,
 * at widths around the chunk and vector sizes, depths of one, two and
 * three KC blocks, fewer rows than the kernel's group of 32 and more (41:
 * a whole group and a part), both modes; and the scalar specification agrees with
 * the triple-loop oracle to within the dot-product bound. */
static void sparse_case(int m, int n, int k, bool accumulate, uint64_t seed)
{
    size_t na = (size_t)m * k, nb = (size_t)k * n, nc = (size_t)m * n;
    float *A = falloc(na), *B = falloc(nb), *C0 = falloc(nc);
    float *C1 = falloc(nc), *C2 = falloc(nc), *C3 = falloc(nc);
    float *val = falloc(na);
    int *ptr = malloc((size_t)(m + 1) * sizeof *ptr);
    int *idx = malloc((na ? na : 1) * sizeof *idx);
    ck_assert(ptr && idx);
    tu_fill(A, na, -1.0f, 1.0f, seed);
    tu_fill(B, nb, -1.0f, 1.0f, seed + 1);
    tu_fill(C0, nc, -1.0f, 1.0f, seed + 2);
    int nnz = 0;
    for (int i = 0; i < m; i++) {
        ptr[i] = nnz;
        for (int p = 0; p < k; p++) {
            float *a = A + (size_t)i * k + p;
            /* every third row empty; else keep a value in (0.6, 1] */
            if (i % 3 == 2 || (*a > -0.6f && *a < 0.6f)) {
                *a = 0.0f;
                continue;
            }
            idx[nnz] = p;
            val[nnz++] = *a;
        }
    }
    ptr[m] = nnz;
    memcpy(C1, C0, nc * sizeof *C1);
    memcpy(C2, C0, nc * sizeof *C2);
    memcpy(C3, C0, nc * sizeof *C3);
    advc_sgemm(NULL, ADVC_NOTRANS, ADVC_NOTRANS, m, n, k, A, k, B, n,
               accumulate, C1, n);
    advc_sparse_gemm(m, n, k, ptr, idx, val, B, n, accumulate, C2, n);
    advc_sparse_gemm_ref(m, n, k, ptr, idx, val, B, n, accumulate, C3, n);
    for (size_t e = 0; e < nc; e++) {
        ck_assert_msg(memcmp(&C1[e], &C2[e], sizeof *C1) == 0,
                      "sparse %dx%dx%d acc=%d: C[%zu] = %.9g, sgemm %.9g",
                      m, n, k, (int)accumulate, e, (double)C2[e],
                      (double)C1[e]);
        /* |error| <= 2 k u sum |a b| (+ |C0|), and every |a|, |b| <= 1 */
        double bound = 2.0 * (k + 2) * U_FLOAT * (k + 1.0);
        ck_assert_msg(fabs((double)C3[e] - (double)C1[e]) <= bound,
                      "sparse ref %dx%dx%d: C[%zu] = %.9g, sgemm %.9g", m, n,
                      k, e, (double)C3[e], (double)C1[e]);
    }
    advc_free(A), advc_free(B), advc_free(C0), advc_free(C1);
    advc_free(C2), advc_free(C3), advc_free(val);
    free(ptr), free(idx);
}

START_TEST(test_sparse_matches_sgemm)
{
    const int ns[] = { 1, 15, 16, 17, 63, 64, 65, 127, 128, 129, 200, 800 };
    const int ks[] = { 1, 25, 64, GEMM_KC, GEMM_KC + 1, 800, 2 * GEMM_KC + 3 };
    const int ms[] = { 7, 41 };
    uint64_t seed = 40;
    for (size_t r = 0; r < sizeof ms / sizeof *ms; r++)
        for (size_t a = 0; a < sizeof ns / sizeof *ns; a++)
            for (size_t b = 0; b < sizeof ks / sizeof *ks; b++)
                for (int acc = 0; acc < 2; acc++)
                    sparse_case(ms[r], ns[a], ks[b], acc, seed++);
}
END_TEST

/* advc_values against its reference: every length around the vector
 * widths, sparse and dense arrays holding -0 and NaN (values) and +0
 * (not), and the cap: exactly full, and one short (cap + 1). */
START_TEST(test_values_matches_ref)
{
    enum { N = 300 };
    float x[N];
    int p1[N], p2[N];
    float v1[N], v2[N];
    for (int dense = 0; dense < 2; dense++) {
        tu_fill(x, N, -1.0f, 1.0f, 70 + (uint64_t)dense);
        for (int k = 0; k < N; k++) {
            if (!dense && (x[k] > -0.8f && x[k] < 0.8f)) x[k] = 0.0f;
            if (k % 37 == 5) x[k] = -0.0f;
            if (k % 53 == 7) x[k] = NAN;
        }
        for (size_t n = 0; n <= N; n += n < 40 ? 1 : 13) {
            size_t r = advc_values_ref(n, x, N, p2, v2);
            ck_assert_uint_eq(advc_values(n, x, N, p1, v1), r);
            for (size_t e = 0; e < r; e++) {
                ck_assert_int_eq(p1[e], p2[e]);
                ck_assert(memcmp(&v1[e], &v2[e], sizeof v1[e]) == 0);
                ck_assert(memcmp(&v1[e], &x[p1[e]], sizeof v1[e]) == 0);
            }
            if (r == 0) continue;
            ck_assert_uint_eq(advc_values(n, x, r, p1, v1), r);
            ck_assert_uint_eq(advc_values(n, x, r - 1, p1, v1), r);
            ck_assert_uint_eq(advc_values_ref(n, x, r - 1, p2, v2), r);
        }
    }
}
END_TEST

Suite *advc_suite_gemm(void)
{
    Suite *s = suite_create("gemm");
    TCase *tc = tcase_create("gemm");
    /* qemu and sanitizer runs are many times slower than native. */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_ref_by_hand);
    tcase_add_test(tc, test_every_tile_edge);
    tcase_add_test(tc, test_depths);
    tcase_add_test(tc, test_cache_blocks);
    tcase_add_test(tc, test_threads_bitwise);
    tcase_add_test(tc, test_rows_a_matches_packed);
    tcase_add_test(tc, test_narrow_panels_match_wide);
    tcase_add_test(tc, test_empty);
    tcase_add_test(tc, test_overwrite_ignores_nan);
    tcase_add_test(tc, test_large);
    tcase_add_test(tc, test_sparse_matches_sgemm);
    tcase_add_test(tc, test_values_matches_ref);
    suite_add_tcase(s, tc);
    return s;
}
