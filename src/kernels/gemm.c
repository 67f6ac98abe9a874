/* gemm.c: advc_sgemm, the blocked and threaded SGEMM driver.
 *
 * Goto/BLIS structure: five loops (NC columns, KC depth, MC rows, then NR
 * and MR micro-tiles) around this ISA's register-blocked micro-kernel
 * (isa_sgemm_ukernel).  Packing copies op(A) and op(B) into the panel
 * layouts the micro-kernel streams, which also absorbs the transposes.
 * Block sizes and their reasons are in gemm_blocking.h.
 */
#include <assert.h>
#include <string.h>
#include "dispatch.h"
#include "gemm_blocking.h"

enum { MR = GEMM_MR, NR = GEMM_NR, KC = GEMM_KC, MC = GEMM_MC, NC = GEMM_NC };

/* Floats per 64-byte cache line. */
enum { LINE_FLOATS = 16 };

/* Scratch slots of advc_pool_scratch used by GEMM. */
enum { SLOT_A = 0, SLOT_B = 1 };

/* Threads are only worth waking when each gets at least this many
 * multiply-adds (2^20: about 20 us of one core at the ~105 GFLOP/s the
 * AVX2 kernel reaches, against ~5 us for a pool hand-off; 128^3 on two
 * threads measured 1.75x).  Depends on sizes only, never on timing. */
#define MIN_MACS_PER_THREAD ((size_t)1 << 20)

/* Everything a worker needs: the problem and the fixed thread grid. */
typedef struct {
    advc_trans ta, tb;
    int m, n, k;
    const float *A, *B;
    int lda, ldb, ldc;
    float *C;
    bool accumulate;
    advc_pool *scratch_pool; /* pool owning the packing buffers, or NULL */
    int tm, tn;              /* the threads form a tm x tn grid over C   */
    const advc_gemm_bsrc *bsrc; /* packs op(B) itself (B unused), or NULL */
} sgemm_job;

static inline int imin(int a, int b) { return a < b ? a : b; }

/* Width of the panel after one that starts `left` rows (or columns)
 * before the end of its block, for panels of width w: 0 if none. */
static inline int next_width(int left, int w)
{
    return left - w <= 0 ? 0 : imin(w, left - w);
}

/* Asks for the cache line holding p to be fetched into L2, not L1 (which
 * the micro-kernel needs for its panels).  A hint: no effect on
 * results, and nothing at all for compilers without the builtin. */
static inline void gemm_prefetch(const float *p)
{
#if defined(__GNUC__)
    __builtin_prefetch(p, 0, 2); /* 0: for reading; 2: into L2 (not L1) */
#else
    (void)p;
#endif
}

/* Packs rows [i0, i0+mc) x columns [p0, p0+kc) of op(A) into MR-row
 * panels: panel q holds dst[q*MR*kc + p*MR + r] = op(A)[i0+q*MR+r][p0+p],
 * rows past mc set to zero (the micro-kernel always reads MR rows). */
static void pack_a(const sgemm_job *g, int i0, int mc, int p0, int kc,
                   float *dst)
{
    if (g->ta == ADVC_TRANS) {
        /* op(A) = A^T: row p0+p of A holds all mc values for one p.  Walk
         * it once, dealing MR at a time to the panels, so each cache line
         * of A is read once (visiting a panel at a time would stride
         * through A by lda and revisit every line mc/MR times). */
        for (int p = 0; p < kc; p++) {
            const float *src = g->A + (size_t)(p0 + p) * g->lda + i0;
            float *d = dst + (size_t)p * MR;
            int ir = 0;
            for (; ir + MR <= mc; ir += MR, d += (size_t)MR * kc)
                memcpy(d, src + ir, MR * sizeof *d); /* fixed size: inlined */
            for (int r = 0; r < MR && ir < mc; r++)
                d[r] = ir + r < mc ? src[ir + r] : 0.0f;
        }
        return;
    }
    /* op(A) = A: MR rows of A become one panel, a transpose (done by
     * this ISA's GEMM_PACK_T). */
    for (int ir = 0; ir < mc; ir += MR, dst += (size_t)MR * kc)
        GEMM_PACK_T(kc, imin(MR, mc - ir), MR,
                    g->A + (size_t)(i0 + ir) * g->lda + p0, g->lda, dst,
                    next_width(mc - ir, MR));
}

/* Packs rows [p0, p0+kc) x columns [j, j+nr) of op(B) into one NR-column
 * panel: dst[p*NR + c] = op(B)[p0+p][j+c], columns past nr set to zero.
 * next_nr (0: none) is the width of the panel packed after this one,
 * whose source lines are prefetched on the way: the micro-kernel then
 * works on this panel while they arrive.  This matters when B is much
 * larger than the caches and every row of it is a separate stream (e.g.
 * 288 x 25088 for a convolution), which hardware prefetchers do not
 * follow. */
static void pack_b_panel(const sgemm_job *g, int j, int nr, int p0, int kc,
                         float *dst, int next_nr)
{
    if (g->bsrc) { /* the caller's packer (advc_sgemm_src) */
        g->bsrc->pack(g->bsrc->ctx, p0, kc, j, nr, NR, dst);
        return;
    }
    if (g->tb == ADVC_TRANS) {
        /* op(B) = B^T: the panel is NR rows of B, transposed. */
        GEMM_PACK_T(kc, nr, NR, g->B + (size_t)j * g->ldb + p0, g->ldb, dst,
                    next_nr);
        return;
    }
    /* op(B) = B: each packed row is a contiguous piece of a B row. */
    const float *src = g->B + (size_t)p0 * g->ldb + j;
    if (nr == NR) {
        /* Full panel: a fixed-size copy the compiler turns into a few
         * vector moves (a variable-length memcpy here would be a library
         * call or `rep movs`, slow for 64 bytes). */
        for (int p = 0; p < kc; p++, src += g->ldb) {
            /* the next panel's piece of this row, a line at a time */
            for (int c = 0; c < next_nr; c += LINE_FLOATS)
                gemm_prefetch(src + NR + c);
            memcpy(dst + (size_t)p * NR, src, NR * sizeof *dst);
        }
        return;
    }
    for (int p = 0; p < kc; p++, src += g->ldb) {
        float *d = dst + (size_t)p * NR;
        for (int c = 0; c < nr; c++)
            d[c] = src[c];
        for (int c = nr; c < NR; c++)
            d[c] = 0.0f;
    }
}

/* Depth of each KC block: k split into equal blocks of at most KC, so a
 * k just above KC gives two half blocks rather than a full one and a
 * sliver.  Depends on k only, so every thread sums in the same order. */
static int kc_step(int k)
{
    int nblocks = (k + KC - 1) / KC;
    return (k + nblocks - 1) / nblocks;
}

int advc_sgemm_kc(int k)
{
    return k > 0 ? kc_step(k) : 1;
}

/* True when the micro-kernel reads op(A) = A where it lies (this ISA's
 * isa_sgemm_ukernel_rows) instead of packing it: each row of A is then a
 * contiguous stream, and the transposing pack (8 x 8 register transposes,
 * a float written for every lda-strided one read) is skipped; the same
 * bits either way.  Not when rows are a multiple of 4 KiB apart: the 8
 * rows a tile reads would then share one set of the L1 cache. */
static inline bool rows_a(const sgemm_job *g)
{
#if defined(isa_sgemm_ukernel_rows)
    return g->ta == ADVC_NOTRANS && g->lda % 1024 != 0;
#else
    (void)g;
    return false;
#endif
}

/* The micro-kernel on rows [ir, ir + mr) of the MC block at row ic, depth
 * block pc: from A itself (rows) or from the packed block ap. */
static inline void ukernel(const sgemm_job *g, bool rows, int kc,
                           const float *ap, int ic, int ir, int pc,
                           const float *bpanel, float *c, int mr, int nr,
                           bool acc)
{
#if defined(isa_sgemm_ukernel_rows)
    if (rows) {
        isa_sgemm_ukernel_rows(kc, g->A + (size_t)(ic + ir) * g->lda + pc,
                               (size_t)g->lda, bpanel, c, g->ldc, mr, nr,
                               acc);
        return;
    }
#else
    (void)g, (void)rows, (void)ic, (void)pc;
#endif
    isa_sgemm_ukernel(kc, ap + (size_t)ir * kc, bpanel, c, g->ldc, mr, nr,
                      acc);
}

/* Rows of the blocks that rows [i0, i1) are cut into.  MC keeps a
 * packed block of A in L2; A read in place (rows_a) needs no block, so
 * all the rows are one block when their piece of A, rows x kc, fits half
 * of L2 (ROWS_BLOCK_BYTES): each B panel is then packed into the L1
 * buffer and used by every row right away, where 2 blocks (a dense
 * layer's 180 attack rows against MC = 128) wrote every panel into a
 * kc x NC buffer and read it back for the second block. */
#define ROWS_BLOCK_BYTES ((size_t)512 * 1024)

static inline int row_block(const sgemm_job *g, int i0, int i1)
{
    int kc = kc_step(g->k);
    if (rows_a(g) && (size_t)(i1 - i0) * (size_t)kc * sizeof(float) <=
                         ROWS_BLOCK_BYTES)
        return i1 - i0 > MC ? i1 - i0 : MC;
    return MC;
}

/* True when rows [i0, i1) fit one row block: each B panel is then used by
 * that block alone, right after it is packed. */
static inline bool one_row_block(const sgemm_job *g, int i0, int i1)
{
    return i1 - i0 <= row_block(g, i0, i1);
}

/* C[i0..i1) x [j0..j1) of the job, on one thread, with packing buffers ap
 * (MC x kc) and bp (kc x NC, or kc x NR if one_row_block). */
static void sgemm_rect(const sgemm_job *g, int i0, int i1, int j0, int j1,
                       float *ap, float *bp)
{
    int kstep = kc_step(g->k);
    /* With one row block every B panel is packed into the same kc x NR
     * buffer, which stays in L1: a multi-megabyte block buffer written
     * once and read once would only cost memory traffic (up to 10% on
     * convolution shapes with few output channels). */
    bool reuse_panels = one_row_block(g, i0, i1);
    bool rows = rows_a(g);
    int mcb = row_block(g, i0, i1);
    for (int jc = j0; jc < j1; jc += NC) {
        int nc = imin(NC, j1 - jc);
        for (int pc = 0; pc < g->k; pc += kstep) {
            int kc = imin(kstep, g->k - pc);
            /* The first KC block writes or adds as asked; the rest add. */
            bool acc = g->accumulate || pc > 0;
            for (int ic = i0; ic < i1; ic += mcb) {
                int mc = imin(mcb, i1 - ic);
                if (!rows) pack_a(g, ic, mc, pc, kc, ap);
                for (int jr = 0; jr < nc; jr += NR) {
                    int nr = imin(NR, nc - jr);
                    float *bpanel = reuse_panels ? bp : bp + (size_t)jr * kc;
                    /* B panels are packed while the first MC block uses
                     * them, so each is still in L1 for its first pass. */
                    if (ic == i0)
                        pack_b_panel(g, jc + jr, nr, pc, kc, bpanel,
                                     next_width(nc - jr, NR));
                    float *c = g->C + (size_t)ic * g->ldc + jc + jr;
                    for (int ir = 0; ir < mc; ir += MR)
                        ukernel(g, rows, kc, ap, ic, ir, pc, bpanel,
                                c + (size_t)ir * g->ldc, imin(MR, mc - ir),
                                nr, acc);
                }
            }
        }
    }
}

/* Worker t of the tm x tn grid: its rectangle of C is a contiguous range
 * of MR-row tiles times a contiguous range of NR-column tiles, so tile
 * boundaries (and every sum) are the same for any thread count. */
static void sgemm_task(void *ctx, int t, int nthreads)
{
    const sgemm_job *g = ctx;
    (void)nthreads;
    if (t >= g->tm * g->tn) return;
    size_t lo, hi;
    advc_split_range((size_t)(g->m + MR - 1) / MR, t / g->tn, g->tm, 1,
                     &lo, &hi);
    int i0 = (int)lo * MR, i1 = imin(g->m, (int)hi * MR);
    advc_split_range((size_t)(g->n + NR - 1) / NR, t % g->tn, g->tn, 1,
                     &lo, &hi);
    int j0 = (int)lo * NR, j1 = imin(g->n, (int)hi * NR);
    if (i0 >= i1 || j0 >= j1) return;

    int kc = kc_step(g->k);
    int mc = imin(MC, (i1 - i0 + MR - 1) / MR * MR);
    int nc = one_row_block(g, i0, i1) ? NR
                                   : imin(NC, (j1 - j0 + NR - 1) / NR * NR);
    float *ap = rows_a(g) ? NULL : advc_pool_scratch(
                                  g->scratch_pool, t, SLOT_A,
                                  (size_t)mc * kc * sizeof(float));
    float *bp = advc_pool_scratch(g->scratch_pool, t, SLOT_B,
                                  (size_t)kc * nc * sizeof(float));
    assert((ap || rows_a(g)) && bp &&
           "advc_sgemm: out of memory for packing buffers");
    sgemm_rect(g, i0, i1, j0, j1, ap, bp);
}

/* Packing one float costs about as much time as this many multiply-adds
 * of the micro-kernel (which does 16 per cycle with two 8-wide FMA pipes,
 * while packing moves about one float per cycle). */
#define PACK_WEIGHT 16.0

/* Estimated time of the busiest worker of a tm x tn grid, in
 * multiply-adds: its padded share of tiles, plus its packing (its columns
 * of B once, and its rows of A once per NC block). */
static double grid_cost(int m, int n, int k, int tm, int tn)
{
    int mt = (m + MR - 1) / MR, nt = (n + NR - 1) / NR; /* tiles */
    int rows = (mt + tm - 1) / tm * MR, cols = (nt + tn - 1) / tn * NR;
    int jblocks = (cols + NC - 1) / NC;
    return (double)rows * cols * k +
           PACK_WEIGHT * k * ((double)cols + (double)rows * jblocks);
}

/* Chooses the thread grid tm x tn (tm * tn <= T): the cheapest by
 * grid_cost, and among equals the fewest threads, then the split of n
 * (each thread then packs only its own columns of B).  Problems too small
 * to pay for waking threads get 1 x 1.  Depends on sizes only. */
static void choose_grid(int m, int n, int k, int T, int *tm, int *tn)
{
    size_t macs = (size_t)m * n * k;
    size_t by_work = macs / MIN_MACS_PER_THREAD;
    if ((size_t)T > by_work) T = by_work > 0 ? (int)by_work : 1;
    double best = grid_cost(m, n, k, 1, 1);
    *tm = *tn = 1;
    for (int used = 2; used <= T; used++) {
        for (int a = 1; a <= used; a++) {
            int b = used / a;
            if (used % a || a > (m + MR - 1) / MR || b > (n + NR - 1) / NR)
                continue;
            double cost = grid_cost(m, n, k, a, b);
            if (cost < best) {
                best = cost;
                *tm = a;
                *tn = b;
            }
        }
    }
}

/* Runs job g on the grid choose_grid picks for pool's threads. */
static void sgemm_run(advc_pool *pool, sgemm_job *g)
{
    choose_grid(g->m, g->n, g->k, advc_pool_threads(pool), &g->tm, &g->tn);
    if (g->tm * g->tn == 1) {
        /* One thread: run here with this OS thread's own buffers (safe
         * even when called from inside another pool task). */
        sgemm_task(g, 0, 1);
        return;
    }
    g->scratch_pool = pool;
    advc_pool_run(pool, sgemm_task, g);
}

/* C = [C +] op(A) op(B), op(A) m x k, op(B) k x n, row-major. */
void advc_sgemm(advc_pool *pool, advc_trans ta, advc_trans tb, int m, int n,
                int k, const float *A, int lda, const float *B, int ldb,
                bool accumulate, float *C, int ldc)
{
    assert(m >= 0 && n >= 0 && k >= 0);
    assert(ldc >= n);
    if (m == 0 || n == 0) return;
    if (k == 0) {
        /* The empty sum is 0: C = 0, or C unchanged when accumulating. */
        if (!accumulate)
            for (int i = 0; i < m; i++)
                memset(C + (size_t)i * ldc, 0, (size_t)n * sizeof *C);
        return;
    }
    assert(lda >= (ta == ADVC_NOTRANS ? k : m));
    assert(ldb >= (tb == ADVC_NOTRANS ? n : k));

    sgemm_job g = { ta, tb, m, n, k, A, B, lda, ldb, ldc, C, accumulate,
                    NULL, 1, 1, NULL };
    sgemm_run(pool, &g);
}

void advc_sgemm_src(advc_pool *pool, advc_trans ta, int m, int n, int k,
                    const float *A, int lda, const advc_gemm_bsrc *b,
                    bool accumulate, float *C, int ldc)
{
    assert(m >= 0 && n >= 0 && k > 0 && ldc >= n && b && b->pack);
    assert(lda >= (ta == ADVC_NOTRANS ? k : m));
    if (m == 0 || n == 0) return;
    sgemm_job g = { ta, ADVC_NOTRANS, m, n, k, A, NULL, lda, 0, ldc, C,
                    accumulate, NULL, 1, 1, b };
    sgemm_run(pool, &g);
}
