/* pool.c: max, average and global average pooling, per channel plane.
 *   max      y = max_{window} x,  a = argmax      dx[a] += dy
 *   avg      y = sum_{window} x / |window|        dx[window] += dy / |window|
 *   global   y = mean_{h,w} x                     dx += dy / (h*w)
 * Windows are k x k with a stride and zero padding; padded positions are
 * ignored by max and excluded from the average's count |window|.  Threads
 * take whole (image, channel) planes.
 */
/* The short zero-fill and copy loops here stay loops: GCC would turn
 * them into memset/memcpy calls (loop distribution), which on runs of
 * 14-28 floats cost more than the stores (2.6% of a cnn training step). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-tree-loop-distribute-patterns")
#endif
#include <stdio.h>
#include <stdlib.h>
#include "../graph_internal.h"

typedef enum { POOL_MAX, POOL_AVG, POOL_GLOBAL } pool_kind;

typedef struct {
    pool_kind kind;
    int h, w;         /* input plane                   */
    int k, stride, pad;
    int oh, ow;       /* output plane                  */
    int32_t *arg;     /* (batch, c, oh, ow) index of each max in its input
                         plane (max only)              */
} pool_op;

typedef struct {
    const pool_op *d;
    const float *x, *dy; /* (n, c, h, w), (n, c, oh, ow) */
    float *y, *dx;       /* (n, c, oh, ow), (n, c, h, w) */
    bool acc;
} pool_job;

/* Window of output (oy, ox), clipped to the plane: rows [*y0, *y1),
 * columns [*x0, *x1). */
static void window(const pool_op *d, int oy, int ox, int *y0, int *y1,
                   int *x0, int *x1)
{
    int ty = oy * d->stride - d->pad, tx = ox * d->stride - d->pad;
    *y0 = ty < 0 ? 0 : ty;
    *x0 = tx < 0 ? 0 : tx;
    *y1 = ty + d->k < d->h ? ty + d->k : d->h;
    *x1 = tx + d->k < d->w ? tx + d->k : d->w;
}

/* Output (oy, ox) of plane x: the first maximum in row-major window
 * order (ties), its index in the plane in *best. */
static float max_at(const pool_op *d, const float *x, int oy, int ox,
                    int *best)
{
    int y0, y1, x0, x1;
    window(d, oy, ox, &y0, &y1, &x0, &x1);
    int b = y0 * d->w + x0;
    float m = x[b];
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
            float v = x[iy * d->w + ix];
            if (v > m) m = v, b = iy * d->w + ix;
        }
    *best = b;
    return m;
}

/* Output (oy, ox) of plane x: the mean over its window. */
static float avg_at(const pool_op *d, const float *x, int oy, int ox)
{
    int y0, y1, x0, x1;
    window(d, oy, ox, &y0, &y1, &x0, &x1);
    float s = 0.0f;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) s += x[iy * d->w + ix];
    return s / (float)((y1 - y0) * (x1 - x0));
}

static void max_plane(const pool_op *d, const float *x, float *y,
                      int32_t *arg)
{
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++) {
            int best;
            y[oy * d->ow + ox] = max_at(d, x, oy, ox, &best);
            arg[oy * d->ow + ox] = best;
        }
}

/* max_plane for the common 2x2 window, stride 2, no padding. */
static void max_plane_2x2(const pool_op *d, const float *x, float *y,
                          int32_t *arg)
{
    for (int oy = 0; oy < d->oh; oy++) {
        const float *r0 = x + 2 * oy * d->w, *r1 = r0 + d->w;
        for (int ox = 0; ox < d->ow; ox++) {
            int q = 2 * ox, best = q;
            float m = r0[q];
            if (r0[q + 1] > m) m = r0[q + 1], best = q + 1;
            if (r1[q] > m) m = r1[q], best = d->w + q;
            if (r1[q + 1] > m) m = r1[q + 1], best = d->w + q + 1;
            y[oy * d->ow + ox] = m;
            arg[oy * d->ow + ox] = 2 * oy * d->w + best;
        }
    }
}

static void avg_plane(const pool_op *d, const float *x, float *y)
{
    for (int oy = 0; oy < d->oh; oy++)
        for (int ox = 0; ox < d->ow; ox++)
            y[oy * d->ow + ox] = avg_at(d, x, oy, ox);
}

static void forward_planes(void *p, size_t lo, size_t hi, int t)
{
    const pool_job *j = p;
    const pool_op *d = j->d;
    size_t in = (size_t)d->h * d->w, out = (size_t)d->oh * d->ow;
    (void)t;
    for (size_t pl = lo; pl < hi; pl++) {
        const float *x = j->x + pl * in;
        float *y = j->y + pl * out;
        if (d->kind == POOL_MAX && d->k == 2 && d->stride == 2 &&
            d->pad == 0) {
            max_plane_2x2(d, x, y, d->arg + pl * out);
        } else if (d->kind == POOL_MAX) {
            max_plane(d, x, y, d->arg + pl * out);
        } else if (d->kind == POOL_AVG) {
            avg_plane(d, x, y);
        } else {
            y[0] = (float)(nn_sum(x, in) / (double)in);
        }
    }
}

/* dx = 0, n floats, in blocks of 8 written out (GCC's -O2 vectoriser
 * takes only loops whose trip count it knows; no memset call, see the
 * top).  Zeroing the L1-sized plane and then scattering the maxima is
 * cheaper than testing every input against its window's argmax: that
 * took 4.6% of a cnn training step (perf), zero-and-scatter under 2%. */
static void zero_plane(float *dx, size_t n)
{
    size_t q = 0;
    for (; q + 8 <= n; q += 8)
        for (int e = 0; e < 8; e++) dx[q + e] = 0.0f;
    for (; q < n; q++) dx[q] = 0.0f;
}

static void backward_planes(void *p, size_t lo, size_t hi, int t)
{
    const pool_job *j = p;
    const pool_op *d = j->d;
    size_t in = (size_t)d->h * d->w, out = (size_t)d->oh * d->ow;
    (void)t;
    for (size_t pl = lo; pl < hi; pl++) {
        const float *dy = j->dy + pl * out;
        float *dx = j->dx + pl * in;
        if (!j->acc) zero_plane(dx, in);
        if (d->kind == POOL_GLOBAL) {
            float g = dy[0] / (float)in;
            for (size_t q = 0; q < in; q++) dx[q] += g;
            continue;
        }
        if (d->kind == POOL_MAX) {
            for (size_t o = 0; o < out; o++)
                dx[d->arg[pl * out + o]] += dy[o];
            continue;
        }
        for (int oy = 0; oy < d->oh; oy++)
            for (int ox = 0; ox < d->ow; ox++) {
                int y0, y1, x0, x1;
                window(d, oy, ox, &y0, &y1, &x0, &x1);
                float g = dy[(size_t)oy * d->ow + ox] /
                          (float)((y1 - y0) * (x1 - x0));
                for (int iy = y0; iy < y1; iy++)
                    for (int ix = x0; ix < x1; ix++) dx[iy * d->w + ix] += g;
            }
    }
}

/* Planes per part: enough work that waking threads pays. */
static size_t pool_grain(const pool_op *d)
{
    size_t per = (size_t)d->h * d->w;
    return per >= (1 << 13) ? 1 : ((size_t)1 << 13) / per;
}

static void pool_forward(nn_node *v, const nn_ctx *c)
{
    pool_job j = { v->priv, v->in[0]->y, NULL, v->y, NULL, false };
    nn_parallel(c->pool, (size_t)c->n * v->shape.c, 1, pool_grain(j.d),
                forward_planes, &j);
}

static void pool_backward(nn_node *v, const nn_ctx *c)
{
    pool_job j = { v->priv, NULL, v->dy, NULL, NULL, false };
    j.dx = nn_input_grad(v, 0, &j.acc);
    nn_parallel(c->pool, (size_t)c->n * v->shape.c, 1, pool_grain(j.d),
                backward_planes, &j);
}

/* Incremental forward (forward_patch.c): the outputs whose windows meet
 * the changed rectangle, each as max_plane / avg_plane computes it. */
static bool pool_reach(const nn_node *v, const advc_rect *in, advc_rect *out)
{
    const pool_op *d = v->priv;
    nn_reach_window(in, d->k, d->stride, d->pad, d->oh, d->ow, out);
    return d->kind != POOL_GLOBAL;
}

/* Output (oy, ox) of plane x, as the full forward computes it (the
 * 2x2 max plane takes the same first maximum). */
static float pool_at(const pool_op *d, const float *x, int oy, int ox)
{
    int best;
    if (d->kind == POOL_MAX && d->k == 2 && d->stride == 2 && d->pad == 0) {
        /* max_at's window in its order, without its bounds and index
         * bookkeeping (a third of a patched max pooling) */
        const float *r0 = x + 2 * oy * d->w + 2 * ox, *r1 = r0 + d->w;
        float m = r0[0];
        if (r0[1] > m) m = r0[1];
        if (r1[0] > m) m = r1[0];
        if (r1[1] > m) m = r1[1];
        return m;
    }
    return d->kind == POOL_MAX ? max_at(d, x, oy, ox, &best)
                               : avg_at(d, x, oy, ox);
}

static void pool_patch(const nn_node *v, const nn_patch_item *it, int m,
                       float *scratch, size_t nscratch)
{
    const pool_op *d = v->priv;
    size_t in = (size_t)d->h * d->w, out = (size_t)d->oh * d->ow;
    (void)scratch, (void)nscratch;
    for (int j = 0; j < m; j++) {
        const advc_rect *r = &it[j].r;
        for (int ch = 0; nn_rect_pixels(r) && ch < v->shape.c; ch++) {
            const float *x = it[j].x + ch * in;
            float *y = it[j].y + ch * out;
            for (int oy = r->y0; oy < r->y1; oy++)
                for (int ox = r->x0; ox < r->x1; ox++)
                    y[oy * d->ow + ox] = pool_at(d, x, oy, ox);
        }
    }
}

static void pool_describe(const nn_node *v, char *buf, size_t size)
{
    const pool_op *d = v->priv;
    if (d->kind == POOL_GLOBAL) buf[0] = '\0';
    else snprintf(buf, size, "k=%d s=%d p=%d", d->k, d->stride, d->pad);
}

static const nn_op maxpool_vt = {
    .name = "maxpool", .forward = pool_forward, .backward = pool_backward,
    .describe = pool_describe, .reach = pool_reach, .patch = pool_patch,
};
static const nn_op avgpool_vt = {
    .name = "avgpool", .forward = pool_forward, .backward = pool_backward,
    .describe = pool_describe, .reach = pool_reach, .patch = pool_patch,
};
static const nn_op gap_vt = {
    .name = "gavgpool", .forward = pool_forward, .backward = pool_backward,
    .describe = pool_describe,
};

static int add_pool(advc_graph *g, pool_kind kind, const nn_op *op, int x,
                    int k, int stride, int pad)
{
    nn_node *u = nn_get(g, x, op->name);
    if (!u) return -1;
    pool_op *d = calloc(1, sizeof *d);
    if (!d) return nn_fail(g, "%s: out of memory", op->name);
    d->kind = kind;
    d->h = u->shape.h;
    d->w = u->shape.w;
    if (kind == POOL_GLOBAL) {
        k = d->h > d->w ? d->h : d->w;
        stride = 1;
        pad = 0;
    } else if (k <= 0 || stride <= 0 || pad < 0 || 2 * pad > k) {
        free(d);
        return nn_fail(g, "%s: k %d and stride %d must be positive, pad %d "
                       "in [0, k/2]", op->name, k, stride, pad);
    } else if (d->h + 2 * pad < k || d->w + 2 * pad < k) {
        free(d);
        return nn_fail(g, "%s: window %d (pad %d) is larger than the input "
                       "%dx%d", op->name, k, pad, u->shape.h, u->shape.w);
    }
    d->k = k;
    d->stride = stride;
    d->pad = pad;
    d->oh = kind == POOL_GLOBAL ? 1 : (d->h + 2 * pad - k) / stride + 1;
    d->ow = kind == POOL_GLOBAL ? 1 : (d->w + 2 * pad - k) / stride + 1;
    nn_node *v = nn_add(g, op, NULL, &u, 1,
                        (advc_shape){ u->shape.c, d->oh, d->ow }, d);
    if (!v) return -1;
    if (kind == POOL_MAX &&
        !nn_aux_ints(g, &d->arg, 0, (size_t)u->shape.c * d->oh * d->ow))
        return -1;
    return v->id;
}

int advc_maxpool(advc_graph *g, int x, int k, int stride, int pad)
{
    return add_pool(g, POOL_MAX, &maxpool_vt, x, k, stride, pad);
}

int advc_avgpool(advc_graph *g, int x, int k, int stride, int pad)
{
    return add_pool(g, POOL_AVG, &avgpool_vt, x, k, stride, pad);
}

int advc_global_avgpool(advc_graph *g, int x)
{
    return add_pool(g, POOL_GLOBAL, &gap_vt, x, 0, 1, 0);
}
