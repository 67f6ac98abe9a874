/* attack_apgd.c: Auto-PGD, L-inf (Croce & Hein, "Reliable evaluation of
 * adversarial robustness with an ensemble of diverse parameter-free
 * attacks", ICML 2020, Algorithm 1), on cross-entropy or DLR, and APGD-T:
 * targeted DLR against each of the top-k other classes in turn.
 *   z     = P(x_k + eta sign(grad J(x_k)))
 *   x_k+1 = P(x_k + alpha (z - x_k) + (1 - alpha)(x_k - x_k-1)), alpha 0.75
 * with a per-sample step eta (2 eps at first) halved at checkpoints.
 */
#include "attack_internal.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define APGD_RHO 0.75       /* condition 1: success fraction threshold */
#define APGD_MOMENTUM 0.75f /* alpha: weight of the new projected step */

/* Checkpoints w_j = ceil(p_j N) with p_0 = 0, p_1 = 0.22 and
 * p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06): the distance between
 * checkpoints starts at 0.22 N and shrinks by 0.03 N per checkpoint to at
 * least 0.06 N.  As in the authors' code each length is an integer number
 * of iterations, int(f N) and at least 1. */
typedef struct {
    int len;   /* iterations from the last checkpoint to the next      */
    int decr;  /* by how much len shrinks after each checkpoint         */
    int min;   /* the shortest len                                      */
} apgd_sched;

static apgd_sched apgd_schedule(int N)
{
    apgd_sched s;
    s.len = (int)(0.22 * N);
    s.decr = (int)(0.03 * N);
    s.min = (int)(0.06 * N);
    if (s.len < 1) s.len = 1;
    if (s.decr < 1) s.decr = 1;
    if (s.min < 1) s.min = 1;
    return s;
}

/* Start: x + eps t / max|t|, t ~ U(-1, 1) per pixel (the authors' L-inf
 * start: some pixel sits on the ball's surface), then the box. */
static void apgd_start(const atk_ctx *c, advc_rng *r, int i, float *p)
{
    const advc_attack_config *cfg = c->cfg;
    const float *x = c->x + (size_t)i * c->d;
    float mx = 0.0f;
    for (size_t k = 0; k < c->d; k++) {
        p[k] = 2.0f * advc_rng_uniform(r) - 1.0f;
        mx = fabsf(p[k]) > mx ? fabsf(p[k]) : mx;
    }
    float s = cfg->eps / (mx + 1e-12f);
    for (size_t k = 0; k < c->d; k++)
        p[k] = atk_clamp(x[k] + s * p[k], x[k], cfg->eps, cfg->lo, cfg->hi);
}

/* Per-sample state: the attack's working memory. */
typedef struct {
    float *cur, *old, *best; /* (n, d) x_k, x_k-1, x_max                  */
    float *g, *gbest;        /* (n, d) grad J at x_k and at x_max         */
    float *obj, *bobj;       /* (n) J(x_k), J(x_max)                      */
    float *eta, *prev;       /* (n) step size, J of the last iterate      */
    float *best_at_check;    /* (n) J(x_max) at the last checkpoint       */
    int *ninc;               /* (n) increases of J since the checkpoint   */
    int *reduced;            /* (n) eta was halved at the last checkpoint */
    int *idx, *tgt;          /* (n) active samples; APGD-T's targets      */
    unsigned char *fooled;   /* (n) fooled at x_k                         */
    float *tmp;              /* (d) one row of scratch                    */
    int *ranks;              /* (n, classes) APGD-T: classes by clean logit */
} apgd_state;

static void apgd_layout(atk_carver *cv, const atk_dims *dm, void *priv)
{
    apgd_state *s = priv;
    size_t n = (size_t)dm->n, rows = n * dm->d * sizeof(float);
    size_t fv = n * sizeof(float), iv = n * sizeof(int);
    s->cur = atk_carve(cv, rows);
    s->old = atk_carve(cv, rows);
    s->best = atk_carve(cv, rows);
    s->g = atk_carve(cv, rows);
    s->gbest = atk_carve(cv, rows);
    s->obj = atk_carve(cv, fv);
    s->bobj = atk_carve(cv, fv);
    s->eta = atk_carve(cv, fv);
    s->prev = atk_carve(cv, fv);
    s->best_at_check = atk_carve(cv, fv);
    s->ninc = atk_carve(cv, iv);
    s->reduced = atk_carve(cv, iv);
    s->idx = atk_carve(cv, iv);
    s->tgt = atk_carve(cv, iv);
    s->fooled = atk_carve(cv, n);
    s->tmp = atk_carve(cv, dm->d * sizeof(float));
    s->ranks = atk_carve(cv, n * (size_t)dm->classes * sizeof(int));
}

/* The momentum step for sample i from x_k (cur) to x_k+1. */
static void apgd_step(const atk_ctx *c, const apgd_state *s, int i,
                      bool first, float *z)
{
    const advc_attack_config *cfg = c->cfg;
    size_t d = c->d, off = (size_t)i * d;
    const float *x = c->x + off;
    float *cur = s->cur + off, *old = s->old + off;
    float eps = cfg->eps, lo = cfg->lo, hi = cfg->hi;

    memcpy(z, cur, d * sizeof *z);
    advc_sign_step_proj(d, z, s->g + off, x, s->eta[i], eps, lo, hi);
    if (first) { /* alpha = 1 on the first step: x_1 = z */
        memcpy(old, cur, d * sizeof *cur);
        memcpy(cur, z, d * sizeof *cur);
        return;
    }
    const float al = APGD_MOMENTUM;
    for (size_t k = 0; k < d; k++) {
        float v = cur[k] + al * (z[k] - cur[k]) + (1.0f - al) *
                                                      (cur[k] - old[k]);
        old[k] = cur[k];
        cur[k] = atk_clamp(v, x[k], eps, lo, hi);
    }
}

/* Copies rows (n, d) of sample i: dst_i = src_i. */
static void copy_row(const atk_ctx *c, float *dst, const float *src, int i)
{
    size_t off = (size_t)i * c->d;
    memcpy(dst + off, src + off, c->d * sizeof *dst);
}

/* After evaluating x_k at iteration `it` (0 = the start) for the m
 * samples idx[0..m): keep the gradient, the first fooling point, the
 * count of increases and the best point. */
static void apgd_observe(const atk_ctx *c, atk_out *o, const apgd_state *s,
                         const int *idx, int m, const float *gr,
                         const unsigned char *fooled, int it)
{
    size_t d = c->d;
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        size_t off = (size_t)i * d;
        if (gr) memcpy(s->g + off, gr + (size_t)j * d, d * sizeof *gr);
        if (fooled[i] && !o->fooled[i])
            atk_take_fool(c, o, i, s->cur + off, s->obj[i]);
        if (it == 0) {
            s->bobj[i] = s->obj[i];
            copy_row(c, s->best, s->cur, i);
            copy_row(c, s->gbest, s->g, i);
            s->eta[i] = 2.0f * c->cfg->eps;
            copy_row(c, s->old, s->cur, i);
            s->ninc[i] = 0;
            s->best_at_check[i] = s->bobj[i];
            s->reduced[i] = 1; /* no condition 2 at the first checkpoint */
        } else {
            if (s->obj[i] > s->prev[i]) s->ninc[i]++;
            if (s->obj[i] > s->bobj[i]) {
                s->bobj[i] = s->obj[i];
                copy_row(c, s->best, s->cur, i);
                if (gr) copy_row(c, s->gbest, s->g, i);
            }
        }
        s->prev[i] = s->obj[i];
    }
}

/* At a checkpoint after `len` iterations: halve eta and go back to x_max
 * (with its gradient) when
 *   condition 1: J increased in fewer than rho * len of the steps since
 *                the last checkpoint, or
 *   condition 2: eta was not halved at the last checkpoint and J(x_max)
 *                has not increased since then. */
static void apgd_checkpoint(const atk_ctx *c, const apgd_state *s,
                            const int *idx, int m, int len)
{
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        bool cond1 = (double)s->ninc[i] < APGD_RHO * len;
        bool cond2 = !s->reduced[i] && !(s->bobj[i] > s->best_at_check[i]);
        bool halve = cond1 || cond2;
        s->reduced[i] = halve;
        s->best_at_check[i] = s->bobj[i];
        s->ninc[i] = 0;
        if (halve) {
            s->eta[i] *= 0.5f;
            copy_row(c, s->cur, s->best, i);
            copy_row(c, s->g, s->gbest, i);
        }
    }
}

/* One APGD run of N = steps iterations on the samples idx[0..m) (they are
 * all unfooled in o), random start keyed by salt.  Evaluates x_0 ... x_N:
 * N + 1 forwards and N backwards.  The first fooling iterate is a sample's
 * result; else x_max, kept if its J beats what o holds (or `first`).
 * Notes on the reading of Algorithm 1 (the authors' code agrees except
 * where said): the increase count of the first window starts from J(x_0)
 * (their code compares with an unset 0); condition 1 is "< rho" as in the
 * paper (their code: "<="); after a return to x_max the momentum term uses
 * the iterate before it, and the count continues from the last J seen. */
static void apgd_run(const atk_ctx *c, atk_out *o, int *idx, int m,
                     uint64_t salt, bool first)
{
    const apgd_state *sp = c->ws->priv;
    apgd_state s = *sp;
    unsigned char *fooled = s.fooled;
    int N = c->cfg->steps;

    for (int j = 0; j < m; j++) {
        advc_rng rng;
        atk_rng(c, salt, idx[j], &rng);
        apgd_start(c, &rng, idx[j], s.cur + (size_t)idx[j] * c->d);
    }
    const float *gr = atk_eval(c, s.cur, idx, m, s.obj, fooled, true);
    apgd_observe(c, o, &s, idx, m, gr, fooled, 0);
    if (c->early_stop) m = atk_drop_fooled(o->fooled, idx, m);

    apgd_sched sch = apgd_schedule(N);
    int since = 0;
    for (int it = 1; it <= N && m > 0; it++) {
        for (int j = 0; j < m; j++) apgd_step(c, &s, idx[j], it == 1, s.tmp);
        bool last = it == N; /* x_N needs no gradient */
        gr = atk_eval(c, s.cur, idx, m, s.obj, fooled, !last);
        apgd_observe(c, o, &s, idx, m, gr, fooled, it);
        if (++since == sch.len && !last) {
            apgd_checkpoint(c, &s, idx, m, sch.len);
            sch.len = sch.len - sch.decr > sch.min ? sch.len - sch.decr
                                                   : sch.min;
            since = 0;
        }
        if (c->early_stop) m = atk_drop_fooled(o->fooled, idx, m);
    }
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        atk_take_best(c, o, i, s.best + (size_t)i * c->d, s.bobj[i], first);
    }
}

/* APGD-CE / APGD-DLR (targeted if the config gives targets): restarts run
 * on the samples no earlier restart fooled. */
advc_status atk_apgd(const atk_ctx *c, atk_out *o)
{
    const apgd_state *s = c->ws->priv;
    int *idx = s->idx;
    atk_out_reset(c, o);
    for (int r = 0; r < c->cfg->restarts; r++) {
        int m = atk_unfooled(c, o, idx);
        if (m == 0) break;
        apgd_run(c, o, idx, m, (uint64_t)r, r == 0);
    }
    return ADVC_OK;
}

/* ranks (n, C): per sample, the classes other than y by decreasing clean
 * logit (ties: lower class first), from the attacked (last attacked) exit;
 * only the first K of each row are filled. */
static void apgd_t_ranks(const atk_ctx *c, int K)
{
    const apgd_state *w = c->ws->priv;
    int C = c->classes, n = c->n;
    advc_graph_forward(c->g, c->x, n, c->cfg->mode);
    const float *z = advc_graph_logits(c->g, c->exit_hi - 1);
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * C;
        int *rk = w->ranks + (size_t)i * C;
        for (int r = 0; r < K; r++) {
            int best = -1;
            for (int j = 0; j < C; j++) {
                if (j == c->y[i]) continue;
                bool taken = false;
                for (int q = 0; q < r && !taken; q++) taken = rk[q] == j;
                if (taken) continue;
                if (best < 0 || zi[j] > zi[best]) best = j;
            }
            rk[r] = best;
        }
    }
}

/* APGD-T: for k = 1..K, APGD on the targeted DLR loss toward each sample's
 * k-th most likely other class, on the samples not fooled yet.  Success
 * is misclassification (the authors' criterion), not hitting the target.
 * An unfooled sample keeps the point with the highest targeted DLR over
 * all targets (DLR is scale-free, so values for different targets
 * compare: > 0 means the target overtook y). */
advc_status atk_apgd_t(const atk_ctx *c, atk_out *o)
{
    const apgd_state *w = c->ws->priv;
    int K = c->cfg->target_classes, C = c->classes;
    int *idx = w->idx, *tgt = w->tgt;
    apgd_t_ranks(c, K);

    atk_ctx sub = *c;
    sub.loss = ADVC_LOSS_DLR;
    sub.loss_tgt = tgt;
    sub.succ_tgt = NULL;
    atk_out_reset(c, o);
    for (int k = 0; k < K; k++) {
        for (int i = 0; i < c->n; i++) tgt[i] = w->ranks[(size_t)i * C + k];
        for (int r = 0; r < c->cfg->restarts; r++) {
            int m = atk_unfooled(&sub, o, idx);
            if (m == 0) return ADVC_OK;
            uint64_t salt = (uint64_t)k * (uint64_t)c->cfg->restarts + r;
            apgd_run(&sub, o, idx, m, salt, k == 0 && r == 0);
        }
    }
    return ADVC_OK;
}

/* ---- the descriptors ----------------------------------------------------- */

/* 100 iterations (AutoAttack's standard version), one restart, a random
 * start always, the step size from the schedule (2 eps, halved at
 * checkpoints); APGD-T targets the 9 classes with the highest clean
 * logits after the true one. */
static void apgd_defaults(advc_attack_config *c) { c->steps = 100; }

static void apgd_dlr_defaults(advc_attack_config *c)
{
    c->steps = 100;
    c->loss = ADVC_LOSS_DLR;
}

static void apgd_ce_resolve(advc_attack_config *c)
{
    c->loss = ADVC_LOSS_XENT;
    c->random_start = 1;
}

static void apgd_dlr_resolve(advc_attack_config *c)
{
    c->loss = ADVC_LOSS_DLR;
    c->random_start = 1;
}

static const advc_param apgd_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_STEPS("100", "iterations"),
    ATK_ROW_RESTARTS,
};

static const advc_param apgd_t_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    ATK_ROW_STEPS("100", "iterations per target class"),
    ATK_ROW_RESTARTS,
    { "target-classes", "K", ADVC_PARAM_INT,
      offsetof(advc_attack_config, target_classes), 1, 999, 0, "9",
      "how many of the most likely other classes to target, in turn", NULL,
      0, 0, NULL, NULL },
};

#define NPARAMS(a) ((int)(sizeof(a) / sizeof *(a)))
#define APGD_PAPER "Croce, Hein, ICML 2020"

const atk_def atk_apgd_ce_def = {
    { "apgd-ce", "Auto-PGD on cross-entropy: adaptive step, momentum 0.75",
      APGD_PAPER, ADVC_NORM_LINF, apgd_params, NPARAMS(apgd_params) },
    apgd_defaults, apgd_ce_resolve, atk_apgd, sizeof(apgd_state),
    apgd_layout
};

const atk_def atk_apgd_dlr_def = {
    { "apgd-dlr", "Auto-PGD on the difference-of-logits-ratio loss",
      APGD_PAPER, ADVC_NORM_LINF, apgd_params, NPARAMS(apgd_params) },
    apgd_dlr_defaults, apgd_dlr_resolve, atk_apgd, sizeof(apgd_state),
    apgd_layout
};

const atk_def atk_apgd_t_def = {
    { "apgd-t", "targeted Auto-PGD-DLR against each of the top-k other "
      "classes", APGD_PAPER, ADVC_NORM_LINF, apgd_t_params,
      NPARAMS(apgd_t_params) },
    apgd_dlr_defaults, apgd_dlr_resolve, atk_apgd_t, sizeof(apgd_state),
    apgd_layout
};
