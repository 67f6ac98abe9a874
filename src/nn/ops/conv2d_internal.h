/* conv2d_internal.h: what the files of the conv2d op share: the layer's
 * typed struct, the per-pass job, the workspace layout and the chunk
 * helpers.  conv2d.c builds the layer, chooses its algorithm at compile
 * and dispatches; conv_gemm.c (implicit GEMM), conv_wino.c (Winograd) and
 * conv_direct.c (direct loops) compute it.  Nothing outside the op sees
 * this.
 */
#ifndef ADVC_CONV2D_INTERNAL_H
#define ADVC_CONV2D_INTERNAL_H

#include "../graph_internal.h"

typedef struct {
    advc_conv_geom geom;  /* (cin, h, w) -> (cout, oh, ow), k, stride, pad */
    int cout;
    int kdim;             /* cin*k*k: rows of the lowered input col(x)     */
    int ohw, hw;          /* oh*ow, h*w                                    */
    bool pointwise;       /* 1x1, stride 1, no padding: col(x) = x         */
    advc_conv_algo algo;  /* GEMM, DIRECT or WINOGRAD (set at compile)     */
    /* Chunks of whole images (GEMM path; the weight gradient always): */
    int q;                /* images per forward / weight-gradient chunk    */
    int qa;               /* images per forward chunk when the lowered
                             input is not kept (attack, eval): within L2;
                             1 exactly when q is 1 (the bias's order)     */
    int qb;               /* images per input-gradient chunk               */
    bool flip;            /* input gradient = the stride-1 convolution of
                             dy with the flipped filters (bgeom), else
                             W^T dY and col2im per chunk                   */
    advc_conv_geom bgeom; /* that convolution: (cout, oh, ow) -> (cin, h, w) */
    /* Winograd: tiles per chunk, forward, input and weight gradient. */
    int wt, wtb, wtw;
    float *w, *dw;        /* (cout, cin, k, k)                             */
    float *b, *db;        /* (cout), NULL if none                          */
    float *wtrans;        /* (cin*k*k, cout) W^T for the sparse products,
                             kept while the parameters are held (stride-1
                             layers with k > 1; else NULL)               */
    bool held;            /* the parameters are held (nn_op.hold)          */
    bool wt_ok;           /* wtrans is W's, made in this hold by the first
                             sparse forward                              */
} conv_op;

/* One pass over a batch.  Buffers: the graph's workspace is laid out as
 * [shared: sw floats][thread 0 .. T-1: tw floats each][dW partials]. */
typedef struct {
    const conv_op *d;
    const nn_ctx *c;
    const float *x, *dy;  /* (n, cin, h, w), (n, cout, oh, ow)            */
    float *y, *dx;        /* (n, cout, oh, ow), (n, cin, h, w)            */
    size_t xld;           /* floats from one image of x (dx) to the next:
                             cin*h*w, or more when x is a concat's slice
                             (place.c; not for Winograd)                 */
    bool dx_acc;          /* add to dx (another consumer wrote it first)  */
    float *shared;        /* transformed or flipped filters               */
    float *cols;          /* gemm: the forward's lowered input, kept for
                             the weight gradient (n, cin*k*k, oh*ow as
                             q-image chunks), or NULL                     */
    int groups;           /* weight-gradient groups                        */
    float *part;          /* (groups, ...) partial weight gradients        */
    advc_pool *gemm_pool; /* NULL: one-thread GEMMs inside pool tasks      */
    bool sparse;          /* conv_sparse.c may compute this pass's sparse
                             images (forward: no lowered input kept;
                             input gradient: ATTACK pass, dx overwritten) */
    const float *wt;      /* sparse forward: W^T (d->wtrans or j->shared)   */
} conv_job;

/* Floats of the shared area and of each thread's area for d's algorithm
 * (conv2d.c). */
size_t conv_shared_floats(const conv_op *d);
size_t conv_thread_floats(const conv_op *d);
/* Thread t's area of the workspace. */
float *conv_thread_buf(const conv_job *j, int t);

/* Runs fn(ctx, ...) over [0, count) chunks: in pool tasks with one-thread
 * GEMMs, or, with fewer chunks than threads, on this thread with threaded
 * GEMMs (the same bits: a GEMM's sums do not depend on its thread count);
 * sets j->gemm_pool accordingly.  ctx NULL means j. */
void conv_run_chunks(conv_job *j, size_t count, nn_range_fn fn, void *ctx);

/* Chunk ch of q-image chunks: images [*i0, *i0 + *m) of the pass's n. */
void conv_chunk_images(const conv_job *j, int q, size_t ch, size_t *i0,
                       int *m);
static inline size_t conv_nchunks(size_t n, size_t per)
{
    return (n + per - 1) / per;
}

/* dst = src or dst += src (acc), n floats: not libc calls (the runs are
 * short; see src/kernels/im2col.c), and in blocks of 8 written out, which
 * GCC's -O2 vectoriser needs (it takes only loops whose trip count it
 * knows). */
void conv_copy(float *restrict dst, const float *restrict src, size_t n,
               bool acc);
void conv_zero(float *dst, size_t n); /* dst = 0, n floats, likewise */

/* dst (+)= ((part_0 + part_1) + part_2) + ... over j->groups partials of
 * `per` floats at j->part, on the pool (acc false: dst = the sum). */
void conv_reduce_parts(const conv_job *j, size_t per, float *dst, bool acc);

/* conv_gemm.c: implicit GEMM. */
void conv_gemm_forward(conv_job *j);
void conv_gemm_weight_grad(conv_job *j); /* into j->part (groups)        */
void conv_gemm_input_grad(conv_job *j);
size_t conv_gemm_thread_floats(const conv_op *d);
size_t conv_gemm_saved_floats(const conv_op *d); /* per sample */
size_t conv_gemm_shared_floats(const conv_op *d);

/* conv_patch.c: the incremental forward's rectangles (nn_op.reach,
 * patch, patch_floats). */
bool conv_reach(const nn_node *v, const advc_rect *in, advc_rect *out);
void conv_patch(const nn_node *v, const nn_patch_item *it, int m,
                float *scratch, size_t nscratch);
size_t conv_patch_floats(const nn_node *v, size_t pixels);

/* conv_sparse.c: forward and input gradient of mostly-zero images with
 * the GEMM path's bits (stride-1 gemm and implicit layers, k > 1). */
bool conv_sparse_fits(const conv_op *d);
size_t conv_sparse_thread_floats(const conv_op *d); /* 0 if it does not fit */
/* Forward: j->wt = W^T (the held copy, made by the first pass of a hold,
 * or made in j->shared), once per pass on the calling thread; then chunk
 * by chunk, if conv_sparse_forward_ok, each image on thread t. */
void conv_sparse_prepare(conv_job *j);
/* nn_op.hold: the held copy of W^T is void until the next prepare. */
void conv_sparse_hold(nn_node *v, bool on);
bool conv_sparse_forward_ok(const conv_job *j, size_t i0, int m, int t);
void conv_sparse_forward(const conv_job *j, size_t i, int t);
/* dx of image i (overwritten) on thread t; false, with nothing written,
 * when dy is too dense. */
bool conv_sparse_input_grad(const conv_job *j, size_t i, int t);

/* conv_wino.c: Winograd F(4x4, 3x3). */
void conv_wino_forward(conv_job *j);
void conv_wino_input_grad(conv_job *j);
size_t conv_wino_thread_floats(const conv_op *d);
size_t conv_wino_shared_floats(const conv_op *d);
void conv_wino_weight_grad(conv_job *j); /* dW += (via groups, shared) */
void conv_wino_plan(conv_op *d); /* tiles per chunk */
int conv_wino_groups(const conv_op *d, int n);
size_t conv_wino_part_floats(const conv_op *d, int n);

#endif /* ADVC_CONV2D_INTERNAL_H */
