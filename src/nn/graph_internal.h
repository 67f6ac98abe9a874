/* graph_internal.h: what the graph engine (graph.c) and the ops in
 * src/nn/ops/ share, and nothing else sees: the node, the op table, the run
 * context and the helpers an op uses to declare parameters and buffers.
 *
 * An op is one file: a builder (validates arguments, infers the output
 * shape, allocates its small typed struct, declares its parameters and
 * saved buffers) and an nn_op table (forward, backward, workspace size,
 * describe).  The graph owns every buffer; ops only hold pointers that the
 * graph fills in at compile time.
 */
#ifndef ADVC_GRAPH_INTERNAL_H
#define ADVC_GRAPH_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "advc/nn.h"

typedef struct nn_node nn_node;
typedef struct nn_ctx nn_ctx;

/* One sample's part of an incremental forward (forward_patch.c): its
 * input and output planes, kept from its current point, and the rectangle
 * of the output to recompute (all channels). */
typedef struct {
    const float *x;         /* (input shape) the sample's input, patched   */
    float *y;               /* (output shape) its output                   */
    advc_rect r;            /* output rows and columns to recompute        */
} nn_patch_item;

/* One op kind.  forward reads its inputs' y and writes v->y; backward reads
 * v->dy and writes or adds its inputs' gradients (see nn_input_grad) and,
 * in UPDATE passes, adds its parameter gradients. */
typedef struct {
    const char *name;
    void (*forward)(nn_node *v, const nn_ctx *c);
    void (*backward)(nn_node *v, const nn_ctx *c);
    /* Floats of shared workspace one pass needs for `batch` samples on
     * `nthreads` threads (NULL: none). */
    size_t (*workspace)(const nn_node *v, int batch, int nthreads);
    /* Op-specific part of the describe line, e.g. "k=3 s=1 p=1" (NULL:
     * none). */
    void (*describe)(const nn_node *v, char *buf, size_t size);
    /* Multiply-adds of one sample's forward (NULL: none worth counting;
     * only the GEMM layers count). */
    double (*macs)(const nn_node *v);
    /* Called at compile before workspace, to fix per-layer choices from
     * the graph's settings (NULL: nothing to choose). */
    void (*prepare)(nn_node *v, const advc_graph *g);
    /* Floats per sample the op keeps from its forward for its backward,
     * known after prepare (NULL: none); compile sets v->saved. */
    size_t (*saved)(const nn_node *v);
    /* Ops that can apply an activation in their own pass over memory
     * (batch norm, add): at compile, when an activation node is v's only
     * consumer (and v is no exit), absorb(v, act) makes v write act's
     * output itself and read act's dL/dy in backward (act then only
     * passes through: nn_act_fuse); absorb(v, NULL) undoes it.  The
     * results are bitwise those of the two nodes apart (NULL: never). */
    void (*absorb)(nn_node *v, nn_node *act);
    /* Incremental forward (forward_patch.c), for ops whose output at a
     * pixel reads only a window of their input plane around it (NULL: the
     * op ends the patched layers; it and all after it run in full).
     * reach: false if this node cannot be patched with its forward's bits
     * (a Winograd convolution, a fused activation); else *out = the
     * rectangle of the output plane that a change of the input inside *in
     * reaches (empty, y0 >= y1, when none).  patch: recomputes the items'
     * rectangles on this thread, with nscratch floats of scratch, at least
     * patch_floats(v, the most output pixels of one item) (patch_floats
     * NULL: none needed). */
    bool (*reach)(const nn_node *v, const advc_rect *in, advc_rect *out);
    void (*patch)(const nn_node *v, const nn_patch_item *it, int m,
                  float *scratch, size_t nscratch);
    size_t (*patch_floats)(const nn_node *v, size_t pixels);
    /* Concatenation in place (place.c): reads_strided(v) true if v reads
     * its inputs' y and writes their dy at the inputs' ld (NULL: never);
     * writes_strided if v writes its y (or an absorbed activation's) and
     * reads its dy at v->ld (the activation's). */
    bool (*reads_strided)(const nn_node *v);
    bool writes_strided;
    /* advc_graph_hold_params(g, on) calls it for every node (NULL: none):
     * on, the parameters stay as they are until the next call with off,
     * so the op may make copies derived from them (a transposed weight)
     * and use them until then (off, or a compile). */
    void (*hold)(nn_node *v, bool on);
} nn_op;

/* W^T (cols, rows) of W (rows, cols) in wt while the parameters are held:
 * made at its first use in a hold (*made false; an op's hold callback sets
 * it false), then reused until the hold ends.  The dense layer's and the
 * sparse convolution's transposed weights. */
static inline const float *nn_held_transpose(int rows, int cols,
                                             const float *w, float *wt,
                                             bool *made)
{
    if (!*made) {
        advc_transpose(rows, cols, w, cols, wt, rows);
        *made = true;
    }
    return wt;
}

struct nn_node {
    int id;
    const nn_op *op;
    char name[48];
    int nin;
    nn_node **in;           /* (nin) input nodes                          */
    advc_shape shape;       /* per-sample output shape                    */
    void *priv;             /* the op's typed struct (owned; freed)       */
    /* Set at compile: */
    float *y;               /* (batch, shape) output                      */
    float *dy;              /* (batch, shape) dL/dy                       */
    float *saved;           /* (batch, op->saved(v)), or NULL              */
    nn_node *alias;         /* if not NULL, y and dy are alias's (flatten) */
    nn_node *place;         /* if not NULL, y and dy are this concat's
                               channels from `at` on (place.c)          */
    size_t at;              /* floats into place's sample               */
    size_t ld;              /* floats from a sample of y (dy) to the next:
                               nn_size, or place's ld when placed        */
    bool grad_live;         /* this backward has written dy (nn_input_grad) */
    bool no_y, no_dy;       /* set by absorb: y (dy) is never used, so
                               compile gives it no buffer (NULL)         */
    size_t nparams;         /* trainable floats this node declared        */
    size_t param0;          /* where they start in the params slab        */
};

/* What a forward or backward call needs besides the node. */
struct nn_ctx {
    advc_pool *pool;
    int nthreads;           /* advc_pool_threads(pool)                     */
    int n;                  /* samples in this pass (<= compiled batch)    */
    advc_mode mode;
    advc_pass pass;         /* backward only                               */
    advc_act_spec bact[ADVC_ACT_COUNT]; /* backward rule per forward act   */
    bool fresh_grads;       /* UPDATE pass right after advc_graph_zero_grads,
                               which zeroes lazily: each op overwrites its
                               parameter gradients instead of adding (as
                               0 + g, so the bits are those of adding to
                               zeros); graph.c zeroes those of ops that do
                               not run                                   */
    float *ws;              /* shared workspace (max over nodes)           */
    bool keep_saved;        /* forward: fill v->saved (an UPDATE backward
                               may follow); backward: the last forward
                               did, so v->saved may be read              */
    uint64_t seed, step;    /* randomness: graph seed, forward counter     */
};

/* Values per sample of v's output. */
static inline size_t nn_size(const nn_node *v)
{
    return advc_shape_size(v->shape);
}

/* Sample i's output (its dL/dy) in v's buffers, ld apart. */
static inline float *nn_y_at(const nn_node *v, size_t i)
{
    return v->y + i * v->ld;
}
static inline float *nn_dy_at(const nn_node *v, size_t i)
{
    return v->dy + i * v->ld;
}

/* ---- building (graph.c) ------------------------------------------------- */

/* Records the graph's first error (sticky, reported by compile) and
 * returns -1, so builders can `return nn_fail(g, ...)`. */
int nn_fail(advc_graph *g, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* The node with this id, or NULL after recording an error naming `op`. */
nn_node *nn_get(advc_graph *g, int id, const char *op);
/* Appends a node; `priv` (malloc'd, may be NULL) is owned by the graph from
 * here on, even on failure.  name NULL gives "<op><id>".  Returns the new
 * node or NULL (error recorded). */
nn_node *nn_add(advc_graph *g, const nn_op *op, const char *name,
                nn_node *const *in, int nin, advc_shape shape, void *priv);
/* How advc_graph_init_params fills a tensor. */
typedef enum {
    NN_INIT_WEIGHT, /* by the scheme (advc_init): he N(0, 2/fan_in),
                       uniform U(-1/sqrt(fan_in), 1/sqrt(fan_in))        */
    NN_INIT_BIAS,   /* a layer's bias: he 0, uniform as its weight       */
    NN_INIT_ZERO,
    NN_INIT_ONE
} nn_init;

/* Declares tensor "<node name>.<suffix>" of shape dims[0..ndim).  At
 * compile *val (and *grad for WEIGHT/BIAS, if grad is not NULL) are set to
 * its place in the params (grads, state) slab; the pointed-to fields must
 * live as long as the graph (they are in the op's struct).  Returns false
 * after an error. */
bool nn_param(advc_graph *g, nn_node *v, const char *suffix,
              advc_tensor_kind kind, nn_init init, int fan_in, int ndim,
              const int *dims, float **val, float **grad);
/* Declares a saved buffer of fixed + batch * per_sample elements, placed
 * (64-byte aligned) in the graph's aux slab at compile, where *slot is set:
 * argmax indices, batch statistics, dropout masks. */
bool nn_aux_floats(advc_graph *g, float **slot, size_t fixed,
                   size_t per_sample);
bool nn_aux_ints(advc_graph *g, int32_t **slot, size_t fixed,
                 size_t per_sample);
bool nn_aux_bytes(advc_graph *g, uint8_t **slot, size_t fixed,
                  size_t per_sample);

/* ---- incremental forward (forward_patch.c) ------------------------------ */

/* The output rectangle of a k x k window op (stride, zero padding pad,
 * output plane oh x ow) that a change inside *in reaches: output row oy
 * reads input rows oy*stride - pad + [0, k), so it is reached when that
 * range meets [in->y0, in->y1); likewise columns.  Clipped to the plane. */
void nn_reach_window(const advc_rect *in, int k, int stride, int pad,
                     int oh, int ow, advc_rect *out);
static inline size_t nn_rect_pixels(const advc_rect *r)
{
    return r->y0 < r->y1 && r->x0 < r->x1
               ? (size_t)(r->y1 - r->y0) * (size_t)(r->x1 - r->x0) : 0;
}
/* buf (c, rows, columns of *r) = plane[c][*r] (to_buf), or the reverse;
 * returns buf past what it read or wrote (plane: shape s, one sample). */
float *nn_rect_copy(float *plane, advc_shape s, const advc_rect *r,
                    float *buf, bool to_buf);
/* Runs nodes [first, end) of g on the n rows their inputs already hold
 * (the layers after the patched ones), in `mode`.  The pass is not a
 * forward a backward could follow. */
void nn_forward_from(advc_graph *g, int first, int n, advc_mode mode);

/* ---- activations in other ops' passes (activation.c) --------------------- */

/* True if v is an activation node; if its input's op computes it. */
bool nn_is_act(const nn_node *v);
bool nn_act_fused(const nn_node *v);
/* Marks activation node v as computed by its input's op (fused) or not. */
void nn_act_fuse(nn_node *v, bool fused);
/* Its forward function, and the backward rule of pass c (override
 * applied). */
advc_act_spec nn_act_spec(const nn_node *v);
advc_act_spec nn_act_rule(const nn_node *v, const nn_ctx *c);

/* ---- concatenation in place (place.c) ------------------------------------ */

/* Who reads a node, counted by the graph at compile (graph.c). */
typedef struct {
    int uses;               /* reads by nodes (an input listed twice: 2)  */
    int first, last;        /* build index of the first and last reader
                               (first > last: none)                       */
    nn_node *user;          /* the last reader                            */
    bool exit;              /* an exit: its logits and dL/dlogits are
                               read and written as contiguous rows        */
} nn_use;

/* True if v is a concat node. */
bool nn_is_concat(const nn_node *v);
/* At compile, after fusion, for the graph's nodes[0 .. nn) and their
 * readers use[0 .. nn): places every input of a concat that can be
 * placed (place.c says when) in its slice of the concat's output, so its
 * producer writes there and the concat copies nothing for it (on false:
 * none).  Sets every node's place, at and ld (ld final after
 * nn_point_placed). */
void nn_place_concat_inputs(nn_node *const *nodes, int nn, const nn_use *use,
                            bool on);
/* Points the placed nodes' y and dy into their concats' buffers (after
 * the graph pointed the others). */
void nn_point_placed(nn_node *const *nodes, int nn);
/* Whether v's dL/dy holds this backward's gradient: written through v,
 * or through the concat (chain) v is placed in. */
bool nn_grad_live(const nn_node *v);

/* The graph's nodes in build order (node 0 is the input). */
int nn_num_nodes(const advc_graph *g);
const nn_node *nn_node_at(const advc_graph *g, int i);

/* ---- running (graph.c) -------------------------------------------------- */

/* dL/d(input i of v), and whether the caller must add to it (*acc true) or
 * may overwrite it (false: v is the first node in this backward to reach
 * that buffer; semantically the buffer is zero).  Marks it written.  Take
 * the inputs in order and write each before taking the next (an input may
 * appear twice). */
float *nn_input_grad(nn_node *v, int i, bool *acc);

/* Runs fn(ctx, lo, hi, t) on fixed contiguous parts [lo, hi) of [0, n)
 * (parts aligned to `align`), part t on thread t of the pool.  Work under
 * `grain` items runs on the calling thread alone.  Each item must be
 * computed the same way whatever part it falls in. */
typedef void (*nn_range_fn)(void *ctx, size_t lo, size_t hi, int t);
/* The sparse paths of attack passes (dense.c, conv_sparse.c,
 * conv_patch.c) run when at most 1/NN_SPARSE_SHARE of an operand's
 * values (or of the GEMM's multiply-adds) are nonzero: an entry costs
 * several dense multiply-adds (a broadcast, a row of B streamed from L2
 * or at a stride, the CSR build). */
enum { NN_SPARSE_SHARE = 4 };

void nn_parallel(advc_pool *pool, size_t n, size_t align, size_t grain,
                 nn_range_fn fn, void *ctx);

/* sum_q x_q over [0, len), with 16 independent float accumulators
 * combined in double: the compiler keeps the lanes in vector registers (one
 * accumulator would serialise on the add latency), and the order of the
 * sum is fixed by the code, whatever the ISA or thread count. */
double nn_sum(const float *x, size_t len);

/* dst = src (acc false) or dst += src (acc true), parallel over [0, n). */
void nn_copy_or_add(advc_pool *pool, size_t n, const float *src, float *dst,
                    bool acc);

#endif /* ADVC_GRAPH_INTERNAL_H */
