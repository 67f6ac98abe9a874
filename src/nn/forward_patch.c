/* forward_patch.c: incremental forward passes for searches that change
 * one rectangle of the input at a time (the Square attack; advc_patch in
 * advc/nn.h).  Not a general graph engine: it handles a chain of layers
 * that starts with convolutions, activations and poolings (ops with
 * nn_op.reach) and ends with anything (dense layers), one exit.
 *
 * Per sample the outputs of the patched layers 1 .. t-1 (node 0 is the
 * input) at its current point are kept.  A candidate equal to that point
 * outside a rectangle R_0 of the input plane is evaluated as
 *   R_k = reach_k(R_{k-1})           what layer k's output change can be
 *   y_k[R_k] = layer_k(y_{k-1})      recomputed there only (op->patch),
 *                                    in place, the old values saved first
 *   y_t.. = the layers from t on, in full, on the gathered y_{t-1} rows
 * and afterwards either kept (accepted) or undone from the saved values.
 * Each output is computed with the same sums as the full forward, so the
 * logits are its bits.  Samples are independent: threads take fixed
 * contiguous ranges of them through all patched layers.
 */
/* The short copies here stay loops: GCC would turn them into memcpy
 * calls (loop distribution), which on runs of 2-10 floats cost more than
 * the copies. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include "graph_internal.h"

/* A patched forward is chosen while its multiply-adds (the patched
 * layers' rectangles for the worst placed window, plus the layers from t
 * on in full) are at most this share of a full forward's.  On cnn-small
 * and cnn, Square took the same time within the noise of a loaded machine
 * whether patching began at side 4 or 7 or at every side (cnn-small, 200
 * images: 7.0-7.5 s of CPU; cnn, 20 images: 16.5-18.7 s), so the share
 * only needs to keep passes that would recompute nearly everything on the
 * full path (bench/RESULTS.md, issue 10). */
#define PATCH_MAX_SHARE 0.8

/* Scratch per thread, at least: 2^16 floats (256 KB, in L2) lets a
 * convolution's GEMM cover the rectangles of many samples at once. */
#define PATCH_SCRATCH_MIN ((size_t)1 << 16)

struct advc_patch {
    advc_graph *g;
    int n;                  /* samples                                    */
    int t;                  /* patched nodes [0, t); t..end run in full   */
    int max_side;
    const nn_node **node;   /* (t) the patched nodes                      */
    size_t *size;           /* (t) floats per sample of node k's output   */
    float **kept;           /* (t) (n, size[k]) outputs at the kept points;
                               none for node 0 (the candidates are the
                               kept inputs outside their windows); for a
                               passing node, (threads, PATCH_GROUP,
                               size[k]): a slot per candidate of a group */
    size_t *undo_off;       /* (t) where node k's saved values start      */
    bool *save;             /* (t) node k's old values are saved (not when
                               an activation reads it: that reads only the
                               rectangle just recomputed)                */
    bool *passing;          /* (t) node k > 0 is not saved: nothing reads
                               its output but the activation after it, on
                               the rectangle just written, so it is kept
                               per group slot, not per sample            */
    size_t undo_per;        /* floats saved per candidate, at most        */
    float *undo;            /* (n, undo_per)                              */
    advc_rect *rect;        /* (n, t) this pass's rectangles              */
    int *idx;               /* (n) this pass's samples                    */
    int m;                  /* candidates in this pass (0: none)          */
    float *scratch;         /* (threads, nscratch)                        */
    size_t nscratch;
    int threads;
};

/* ---- rectangles ---------------------------------------------------------- */

/* floor(a / b) for b > 0 and any a */
static int floor_div(int a, int b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

/* Outputs [*lo, *hi) of a window op along one axis reached by inputs
 * [a, b): oy reads oy*stride - pad + [0, k), so it is reached when
 * oy*stride - pad <= b - 1 and oy*stride - pad + k - 1 >= a. */
static void reach_axis(int a, int b, int k, int stride, int pad, int n,
                       int *lo, int *hi)
{
    int l = -floor_div(-(a + pad - k + 1), stride); /* ceil */
    int h = floor_div(b - 1 + pad, stride) + 1;
    *lo = l < 0 ? 0 : l;
    *hi = h > n ? n : h;
    if (*hi < *lo) *hi = *lo;
}

void nn_reach_window(const advc_rect *in, int k, int stride, int pad,
                     int oh, int ow, advc_rect *out)
{
    if (nn_rect_pixels(in) == 0) {
        *out = (advc_rect){ 0, 0, 0, 0 };
        return;
    }
    reach_axis(in->y0, in->y1, k, stride, pad, oh, &out->y0, &out->y1);
    reach_axis(in->x0, in->x1, k, stride, pad, ow, &out->x0, &out->x1);
}

/* The rows of a rectangle, w floats each, from src (row stride ss) to dst
 * (stride ds), for `rows` rows: each width up to 8 as a fixed-size copy,
 * which the compiler makes one or two moves (Square's rectangles are 1-7
 * wide; the loop of unknown count ran its scalar tail for every row). */
static void copy_rows(float *restrict dst, size_t ds,
                      const float *restrict src, size_t ss, size_t w,
                      size_t rows)
{
#define ROWS_OF(W)                                                           \
    for (size_t y = 0; y < rows; y++, dst += ds, src += ss)              \
        memcpy(dst, src, (W) * sizeof *dst);                              \
    return;
    switch (w) {
    case 1: ROWS_OF(1)
    case 2: ROWS_OF(2)
    case 3: ROWS_OF(3)
    case 4: ROWS_OF(4)
    case 5: ROWS_OF(5)
    case 6: ROWS_OF(6)
    case 7: ROWS_OF(7)
    case 8: ROWS_OF(8)
    default:
        for (size_t y = 0; y < rows; y++, dst += ds, src += ss)
            for (size_t q = 0; q < w; q++) dst[q] = src[q];
    }
#undef ROWS_OF
}

float *nn_rect_copy(float *plane, advc_shape s, const advc_rect *r,
                    float *buf, bool to_buf)
{
    size_t w = nn_rect_pixels(r) ? (size_t)(r->x1 - r->x0) : 0;
    size_t rows = w ? (size_t)(r->y1 - r->y0) : 0;
    for (int ch = 0; w && ch < s.c; ch++, buf += rows * w) {
        float *row = plane + ((size_t)ch * s.h + r->y0) * s.w + r->x0;
        if (to_buf)
            copy_rows(buf, w, row, (size_t)s.w, w, rows);
        else
            copy_rows(row, (size_t)s.w, buf, w, w, rows);
    }
    return buf;
}

/* ---- building ------------------------------------------------------------ */

/* The patched nodes of g: node 0 and the nodes after it that form a chain
 * (one input, the node before) of ops with a reach that accepts them.
 * Returns t, or 0 when g is no single-exit chain. */
static int patched_nodes(const advc_graph *g)
{
    int nn = nn_num_nodes(g);
    if (advc_graph_num_exits(g) != 1) return 0;
    for (int i = 1; i < nn; i++) {
        const nn_node *v = nn_node_at(g, i);
        if (v->nin != 1 || v->in[0] != nn_node_at(g, i - 1) || v->no_y)
            return 0;
    }
    if (advc_graph_logits(g, 0) != nn_node_at(g, nn - 1)->y) return 0;
    advc_rect all = { 0, 1, 0, 1 }, out;
    int t = 1;
    while (t < nn) {
        const nn_node *v = nn_node_at(g, t);
        if (!v->op->reach || !v->op->patch || v->alias || v->place ||
            !v->op->reach(v, &all, &out))
            break;
        t++;
    }
    return t;
}

/* The rectangle of every patched node's output for a side x side window
 * at (y0, x0): r[0 .. t). */
static void reach_all(const advc_patch *p, int y0, int x0, int side,
                      advc_rect *r)
{
    r[0] = (advc_rect){ y0, y0 + side, x0, x0 + side };
    for (int k = 1; k < p->t; k++)
        p->node[k]->op->reach(p->node[k], &r[k - 1], &r[k]);
}

/* Per patched node, the most rows (*h) and columns (*w) of its rectangle
 * over every place of a side x side window (rows and columns reach
 * independently, so sliding one axis at a time finds both). */
static void worst_rects(const advc_patch *p, int side, int *h, int *w)
{
    advc_shape in = p->node[0]->shape;
    advc_rect r[64];
    for (int k = 0; k < p->t; k++) h[k] = w[k] = 0;
    for (int y0 = 0; y0 + side <= in.h; y0++) {
        reach_all(p, y0, 0, side, r);
        for (int k = 0; k < p->t; k++)
            if (r[k].y1 - r[k].y0 > h[k]) h[k] = r[k].y1 - r[k].y0;
    }
    for (int x0 = 0; x0 + side <= in.w; x0++) {
        reach_all(p, 0, x0, side, r);
        for (int k = 0; k < p->t; k++)
            if (r[k].x1 - r[k].x0 > w[k]) w[k] = r[k].x1 - r[k].x0;
    }
}

/* Multiply-adds of one node's output pixel: its forward's over its plane. */
static double macs_per_pixel(const nn_node *v)
{
    return v->op->macs ? v->op->macs(v) / (double)(v->shape.h * v->shape.w)
                       : 0.0;
}

/* Largest window side whose patched forward costs at most
 * PATCH_MAX_SHARE of a full one (0: none). */
static int choose_max_side(const advc_patch *p)
{
    const advc_graph *g = p->g;
    double full = advc_graph_forward_macs(g), patched = 0.0;
    for (int k = 1; k < p->t; k++) patched += macs_per_pixel(p->node[k]) *
                                              p->node[k]->shape.h *
                                              p->node[k]->shape.w;
    double tail = full - patched;
    advc_shape in = p->node[0]->shape;
    int h[64], w[64];
    for (int s = in.h < in.w ? in.h : in.w; s >= 1; s--) {
        worst_rects(p, s, h, w);
        double cost = tail;
        for (int k = 1; k < p->t; k++)
            cost += macs_per_pixel(p->node[k]) * h[k] * w[k];
        if (full > 0 && cost <= PATCH_MAX_SHARE * full) return s;
    }
    return 0;
}

/* Lays out the undo area and the scratch for windows up to max_side. */
static void size_buffers(advc_patch *p)
{
    int h[64], w[64];
    worst_rects(p, p->max_side, h, w);
    p->undo_per = 0;
    p->nscratch = PATCH_SCRATCH_MIN;
    for (int k = 0; k < p->t; k++) {
        const nn_node *v = p->node[k];
        size_t pix = (size_t)h[k] * w[k];
        /* node 0 is read from the candidates themselves */
        p->save[k] = k > 0 && !(k + 1 < p->t && nn_is_act(p->node[k + 1]));
        p->passing[k] = k > 0 && !p->save[k];
        p->undo_off[k] = p->undo_per;
        if (p->save[k]) p->undo_per += (size_t)v->shape.c * pix;
        if (k > 0 && v->op->patch_floats) {
            size_t f = v->op->patch_floats(v, pix);
            if (f > p->nscratch) p->nscratch = f;
        }
    }
    p->nscratch = (p->nscratch + 15) / 16 * 16;
}

/* Candidates handed to an op at once: a convolution lowers the
 * rectangles of up to this many side by side for one GEMM (64 samples of
 * 3x3 rectangles are 576 columns). */
enum { PATCH_GROUP = 64 };

/* Floats of kept[k]: per sample, or per group slot of each thread for a
 * passing node.  Keeping a passing node's output per sample only spread
 * its rectangles' writes (and the activation's reads of them) over the
 * samples' planes, a cache miss a row on cnn-small's conv layers under
 * Square on Zen 4; per slot they stay in L2, and its memory is halved. */
static size_t kept_floats(const advc_patch *p, int k)
{
    size_t rows = p->passing[k] ? (size_t)p->threads * PATCH_GROUP
                                : (size_t)p->n;
    return rows * p->size[k];
}

static bool alloc_buffers(advc_patch *p)
{
    size_t n = (size_t)p->n, t = (size_t)p->t;
    p->kept = calloc(t, sizeof *p->kept);
    p->idx = malloc(n * sizeof *p->idx);
    p->rect = malloc(n * t * sizeof *p->rect);
    p->undo = advc_alloc(n * p->undo_per * sizeof *p->undo + 1);
    p->scratch = advc_alloc((size_t)p->threads * p->nscratch *
                            sizeof *p->scratch);
    if (!p->kept || !p->idx || !p->rect || !p->undo || !p->scratch)
        return false;
    for (size_t k = 1; k < t; k++) {
        p->kept[k] = advc_alloc(kept_floats(p, (int)k) * sizeof(float));
        if (!p->kept[k]) return false;
    }
    return true;
}

void advc_patch_free(advc_patch *p)
{
    if (!p) return;
    for (int k = 1; p->kept && k < p->t; k++) advc_free(p->kept[k]);
    free(p->kept), free(p->node), free(p->size), free(p->undo_off);
    free(p->save), free(p->passing);
    free(p->idx), free(p->rect);
    advc_free(p->undo), advc_free(p->scratch);
    free(p);
}

/* Patched nodes beyond this many are left to the full forward (the
 * worst-rectangle tables are on the stack). */
enum { PATCH_MAX_NODES = 64 };

advc_status advc_patch_new(advc_graph *g, int n, advc_patch **out)
{
    assert(n >= 1 && n <= advc_graph_batch(g));
    *out = NULL;
    int t = patched_nodes(g);
    if (t > PATCH_MAX_NODES) t = PATCH_MAX_NODES;
    if (t < 2) return ADVC_OK; /* nothing before the first dense layer */
    advc_patch *p = calloc(1, sizeof *p);
    if (!p) goto nomem;
    p->g = g;
    p->n = n;
    p->t = t;
    p->threads = advc_pool_threads(advc_graph_pool(g));
    p->node = malloc((size_t)t * sizeof *p->node);
    p->size = malloc((size_t)t * sizeof *p->size);
    p->undo_off = malloc((size_t)t * sizeof *p->undo_off);
    p->save = malloc((size_t)t * sizeof *p->save);
    p->passing = malloc((size_t)t * sizeof *p->passing);
    if (!p->node || !p->size || !p->undo_off || !p->save || !p->passing)
        goto nomem;
    for (int k = 0; k < t; k++) {
        p->node[k] = nn_node_at(g, k);
        p->size[k] = nn_size(p->node[k]);
    }
    p->max_side = choose_max_side(p);
    if (p->max_side == 0) {
        advc_patch_free(p);
        return ADVC_OK;
    }
    size_buffers(p);
    if (!alloc_buffers(p)) goto nomem;
    *out = p;
    return ADVC_OK;
nomem:
    advc_patch_free(p);
    return advc_set_error(ADVC_ERR_NOMEM, "out of memory keeping "
                          "activations for %d samples", n);
}

int advc_patch_max_side(const advc_patch *p) { return p->max_side; }

/* ---- running ------------------------------------------------------------- */

void advc_patch_keep(advc_patch *p, const int *idx, int m)
{
    for (int k = 1; k < p->t; k++) {
        const float *y = p->node[k]->y; /* rows of the last forward */
        size_t sz = p->size[k];
        if (p->passing[k]) continue; /* nothing reads it outside a pass */
        for (int j = 0; j < m; j++)
            memcpy(p->kept[k] + (size_t)idx[j] * sz, y + (size_t)j * sz,
                   sz * sizeof *y);
    }
}

typedef struct {
    advc_patch *p;
    const float *x;         /* (n, input) the candidates, rows by sample  */
    const advc_rect *r;     /* (m) their windows                          */
} patch_job;

/* Asks for the rows of rectangle r of a sample's plane (every channel) to
 * be fetched (its first and last float per row): the next candidate's
 * saved values come from another sample's kept plane, in L3 or memory by
 * then.  A hint: no effect on results. */
static void prefetch_rect(const float *plane, advc_shape s,
                          const advc_rect *r)
{
#if defined(__GNUC__)
    if (nn_rect_pixels(r) == 0) return;
    for (int ch = 0; ch < s.c; ch++)
        for (int y = r->y0; y < r->y1; y++) {
            const float *row = plane + ((size_t)ch * s.h + y) * s.w;
            __builtin_prefetch(row + r->x0, 1, 3);
            __builtin_prefetch(row + r->x1 - 1, 1, 3);
        }
#else
    (void)plane, (void)s, (void)r;
#endif
}

/* Node k's output plane for candidate j of this pass (sample i), group
 * slot `slot` of thread `thread`. */
static float *kept_plane(const advc_patch *p, int k, size_t i, int thread,
                         size_t slot)
{
    size_t row = p->passing[k] ? (size_t)thread * PATCH_GROUP + slot : i;
    return p->kept[k] + row * p->size[k];
}

/* Candidates [lo, hi) of this pass (a group): their rectangles, then
 * each patched layer, its old values saved first. */
static void patch_group(const patch_job *jb, size_t lo, size_t hi,
                        int thread, float *scratch)
{
    advc_patch *p = jb->p;
    int t = p->t;
    nn_patch_item it[PATCH_GROUP];
    for (size_t j = lo; j < hi; j++) {
        advc_rect *r = &p->rect[j * (size_t)t];
        r[0] = jb->r[j];
        for (int k = 1; k < t; k++)
            p->node[k]->op->reach(p->node[k], &r[k - 1], &r[k]);
    }
    for (int k = 1; k < t; k++) {
        const nn_node *v = p->node[k];
        for (size_t j = lo; j < hi; j++) {
            size_t i = (size_t)p->idx[j];
            const advc_rect *r = &p->rect[j * (size_t)t + (size_t)k];
            float *y = kept_plane(p, k, i, thread, j - lo);
            if (p->save[k] && j + 1 < hi)
                prefetch_rect(kept_plane(p, k, (size_t)p->idx[j + 1], thread,
                                         j + 1 - lo),
                              v->shape, r + t);
            if (p->save[k])
                nn_rect_copy(y, v->shape, r, p->undo + j * p->undo_per +
                             p->undo_off[k], true);
            /* the first layer reads the candidate: it is the kept point
             * with the window changed */
            const float *x = k == 1 ? jb->x + i * p->size[0]
                                    : kept_plane(p, k - 1, i, thread, j - lo);
            it[j - lo] = (nn_patch_item){ x, y, *r };
        }
        v->op->patch(v, it, (int)(hi - lo), scratch, p->nscratch);
    }
}

static void patch_range(void *ctx, size_t lo, size_t hi, int thread)
{
    const patch_job *jb = ctx;
    float *scratch = jb->p->scratch + (size_t)thread * jb->p->nscratch;
    for (size_t g0 = lo; g0 < hi; g0 += PATCH_GROUP)
        patch_group(jb, g0, hi - g0 < PATCH_GROUP ? hi : g0 + PATCH_GROUP,
                    thread, scratch);
}

/* Candidates per thread part, at least: a part should outweigh waking a
 * thread (~5 us; a cnn-small candidate's patched layers are ~1 us). */
enum { PATCH_GRAIN = 8 };

void advc_patch_forward(advc_patch *p, const float *x, const int *idx,
                        const advc_rect *r, int m)
{
    assert(m >= 1 && m <= p->n);
    for (int j = 0; j < m; j++) /* the undo area holds no more */
        assert(r[j].y1 - r[j].y0 <= p->max_side &&
               r[j].x1 - r[j].x0 <= p->max_side);
    memcpy(p->idx, idx, (size_t)m * sizeof *idx);
    p->m = m;
    patch_job jb = { p, x, r };
    nn_parallel(advc_graph_pool(p->g), (size_t)m, 1, PATCH_GRAIN,
                patch_range, &jb);
    /* The layers from t on, in full, on the kept rows of node t-1. */
    const nn_node *last = p->node[p->t - 1];
    size_t sz = p->size[p->t - 1];
    for (int j = 0; j < m; j++)
        memcpy(last->y + (size_t)j * sz, p->kept[p->t - 1] +
               (size_t)idx[j] * sz, sz * sizeof *last->y);
    nn_forward_from(p->g, p->t, m, ADVC_MODE_EVAL);
}

void advc_patch_settle(advc_patch *p, const unsigned char *keep)
{
    for (int j = 0; j < p->m; j++) {
        if (keep[j]) continue;
        size_t i = (size_t)p->idx[j];
        for (int k = 0; k < p->t; k++)
            if (p->save[k])
                nn_rect_copy(p->kept[k] + i * p->size[k], p->node[k]->shape,
                             &p->rect[(size_t)j * p->t + k],
                             p->undo + (size_t)j * p->undo_per +
                                 p->undo_off[k], false);
    }
    p->m = 0;
}
