/* attack_fab.c: FAB-T, the targeted L-inf Fast Adaptive Boundary attack
 * (Croce & Hein, "Minimally distorted adversarial examples with a fast
 * adaptive boundary attack", ICML 2020), run as AutoAttack runs it: toward
 * each of the top-k other classes t in turn, on the samples not fooled yet,
 * from x itself (later restarts from a random point within eps/2).
 *
 * One step linearises g = J = z_t - z_y at the iterate x_k, projects x_k
 * and x onto the hyperplane {g = 0} inside the box (L-inf, smallest move),
 * and mixes the two moves:
 *   d1 = P(x_k) - x_k,  d2 = P(x) - x
 *   a  = min(|d1| / (|d1| + |d2|), alpha_max)        (norms L-inf)
 *   x_k+1 = clip((1 - a)(x_k + eta d1) + a (x + eta d2))
 * An adversarial iterate (the judged exit no longer says y) is the new
 * smallest one if it is closer to x than any before, and is then pulled
 * back: x_k+1 = x + beta (x_k+1 - x).  After the steps a linear search
 * along [x, smallest] shortens the smallest adversarial point (the
 * authors' FAB code, off in AutoAttack); a sample is fooled when an
 * adversarial point lies within eps of x.  FAB has no loss to maximise:
 * an unfooled sample keeps the clean x.
 */
#include "attack_internal.h"

#include <math.h>
#include <string.h>

#include "advc/kernels.h"
#include "advc/loss.h"

/* ---- constants (the reference implementation's) ------------------------ */

/* The defaults of the descriptor's rows (bottom of the file), written once
 * as text for --help and as numbers for the config. */
#define FAB_ALPHA_MAX 0.1    /* a <= 0.1: at most a tenth of the way to x  */
#define FAB_ETA 1.05         /* overshoot both projections by 5%           */
#define FAB_BETA 0.9         /* an adversarial iterate is pulled back 10%  */
#define FAB_STEPS 100        /* iterations per target (AutoAttack's)       */
#define FAB_SEARCH_STEPS 3   /* final search steps (authors' FAB code)     */
#define FAB_START_SCALE 0.5f /* restarts > 0 start at |x1 - x| = eps/2     */
#define FAB_MIN_MOVE 1e-8f   /* floor on |d1|, |d2| in a's ratio           */
#define FAB_SEARCH_TINY 1e-10 /* guards the search's 0/0                   */
#define FAB_SCRATCH_SLOT 3   /* advc_pool_scratch slot (GEMM uses 0 and 1) */

/* ---- the box-constrained L-inf projection onto a hyperplane ------------- */

/* One coordinate that can move: its room p (how far it may go before the
 * box stops it) and weight |w|. */
typedef struct {
    double p, w;
} fab_room;

static double median3(double a, double b, double c)
{
    if (a > b) { double t = a; a = b; b = t; }
    if (b > c) b = c;
    return a > b ? a : b;
}

/* The lambda with f(lambda) = sat + slope lambda + sum_k w_k min(lambda,
 * p_k) = r over the undecided coordinates a[0..m) (sat: sum w p of those
 * known to saturate, slope: sum w of those known to move by lambda).  f is
 * increasing and piecewise linear with breakpoints p_k, so a weighted
 * quickselect finds the segment in expected O(m): a pivot q with f(q) < r
 * puts lambda above q (every p <= q saturates), otherwise at or below it
 * (every p >= q moves by lambda).  Reorders a. */
static double fab_level(fab_room *a, size_t m, double r, double sat,
                        double slope)
{
    size_t lo = 0, hi = m; /* a[lo, hi): not decided yet */
    while (lo < hi) {
        double q = median3(a[lo].p, a[lo + (hi - lo) / 2].p, a[hi - 1].p);
        /* three-way partition: [lo, lt) p < q, [lt, gt) p == q,
         * [gt, hi) p > q */
        size_t lt = lo, k = lo, gt = hi;
        while (k < gt) {
            fab_room v = a[k];
            if (v.p < q) { a[k++] = a[lt]; a[lt++] = v; }
            else if (v.p > q) { a[k] = a[--gt]; a[gt] = v; }
            else k++;
        }
        double below = 0.0, at = 0.0, above = 0.0;
        for (size_t j = lo; j < lt; j++) below += a[j].w * a[j].p;
        for (size_t j = lt; j < gt; j++) at += a[j].w;
        for (size_t j = gt; j < hi; j++) above += a[j].w;
        if (sat + below + q * (slope + at + above) < r) {
            sat += below + q * at; /* lambda > q */
            lo = gt;
        } else {
            slope += at + above; /* lambda <= q */
            hi = lt;
        }
    }
    /* slope == 0 only if rounding put r at f(inf): then every coordinate
     * saturates. */
    return slope > 0.0 ? (r - sat) / slope : INFINITY;
}

/* Scratch: the rooms of one bucket (d at most) and each coordinate's
 * bucket. */
size_t atk_fab_project_bytes(size_t d)
{
    return d * (sizeof(fab_room) + 1);
}

/* Buckets of the rooms over [0, hi - lo]: lambda is first placed between
 * two bucket edges, then solved exactly among that bucket's coordinates,
 * so the quickselect sees about d / FAB_BUCKETS of them. */
#define FAB_BUCKETS 64
#define FAB_NO_BUCKET 255 /* a coordinate with w = 0: it never moves */

/* How far coordinate k may move: toward hi if it goes up, else toward lo.
 * The direction follows the gradient's sign, which a branch predicts no
 * better than a coin: both sides are computed and one is picked by index
 * (so GCC emits no branch; the same values, a quarter less time in FAB-T
 * on cnn-small). */
static inline float room_of(float t, bool up, float lo, float hi)
{
    float r[2] = { t - lo, hi - t };
    return r[up];
}

/* Bucket of room p; out-of-range (and NaN) rooms go to the end buckets
 * without a float-to-int conversion that could overflow. */
static inline int bucket_of(float p, float scale)
{
    float v = p * scale;
    if (!(v >= 0.0f)) return 0;
    return v < (float)FAB_BUCKETS ? (int)v : FAB_BUCKETS - 1;
}

/* <w, t> in double, four partial sums (the adds do not wait on each other). */
static double dot_wt(size_t d, const float *w, const float *t)
{
    double s[4] = {0.0, 0.0, 0.0, 0.0};
    size_t k = 0;
    for (; k + 4 <= d; k += 4)
        for (int j = 0; j < 4; j++) s[j] += (double)w[k + j] * t[k + j];
    for (; k < d; k++) s[0] += (double)w[k] * t[k];
    return (s[0] + s[1]) + (s[2] + s[3]);
}

/* lambda for 0 < r < f(inf) (see fab_level): the bucket whose upper edge
 * first reaches r, then the exact solve inside it.  bw, bwp: sum |w| and
 * sum |w| p per bucket; qk: each coordinate's bucket. */
static double fab_lambda(size_t d, const float *t, const float *w, double r,
                         double dir, float lo, float hi, fab_room *room,
                         const unsigned char *qk, const double *bw,
                         const double *bwp, double slope)
{
    float scale = FAB_BUCKETS / (hi - lo);
    double sat = 0.0;
    int q = 0;
    for (; q < FAB_BUCKETS - 1; q++) {
        /* f at the bucket's upper edge: every room in it saturated */
        double e = (q + 1) / (double)scale;
        if (sat + bwp[q] + e * (slope - bw[q]) >= r) break;
        sat += bwp[q];
        slope -= bw[q];
    }
    size_t m = 0;
    for (size_t k = 0; k < d; k++) {
        if (qk[k] != q) continue;
        room[m].p = room_of(t[k], dir * w[k] < 0.0, lo, hi);
        room[m].w = fabs((double)w[k]);
        m++;
    }
    return fab_level(room, m, r, sat, slope - bw[q]);
}

/* Every coordinate with w != 0 moves by lambda in the direction that
 * brings <w, t> toward b, or up to the box; when even the box corner
 * cannot reach b, all go to the corner (as the reference does). */
float atk_fab_project(size_t d, const float *t, const float *w, double b,
                      float lo, float hi, void *scratch, float *delta)
{
    fab_room *room = scratch;
    unsigned char *qk = (unsigned char *)(room + d);
    double r = dot_wt(d, w, t) - b;
    /* <w, t> must change by -r: with r > 0, a coordinate with w > 0 goes
     * down and one with w < 0 goes up, and the other way round. */
    double dir = r >= 0.0 ? 1.0 : -1.0;
    r = fabs(r);
    /* two interleaved histograms, so that neighbours falling into the same
     * bucket do not wait on each other's update */
    double bw[2][FAB_BUCKETS] = {{0}}, bwp[2][FAB_BUCKETS] = {{0}};
    float scale = FAB_BUCKETS / (hi - lo);
    for (size_t k = 0; k < d; k++) {
        if (w[k] == 0.0f) {
            qk[k] = FAB_NO_BUCKET;
            continue;
        }
        float p = room_of(t[k], dir * w[k] < 0.0, lo, hi);
        double aw = fabs((double)w[k]);
        int q = bucket_of(p, scale);
        qk[k] = (unsigned char)q;
        bw[k & 1][q] += aw;
        bwp[k & 1][q] += aw * p;
    }
    double slope = 0.0, reach = 0.0;
    for (int q = 0; q < FAB_BUCKETS; q++) {
        bw[0][q] += bw[1][q];
        bwp[0][q] += bwp[1][q];
        slope += bw[0][q];
        reach += bwp[0][q]; /* f(inf): how far the box corner gets */
    }
    double lam = r == 0.0 ? 0.0
                 : r >= reach ? INFINITY
                              : fab_lambda(d, t, w, r, dir, lo, hi, room, qk,
                                           bw[0], bwp[0], slope);
    float lamf = lam < (double)(hi - lo) ? (float)lam : hi - lo;
    /* delta_k = +-min(room_k, lambda), 0 where w_k = 0 (a vector kernel:
     * dir w_k < 0 in float has the double product's sign, dir = +-1) */
    return advc_box_move(d, t, w, (float)dir, lamf, lo, hi, delta);
}

/* ---- state of a run ----------------------------------------------------- */

typedef struct {
    float *cur;            /* (n, d) x_k; after the steps: search's a1     */
    float *grad;           /* (n, d) dJ/dx at x_k; after: search's a3      */
    float *best;           /* (n, d) smallest adversarial point so far     */
    double *dist;          /* (n) its |best - x|_inf; +inf: none yet        */
    float *obj;            /* (n) J at the last evaluated point            */
    unsigned char *hit;    /* (n) that point is adversarial                */
    int *idx, *back;       /* (n) active samples; samples pulled back      */
    int *keep, *krow;      /* (n) samples whose gradient the last forward
                              gives; their rows in it                      */
    int *row;              /* (n) sample i's row in the last evaluation    */
    int *tgt;              /* (n) the current target class                 */
    int *ranks;            /* (n, C) targets by clean logit                */
    float *z1, *z2, *z3;   /* (n, C) final search: logits at a1, a2, a3    */
    int *la2, *la3;        /* (n) final search: the classes at a2, a3      */
    int *pred;             /* (n) predictions of an evaluated active set   */
    void *slab;
} fab_state;

static advc_status fab_alloc(const atk_ctx *c, fab_state *s)
{
    size_t n = (size_t)c->n, rows = n * c->d * sizeof(float);
    size_t zc = n * (size_t)c->classes;
    size_t iv = n * sizeof(int), zv = zc * sizeof(float);
    size_t sizes[] = {rows, rows, rows, n * sizeof(double), n * sizeof(float),
                      n,    iv,   iv,   iv, zc * sizeof(int), zv, zv, zv,
                      iv,   iv,   iv,   iv, iv, iv};
    enum { NPIECES = sizeof sizes / sizeof sizes[0] };
    size_t total = 0;
    for (int k = 0; k < NPIECES; k++) total += (sizes[k] + 63) / 64 * 64;
    char *p = advc_alloc(total);
    if (!p) return ADVC_ERR_NOMEM;
    s->slab = p;
    void **dst[NPIECES] = {
        (void **)&s->cur,  (void **)&s->grad, (void **)&s->best,
        (void **)&s->dist, (void **)&s->obj,  (void **)&s->hit,
        (void **)&s->idx,  (void **)&s->back, (void **)&s->tgt,
        (void **)&s->ranks, (void **)&s->z1,  (void **)&s->z2,
        (void **)&s->z3,   (void **)&s->la2, (void **)&s->la3,
        (void **)&s->pred, (void **)&s->keep, (void **)&s->krow,
        (void **)&s->row};
    for (int k = 0; k < NPIECES; k++) {
        *dst[k] = p;
        p += (sizes[k] + 63) / 64 * 64;
    }
    return ADVC_OK;
}

/* |a - x_i|_inf in double (exact differences), for sample i. */
static double fab_dist(const atk_ctx *c, int i, const float *a)
{
    const float *x = c->x + (size_t)i * c->d;
    double mx = 0.0;
    for (size_t k = 0; k < c->d; k++) {
        double t = fabs((double)a[k] - (double)x[k]);
        mx = t > mx ? t : mx;
    }
    return mx;
}

/* gr's rows j = 0 .. m-1 into s->grad as the gradients of idx[j]. */
static void fab_put_grads(const atk_ctx *c, fab_state *s, const int *idx,
                          int m, const float *gr)
{
    for (int j = 0; j < m; j++)
        memcpy(s->grad + (size_t)idx[j] * c->d, gr + (size_t)j * c->d,
               c->d * sizeof *gr);
}

/* Evaluates J, its gradient (if want_grad) and "adversarial" (if hit) at
 * the current iterates of idx[0..m); the gradients land in s->grad, and
 * s->row says where each sample was in the batch. */
static void fab_eval(const atk_ctx *c, fab_state *s, const int *idx, int m,
                     bool want_grad, unsigned char *hit)
{
    if (m == 0) return;
    for (int j = 0; j < m; j++) s->row[idx[j]] = j;
    const float *gr = atk_eval(c, s->cur, idx, m, s->obj, hit, want_grad);
    if (gr) fab_put_grads(c, s, idx, m, gr);
}

/* The gradients of sel[0..k), a part of the last evaluation's samples
 * whose points have not moved since: from that evaluation's forward (no
 * second one), or by evaluating them again where the graph cannot narrow
 * a forward (TRAIN mode).  J stays the evaluation's. */
static void fab_grads_kept(const atk_ctx *c, fab_state *s, const int *sel,
                           int k)
{
    if (k == 0) return;
    for (int j = 0; j < k; j++) s->krow[j] = s->row[sel[j]];
    const float *gr = atk_grad_rows(c, s->krow, sel, k);
    if (gr) fab_put_grads(c, s, sel, k, gr);
    else fab_eval(c, s, sel, k, true, NULL);
}

/* ---- the step, split over the graph's threads by sample ----------------- */

typedef struct {
    const atk_ctx *c;
    const fab_state *s;
    int m;
} fab_step_job;

/* x_k+1 for sample i from x_k, J(x_k) and its gradient; d1 and d2 hold d
 * floats each. */
static void fab_step_one(const atk_ctx *c, const fab_state *s, int i,
                         fab_room *room, float *d1, float *d2)
{
    const advc_attack_config *cfg = c->cfg;
    size_t d = c->d, off = (size_t)i * d;
    float *x1 = s->cur + off;
    const float *x0 = c->x + off, *g = s->grad + off;
    float lo = cfg->lo, hi = cfg->hi;
    /* The linearisation J(x_k) + <g, z - x_k> = 0 is <g, z> = b: */
    double b = dot_wt(d, g, x1) - (double)s->obj[i];
    float a1 = atk_fab_project(d, x1, g, b, lo, hi, room, d1);
    float a2 = atk_fab_project(d, x0, g, b, lo, hi, room, d2);
    a1 = a1 > FAB_MIN_MOVE ? a1 : FAB_MIN_MOVE;
    a2 = a2 > FAB_MIN_MOVE ? a2 : FAB_MIN_MOVE;
    float al = a1 / (a1 + a2);
    al = al < cfg->fab.alpha_max ? al : cfg->fab.alpha_max;
    float eta = cfg->fab.eta;
    for (size_t k = 0; k < d; k++) {
        float v = (x1[k] + eta * d1[k]) * (1.0f - al) +
                  (x0[k] + eta * d2[k]) * al;
        x1[k] = v < lo ? lo : (v > hi ? hi : v);
    }
}

/* Per-thread scratch of the step: d1, d2 (d floats each), then the
 * projection's own. */
static size_t fab_scratch_bytes(const atk_ctx *c)
{
    return 2 * c->d * sizeof(float) + atk_fab_project_bytes(c->d);
}

static void fab_step_task(void *p, int t, int T)
{
    const fab_step_job *j = p;
    const atk_ctx *c = j->c;
    size_t lo, hi;
    advc_split_range((size_t)j->m, t, T, 1, &lo, &hi);
    if (lo == hi) return;
    /* grown in atk_fab_t before the first step, so never NULL here */
    float *d1 = advc_pool_scratch(advc_graph_pool(c->g), t,
                                  FAB_SCRATCH_SLOT, fab_scratch_bytes(c));
    float *d2 = d1 + c->d;
    fab_room *room = (fab_room *)(d2 + c->d);
    for (size_t q = lo; q < hi; q++)
        fab_step_one(c, j->s, j->s->idx[q], room, d1, d2);
}

/* ---- one run ------------------------------------------------------------ */

/* Start of sample i: x itself (restart 0), else x + (eps/2) u / |u|_inf,
 * u ~ U(-1, 1) per pixel, in the box (the reference's restart point). */
static void fab_start(const atk_ctx *c, fab_state *s, int i, int restart,
                      uint64_t salt)
{
    size_t d = c->d, off = (size_t)i * d;
    const float *x = c->x + off;
    float *p = s->cur + off;
    if (restart == 0) {
        memcpy(p, x, d * sizeof *p);
        return;
    }
    advc_rng r;
    atk_rng(c, salt, i, &r);
    float mx = 0.0f;
    for (size_t k = 0; k < d; k++) {
        p[k] = 2.0f * advc_rng_uniform(&r) - 1.0f;
        mx = fabsf(p[k]) > mx ? fabsf(p[k]) : mx;
    }
    float sc = FAB_START_SCALE * c->cfg->eps / (mx + 1e-12f);
    float lo = c->cfg->lo, hi = c->cfg->hi;
    for (size_t k = 0; k < d; k++) {
        float v = x[k] + sc * p[k];
        p[k] = v < lo ? lo : (v > hi ? hi : v);
    }
}

/* After evaluating x_k of idx[0..m): an adversarial x_k within eps fools
 * its sample; one beyond eps becomes the smallest so far if it is, and
 * every adversarial x_k is pulled back toward x (listed in s->back, count
 * in *nback).  Returns m without the fooled samples under early_stop. */
static int fab_hits(const atk_ctx *c, atk_out *o, fab_state *s, int m,
                    int *nback)
{
    size_t d = c->d;
    float beta = c->cfg->fab.beta, lo = c->cfg->lo, hi = c->cfg->hi;
    int nb = 0;
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        if (!s->hit[i] || o->fooled[i]) continue;
        float *p = s->cur + (size_t)i * d;
        const float *x = c->x + (size_t)i * d;
        double t = fab_dist(c, i, p);
        if (t <= (double)c->cfg->eps) {
            atk_take_fool(c, o, i, p, s->obj[i]);
            continue;
        }
        if (t < s->dist[i]) {
            s->dist[i] = t;
            memcpy(s->best + (size_t)i * d, p, d * sizeof *p);
        }
        for (size_t k = 0; k < d; k++) {
            float v = x[k] + beta * (p[k] - x[k]);
            p[k] = v < lo ? lo : (v > hi ? hi : v);
        }
        s->back[nb++] = i;
    }
    *nback = nb;
    return c->early_stop ? atk_drop_fooled(o->fooled, s->idx, m) : m;
}

/* Logits of the judged exit at pts for the samples sel[0..ns) into z
 * (rows by sample), their classes into la if not NULL, and whether each is
 * adversarial into s->hit. */
static void fab_search_eval(const atk_ctx *c, fab_state *s, const float *pts,
                            const int *sel, int ns, float *z, int *la)
{
    int C = c->classes;
    atk_eval(c, pts, sel, ns, s->obj, s->hit, false);
    const float *zj = advc_graph_logits(c->g, c->judge);
    advc_argmax_rows(ns, C, zj, s->pred);
    for (int j = 0; j < ns; j++) {
        int i = sel[j];
        memcpy(z + (size_t)i * C, zj + (size_t)j * C, C * sizeof *z);
        if (la) la[i] = s->pred[j];
    }
}

/* a3 of sample i: where the margin z_y - z_l, linear between its values at
 * a1 (> 0) and a2 (< 0), crosses zero (a2 itself if that is not between). */
static void fab_search_point(const atk_ctx *c, const fab_state *s, int i,
                             const float *a1, const float *a2, float *a3)
{
    int C = c->classes, y = c->y[i], l = s->la2[i];
    const float *z1 = s->z1 + (size_t)i * C, *z2 = s->z2 + (size_t)i * C;
    double t1 = (double)z1[y] - z1[l], t2 = (double)z2[l] - z2[y];
    double t = t1 / (t1 + t2 + FAB_SEARCH_TINY);
    if (!(t >= 0.0 && t <= 1.0)) t = 1.0;
    float lo = c->cfg->lo, hi = c->cfg->hi;
    size_t off = (size_t)i * c->d;
    for (size_t k = 0; k < c->d; k++) {
        float v = (float)((double)a1[off + k] * (1.0 - t) +
                          (double)a2[off + k] * t);
        a3[off + k] = v < lo ? lo : (v > hi ? hi : v);
    }
}

/* The final search (the authors' linear_approximation_search): between
 * a1 = x (right) and a2 = the smallest adversarial point of each unfooled
 * sample, guess where the margin to a2's class crosses zero and move the
 * matching end there, FAB_SEARCH_STEPS times.  a2 stays adversarial and
 * only gets closer to x; within eps, it fools the sample (its objective is
 * not kept: FAB's results are compared by nobody). */
static void fab_search(const atk_ctx *c, atk_out *o, fab_state *s, int m)
{
    size_t d = c->d;
    int ns = 0, *sel = s->back; /* the samples searched */
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        if (!o->fooled[i] && isfinite(s->dist[i])) sel[ns++] = i;
    }
    if (ns == 0) return;
    float *a1 = s->cur, *a2 = s->best, *a3 = s->grad;
    for (int j = 0; j < ns; j++) {
        size_t off = (size_t)sel[j] * d;
        memcpy(a1 + off, c->x + off, d * sizeof *a1);
    }
    fab_search_eval(c, s, a1, sel, ns, s->z1, NULL);
    fab_search_eval(c, s, a2, sel, ns, s->z2, s->la2);
    for (int it = 0; it < FAB_SEARCH_STEPS; it++) {
        for (int j = 0; j < ns; j++) fab_search_point(c, s, sel[j], a1, a2, a3);
        fab_search_eval(c, s, a3, sel, ns, s->z3, s->la3);
        for (int j = 0; j < ns; j++) {
            /* a3 replaces a2 if adversarial, else a1 */
            int i = sel[j];
            bool h = s->hit[i];
            size_t off = (size_t)i * d, zoff = (size_t)i * c->classes;
            memcpy((h ? a2 : a1) + off, a3 + off, d * sizeof *a3);
            memcpy((h ? s->z2 : s->z1) + zoff, s->z3 + zoff,
                   c->classes * sizeof *s->z3);
            if (h) s->la2[i] = s->la3[i];
        }
    }
    for (int j = 0; j < ns; j++) {
        int i = sel[j];
        const float *p = a2 + (size_t)i * d;
        if (fab_dist(c, i, p) <= (double)c->cfg->eps)
            atk_take_fool(c, o, i, p, -INFINITY);
    }
}

/* One run of N = steps iterations on the unfooled samples, toward s->tgt.
 * Each iteration evaluates the adversarial test at the new iterates (a
 * forward), then J's gradient at the points the next step starts from.
 * The reference takes a forward and a backward at every such point; here
 * a sample that was not pulled back starts from the point just tested, so
 * its gradient is a backward through the test's forward, narrowed to
 * those samples (fab_grads_kept), and only the pulled-back ones get a
 * forward of their own.  Same points, same sums (a sample's values do not
 * depend on the others in its batch), so the same bits as evaluating
 * every start point afresh, with a forward less per sample kept. */
static void fab_run(const atk_ctx *c, atk_out *o, fab_state *s, int restart,
                    uint64_t salt)
{
    int m = atk_unfooled(c, o, s->idx), nb = 0, N = c->cfg->steps;
    if (m == 0) return;
    for (int j = 0; j < m; j++) {
        s->dist[s->idx[j]] = INFINITY;
        fab_start(c, s, s->idx[j], restart, salt);
    }
    /* The start is within eps/2 of x: adversarial there means fooled. */
    fab_eval(c, s, s->idx, m, true, s->hit);
    m = fab_hits(c, o, s, m, &nb);
    fab_eval(c, s, s->back, nb, true, NULL);
    fab_step_job job = {c, s, 0};
    for (int it = 0; it < N && m > 0; it++) {
        job.m = m;
        advc_pool_run(advc_graph_pool(c->g), fab_step_task, &job);
        fab_eval(c, s, s->idx, m, false, s->hit);
        m = fab_hits(c, o, s, m, &nb);
        if (it == N - 1) break;
        /* Pulled back: adversarial and not fooled (fab_hits); the rest
         * stay where they were tested. */
        int nk = 0;
        for (int j = 0; j < m; j++) {
            int i = s->idx[j];
            if (!s->hit[i] || o->fooled[i]) s->keep[nk++] = i;
        }
        fab_grads_kept(c, s, s->keep, nk);
        /* A pulled-back iterate needs its own forward (its adversarial
         * test is skipped, as in the reference). */
        fab_eval(c, s, s->back, nb, true, NULL);
    }
    if (c->cfg->fab.final_search) fab_search(c, o, s, m);
}

static advc_status atk_fab_t(const atk_ctx *c, atk_out *o)
{
    fab_state s;
    advc_pool *pool = advc_graph_pool(c->g);
    for (int t = 0; t < advc_pool_threads(pool); t++)
        if (!advc_pool_scratch(pool, t, FAB_SCRATCH_SLOT,
                               fab_scratch_bytes(c)))
            return advc_set_error(ADVC_ERR_NOMEM, "attack fab-t: out of "
                                  "memory for the projection scratch");
    if (fab_alloc(c, &s) != ADVC_OK) return ADVC_ERR_NOMEM;
    /* FAB's runs: J = z_t - z_y toward the current target; adversarial
     * means misclassified (the reference's test), judged at the final
     * attacked exit even inside loss-maximising drivers (max-average). */
    atk_ctx f = *c;
    f.loss = ADVC_LOSS_LOGIT_DIFF;
    f.loss_tgt = s.tgt;
    f.succ_tgt = NULL;
    if (f.judge < 0) f.judge = c->exit_hi - 1;
    int K = c->cfg->target_classes, R = c->cfg->restarts, C = c->classes;
    atk_target_ranks(c, K, s.ranks);
    atk_out_reset(c, o);
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < c->n; i++) s.tgt[i] = s.ranks[(size_t)i * C + k];
        for (int r = 0; r < R; r++)
            fab_run(&f, o, &s, r, (uint64_t)k * (uint64_t)R + (uint64_t)r);
    }
    advc_free(s.slab);
    return ADVC_OK;
}

/* ---- the descriptor ------------------------------------------------------ */

#define FAB_STR_(v) #v
#define FAB_STR(v) FAB_STR_(v)

/* AutoAttack's FAB-T: 100 steps against each of the 9 most likely other
 * classes, one restart from x itself, the step rules above, and the final
 * search (advc's addition; "off" is AutoAttack's FAB-T exactly). */
static void fab_defaults(advc_attack_config *c)
{
    c->steps = FAB_STEPS;
    c->random_start = 0;
    c->fab.alpha_max = (float)FAB_ALPHA_MAX;
    c->fab.eta = (float)FAB_ETA;
    c->fab.beta = (float)FAB_BETA;
    c->fab.final_search = 1;
}

/* FAB has no loss of its own to report: the CW margin stands for it where
 * a driver asks (its runs use the logit difference to each target). */
static void fab_resolve(advc_attack_config *c) { c->loss = ADVC_LOSS_CW; }

#define FAB_ROW(flag, field, lo, hi, open, def, help)                        \
    { flag, "X", ADVC_PARAM_REAL, offsetof(advc_attack_config, fab.field),   \
      lo, hi, open, FAB_STR(def), help, NULL, 0, 0, NULL, NULL }

static const advc_param fab_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_STEPS(FAB_STR(FAB_STEPS), "iterations per target class"),
    { "restarts", "R", ADVC_PARAM_INT, offsetof(advc_attack_config, restarts),
      1, 10000, 0, "1", "runs per target: the first from x, the others from "
      "a random point at L-inf distance eps/2", NULL, 0, 0, NULL, NULL },
    ATK_ROW_TARGET_CLASSES,
    FAB_ROW("alpha-max", alpha_max, 0, 1, 0, FAB_ALPHA_MAX,
            "largest weight of the step taken from x (FAB's alpha_max)"),
    FAB_ROW("eta", eta, 1, 10, 0, FAB_ETA,
            "overshoot factor of both projections (FAB's eta)"),
    FAB_ROW("beta", beta, 0, 1, 1, FAB_BETA,
            "after an adversarial iterate, shrink its distance to x by this "
            "(FAB's beta)"),
    { "final-search", "S", ADVC_PARAM_CHOICE,
      offsetof(advc_attack_config, fab.final_search), 0, 0, 0, "on",
      "3-step linear search toward x from the smallest adversarial point "
      "(the FAB authors' code; AutoAttack's FAB-T: off)", "off|on", 0, 0,
      NULL, NULL },
};

const atk_def atk_fab_t_def = {
    { "fab-t", "targeted FAB: smallest L-inf step to the boundary of each "
      "of the top-k other classes; fooled if within eps",
      "Croce, Hein, ICML 2020", ADVC_NORM_LINF, fab_params,
      (int)(sizeof fab_params / sizeof *fab_params) },
    fab_defaults, fab_resolve, atk_fab_t, 0, NULL, true
};
