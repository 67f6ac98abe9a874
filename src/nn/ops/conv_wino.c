/* conv_wino.c: 3x3 stride-1 convolution by Winograd F(4x4, 3x3) (the
 * transforms and their accuracy: advc/kernels.h, src/kernels/winograd.c).
 *   forward      U = G W G^T, once per pass, stored transposed (36, cin,
 *                cout) so that the GEMMs pack it by copies; per chunk of
 *                tiles: V = B^T d B (36, cin, nt), M_xi = U_xi V_xi for
 *                each of the 36 points (one GEMM each), y = A^T M A + b
 *   input grad   the same on dy with the filters flipped (U (36, cout,
 *                cin), transposed too) and padding 2 - pad, which is the
 *                input gradient of a 3x3 stride-1 convolution, into dx
 *   weight grad  per chunk V as above and D = A dY A^T (36, cout, nt),
 *                dU_xi (+)= D_xi V_xi^T (one GEMM per point, summed over
 *                the chunk's tiles), then dW += G^T dU G
 * Forward and input-gradient chunks are multiples of 16 tiles, so the
 * transforms' blocks are full; weight-gradient chunks are whole tile rows.
 * A chunk's V and M stay in L2 between the transforms and the GEMMs.
 * A tile's forward and input-gradient results depend on its own patch
 * only (the GEMMs' sums run over channels in a fixed order), so
 * chunks, threads and the rest of the batch do not change their bits; the
 * weight gradient sums chunks in groups fixed by the batch and the
 * geometry, as the GEMM path does.
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include "conv2d_internal.h"

enum {
    P = ADVC_WINO_POINTS,
    WINO_FLOATS = 1 << 17, /* V + M of one chunk: 512 KB, half an L2     */
    WGRAD_FLOATS = 1 << 19, /* V + D of a weight-gradient chunk (2 MB):
                              each chunk's dU partial (36 cout cin) costs
                              a pass in the reduction, so these chunks are
                              4x larger (19 chunks of 28 tiles on a 64-
                              channel 7x7 layer spent 3.5% of a ResNet
                              step adding partials)                      */
    MAX_TILES = 256,       /* tiles per chunk, at most                    */
    WINO_BLOCK = 16,       /* tiles per transform block, at most (the
                              widest ISA's lanes, a multiple of the
                              others')                                   */
    PART_FLOATS = 1 << 22  /* all groups' dU partials, at most (16 MB)    */
};

/* Tiles per chunk for in -> out channels and rows of tw tiles: the two
 * transformed blocks within `floats`, in whole rows (at least one). */
static int tiles_per_chunk(int in, int out, int tw, size_t floats)
{
    size_t nt = floats / ((size_t)P * (in + out));
    if (nt > MAX_TILES) nt = MAX_TILES;
    nt = nt / (size_t)tw * (size_t)tw;
    return nt < (size_t)tw ? tw : (int)nt;
}

/* Tiles per forward or input-gradient chunk: the nearest multiple of
 * WINO_BLOCK to what fits `floats` (at least one): the transforms move
 * up to 16 tiles at a time (a block may span tile rows) and the AVX-512
 * micro-kernel 16 columns, so a chunk of 28 tiles (64 channels on 7x7)
 * cost as much as 32 in both.  Any size gives the same bits here (each
 * tile's results depend on its own patch); not used for the weight
 * gradient, whose chunks set the order of its sums. */
static int tiles_per_pass_chunk(int in, int out, size_t floats)
{
    size_t nt = floats / ((size_t)P * (in + out));
    nt = (nt + WINO_BLOCK / 2) / WINO_BLOCK * WINO_BLOCK;
    if (nt > MAX_TILES) nt = MAX_TILES;
    return nt < WINO_BLOCK ? WINO_BLOCK : (int)nt;
}

static int tile_cols(const advc_conv_geom *g)
{
    return (g->ow + ADVC_WINO_TILE - 1) / ADVC_WINO_TILE;
}

void conv_wino_plan(conv_op *d)
{
    advc_conv_geom_init(&d->bgeom, d->cout, d->geom.oh, d->geom.ow, 3, 3, 1,
                        2 - d->geom.pad);
    int tw = tile_cols(&d->geom);
    d->wt = tiles_per_pass_chunk(d->geom.c, d->cout, WINO_FLOATS);
    d->wtb = tiles_per_pass_chunk(d->cout, d->geom.c, WINO_FLOATS);
    d->wtw = tiles_per_chunk(d->geom.c, d->cout, tw, WGRAD_FLOATS);
}

size_t conv_wino_thread_floats(const conv_op *d)
{
    int nt = d->wt > d->wtb ? d->wt : d->wtb;
    if (d->wtw > nt) nt = d->wtw;
    return (size_t)P * (d->geom.c + d->cout) * (nt + ADVC_WINO_PAD);
}

size_t conv_wino_shared_floats(const conv_op *d)
{
    return (size_t)P * d->geom.c * d->cout; /* U, or dU */
}

/* Weight-gradient chunks of wtw tiles. */
static size_t wino_chunks(const conv_op *d, int n)
{
    return conv_nchunks((size_t)n * advc_wino_tiles(&d->geom),
                        (size_t)d->wtw);
}

int conv_wino_groups(const conv_op *d, int n)
{
    size_t per = (size_t)P * d->cout * d->geom.c, nc = wino_chunks(d, n);
    size_t cap = PART_FLOATS / per;
    int G = nc < 64 ? (int)nc : 64;
    if ((size_t)G > cap) G = cap > 0 ? (int)cap : 1;
    return G;
}

size_t conv_wino_part_floats(const conv_op *d, int n)
{
    return (size_t)conv_wino_groups(d, n) * P * d->cout * d->geom.c;
}

/* ---- forward and input gradient -------------------------------------- */

/* One Winograd convolution over the batch: geometry g (g->c channels in),
 * cout channels out, filters U (36, g->c, cout) (transposed) in
 * j->shared. */
typedef struct {
    conv_job *j;
    const advc_conv_geom *g;
    int cout, nt;
    size_t tiles;
    const float *x, *bias;
    float *y;
    bool acc;
} wino_pass;

static void pass_chunks(void *p, size_t lo, size_t hi, int t)
{
    const wino_pass *w = p;
    int cin = w->g->c, nt = w->nt, ld = nt + ADVC_WINO_PAD;
    float *V = conv_thread_buf(w->j, t);           /* (36, cin, ld)  */
    float *M = V + (size_t)P * cin * ld;           /* (36, cout, ld) */
    const float *U = w->j->shared;
    for (size_t ch = lo; ch < hi; ch++) {
        size_t t0 = ch * (size_t)nt;
        int n = w->tiles - t0 < (size_t)nt ? (int)(w->tiles - t0) : nt;
        advc_wino_input(w->g, w->x, t0, n, V, ld);
        for (int xi = 0; xi < P; xi++)
            advc_sgemm(w->j->gemm_pool, ADVC_TRANS, ADVC_NOTRANS, w->cout,
                       n, cin, U + (size_t)xi * w->cout * cin, w->cout,
                       V + (size_t)xi * cin * ld, ld, false,
                       M + (size_t)xi * w->cout * ld, ld);
        advc_wino_output(w->g, w->cout, M, ld, t0, n, w->bias, w->acc, w->y);
    }
}

static void run_pass(wino_pass *w)
{
    w->tiles = (size_t)w->j->c->n * advc_wino_tiles(w->g);
    conv_run_chunks(w->j, conv_nchunks(w->tiles, (size_t)w->nt), pass_chunks,
                    w);
}

void conv_wino_forward(conv_job *j)
{
    const conv_op *d = j->d;
    advc_wino_weights(d->cout, d->geom.c, d->w, false, true, j->shared);
    wino_pass w = { j, &d->geom, d->cout, d->wt, 0, j->x, d->b, j->y,
                    false };
    run_pass(&w);
}

void conv_wino_input_grad(conv_job *j)
{
    const conv_op *d = j->d;
    advc_wino_weights(d->cout, d->geom.c, d->w, true, true, j->shared);
    wino_pass w = { j, &d->bgeom, d->geom.c, d->wtb, 0, j->dy, NULL, j->dx,
                    j->dx_acc };
    run_pass(&w);
}

/* ---- weight gradient ------------------------------------------------- */

/* Chunk ch's dU (+)= D V^T into part (36, cout, cin). */
static void weight_chunk(const conv_job *j, size_t ch, float *part,
                         bool first, int t)
{
    const conv_op *d = j->d;
    int cin = d->geom.c, nt = d->wtw, ld = nt + ADVC_WINO_PAD;
    size_t tiles = (size_t)j->c->n * advc_wino_tiles(&d->geom);
    size_t t0 = ch * (size_t)nt;
    int n = tiles - t0 < (size_t)nt ? (int)(tiles - t0) : nt;
    float *V = conv_thread_buf(j, t);     /* (36, cin, ld)  */
    float *D = V + (size_t)P * cin * ld;  /* (36, cout, ld) */
    advc_wino_input(&d->geom, j->x, t0, n, V, ld);
    advc_wino_output_adjoint(&d->geom, d->cout, j->dy, t0, n, D, ld);
    for (int xi = 0; xi < P; xi++)
        advc_sgemm(j->gemm_pool, ADVC_NOTRANS, ADVC_TRANS, d->cout, cin, n,
                   D + (size_t)xi * d->cout * ld, ld,
                   V + (size_t)xi * cin * ld, ld, !first,
                   part + (size_t)xi * d->cout * cin, cin);
}

static void weight_groups(void *p, size_t lo, size_t hi, int t)
{
    const conv_job *j = p;
    size_t per = (size_t)P * j->d->cout * j->d->geom.c;
    size_t nc = wino_chunks(j->d, j->c->n);
    for (size_t gi = lo; gi < hi; gi++) {
        size_t c0, c1;
        advc_split_range(nc, (int)gi, j->groups, 1, &c0, &c1);
        for (size_t ch = c0; ch < c1; ch++)
            weight_chunk(j, ch, j->part + gi * per, ch == c0, t);
    }
}

void conv_wino_weight_grad(conv_job *j)
{
    const conv_op *d = j->d;
    j->groups = conv_wino_groups(d, j->c->n);
    conv_run_chunks(j, (size_t)j->groups, weight_groups, NULL);
    size_t per = (size_t)P * d->cout * d->geom.c;
    conv_reduce_parts(j, per, j->shared, false); /* dU, in group order */
    if (j->c->fresh_grads) { /* the adjoint adds: give it zeros */
        size_t nw = (size_t)d->cout * d->kdim;
        for (size_t k = 0; k < nw; k++) d->dw[k] = 0.0f;
    }
    advc_wino_weights_adjoint(d->cout, d->geom.c, j->shared, d->dw);
}
