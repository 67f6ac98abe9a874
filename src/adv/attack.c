/* attack.c: the attack driver behind advc/attack.h: defaults and names,
 * argument checks, the working memory, and the pieces every attack shares:
 * the objective/gradient evaluation (forward in EVAL mode, loss.h losses
 * on the logits, an ATTACK backward to dJ/dx), per-sample random streams
 * and result keeping.  The attacks themselves are in attack_pgd.c (FGSM,
 * PGD L-inf/L2, CW, noise), attack_apgd.c, attack_fab.c, attack_square.c
 * and attack_multi.c.
 */
#include "attack_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "advc/loss.h"

/* ---- defaults and names ------------------------------------------------- */

static const char *const attack_names[ADVC_ATK_COUNT] = {
    [ADVC_ATK_FGSM] = "fgsm",       [ADVC_ATK_PGD] = "pgd",
    [ADVC_ATK_PGD_L2] = "pgd-l2",   [ADVC_ATK_CW] = "cw",
    [ADVC_ATK_APGD_CE] = "apgd-ce", [ADVC_ATK_APGD_DLR] = "apgd-dlr",
    [ADVC_ATK_APGD_T] = "apgd-t",   [ADVC_ATK_NOISE] = "noise",
    [ADVC_ATK_FAB_T] = "fab-t",     [ADVC_ATK_SQUARE] = "square",
};

/* Defaults.  Common: eps 0.3 (MNIST, Madry et al.), pixels in [0, 1], one
 * restart, cross-entropy, seed 0, the sum over exits, early_stop on (it
 * never changes a result, only skips work), max_loss off (the result is
 * the first point that fools, else the highest-loss point).  step_size 0
 * always means "the attack's own rule":
 *   fgsm      1 step of eps; with random_start (FGSM-RS, Wong et al. 2020)
 *             a step of 1.25 eps from x + U(-eps, eps).
 *   pgd, cw   40 steps of 0.01 with a random start (Madry et al.'s MNIST
 *             attack); step_size 0: 2.5 eps / steps.  cw is PGD on the CW
 *             margin max_{j!=y} z_j - z_y.
 *   pgd-l2    eps 2.0 (an L2 budget; 0.3 would be tiny on 784 pixels),
 *             40 steps of 2.5 eps / steps along g / ||g||_2, random start
 *             uniform in the L2 ball.
 *   apgd-*    100 steps, step size from the schedule (step_size unused),
 *             random start always; apgd-t targets the 9 classes with the
 *             highest clean logits after the true one.
 *   noise     one uniform draw in the L-inf ball per restart.
 *   fab-t     100 steps against each of the 9 classes with the highest
 *             clean logits after the true one, no random start on the
 *             first restart; alpha_max, eta, beta in attack_fab.c.
 *   square    5000 queries (steps), p_init in attack_square.c.
 */
advc_attack_config advc_attack_defaults(advc_attack_kind kind)
{
    advc_attack_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.eps = 0.3f;
    c.steps = 40;
    c.step_size = 0.01f;
    c.restarts = 1;
    c.random_start = true;
    c.loss = ADVC_LOSS_XENT;
    c.targets = NULL;
    c.target_classes = 9;
    c.seed = 0;
    c.exits = ADVC_EXITS_SUM;
    c.exit = 0;
    c.lo = 0.0f;
    c.hi = 1.0f;
    c.early_stop = true;
    c.max_loss = false;
    atk_fab_defaults(&c);
    atk_square_defaults(&c);
    switch (kind) {
    case ADVC_ATK_FGSM:
        c.steps = 1;
        c.step_size = 0.0f;
        c.random_start = false;
        break;
    case ADVC_ATK_PGD_L2:
        c.eps = 2.0f;
        c.step_size = 0.0f;
        break;
    case ADVC_ATK_CW:
        c.loss = ADVC_LOSS_CW;
        break;
    case ADVC_ATK_APGD_CE:
    case ADVC_ATK_APGD_DLR:
    case ADVC_ATK_APGD_T:
        c.steps = 100;
        c.step_size = 0.0f;
        c.loss = kind == ADVC_ATK_APGD_CE ? ADVC_LOSS_XENT : ADVC_LOSS_DLR;
        break;
    case ADVC_ATK_NOISE:
        c.steps = 1;
        c.step_size = 0.0f;
        break;
    case ADVC_ATK_FAB_T:
        c.steps = 100;
        c.step_size = 0.0f;
        c.random_start = false;
        c.loss = ADVC_LOSS_CW;
        break;
    case ADVC_ATK_SQUARE:
        c.steps = 5000;
        c.step_size = 0.0f;
        c.loss = ADVC_LOSS_CW;
        break;
    default:
        break;
    }
    return c;
}

const char *advc_attack_name(advc_attack_kind k)
{
    if ((int)k < 0 || k >= ADVC_ATK_COUNT) return "unknown";
    return attack_names[k];
}

/* ASCII case-insensitive equality, so "PGD" and "APGD-CE" also parse. */
static bool same_name(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char ca = *a >= 'A' && *a <= 'Z' ? (char)(*a - 'A' + 'a') : *a;
        if (ca != *b) return false;
    }
    return *a == *b;
}

advc_attack_kind advc_attack_parse(const char *s)
{
    if (!s) return ADVC_ATK_COUNT;
    for (int k = 0; k < ADVC_ATK_COUNT; k++)
        if (same_name(s, attack_names[k])) return (advc_attack_kind)k;
    return ADVC_ATK_COUNT;
}

/* ---- shared pieces ------------------------------------------------------ */

void atk_rng(const atk_ctx *c, uint64_t salt, int i, advc_rng *r)
{
    const uint64_t *keys = c->cfg->sample_keys;
    advc_rng_seed(r, advc_mix64(c->seed, salt), keys ? keys[i] : (uint64_t)i);
}

void atk_linf_start(const atk_ctx *c, advc_rng *r, int i, float *p)
{
    const float *x = c->x + (size_t)i * c->d;
    float eps = c->cfg->eps;
    for (size_t k = 0; k < c->d; k++) {
        float u = 2.0f * advc_rng_uniform(r) - 1.0f; /* [-1, 1) */
        p[k] = atk_clamp(x[k] + eps * u, x[k], eps, c->cfg->lo, c->cfg->hi);
    }
}

int atk_unfooled(const atk_ctx *c, const atk_out *o, int *idx)
{
    int m = 0;
    for (int i = 0; i < c->n; i++)
        if (!o->fooled[i]) idx[m++] = i;
    return m;
}

int atk_drop_fooled(const unsigned char *fooled, int *idx, int m)
{
    int k = 0;
    for (int j = 0; j < m; j++)
        if (!fooled[idx[j]]) idx[k++] = idx[j];
    return k;
}

void atk_out_reset(const atk_ctx *c, atk_out *o)
{
    memcpy(o->x, c->x, (size_t)c->n * c->d * sizeof *o->x);
    for (int i = 0; i < c->n; i++) {
        o->obj[i] = -INFINITY;
        o->fooled[i] = 0;
    }
}

void atk_take_fool(const atk_ctx *c, atk_out *o, int i, const float *p,
                   float v)
{
    memcpy(o->x + (size_t)i * c->d, p, c->d * sizeof *p);
    o->obj[i] = v;
    o->fooled[i] = 1;
}

void atk_take_best(const atk_ctx *c, atk_out *o, int i, const float *p,
                   float v, bool first)
{
    if (o->fooled[i] || !(first || v > o->obj[i])) return;
    memcpy(o->x + (size_t)i * c->d, p, c->d * sizeof *p);
    o->obj[i] = v;
}

/* One exit's loss on the m gathered samples: eloss (if obj is wanted) and,
 * with dz, dJ/dz added to it at scale +-1.  Returns the sign s with
 * J = s * eloss (only targeted cross-entropy is descended: J = -CE). */
static float exit_loss(const atk_ctx *c, int m, const float *z, float *dz,
                       bool want_obj)
{
    atk_ws *w = c->ws;
    const int *t = c->loss_tgt ? w->et : NULL;
    float *l = want_obj ? w->eloss : NULL;
    int C = c->classes;
    switch (c->loss) {
    case ADVC_LOSS_CW:
        advc_loss_cw(m, C, z, w->ey, t, l, dz, 1.0f);
        return 1.0f;
    case ADVC_LOSS_DLR:
        advc_loss_dlr(m, C, z, w->ey, t, l, dz, 1.0f);
        return 1.0f;
    case ADVC_LOSS_LOGIT_DIFF: /* FAB-T: targeted only */
        advc_loss_logit_diff(m, C, z, w->ey, t, l, dz, 1.0f);
        return 1.0f;
    case ADVC_LOSS_XENT:
    default:
        if (t) {
            advc_loss_xent(m, C, z, t, l, dz, -1.0f);
            return -1.0f;
        }
        advc_loss_xent(m, C, z, w->ey, l, dz, 1.0f);
        return 1.0f;
    }
}

const float *atk_eval(const atk_ctx *c, const float *pts, const int *idx,
                      int m, float *obj, unsigned char *fooled,
                      bool want_grad)
{
    atk_ws *w = c->ws;
    size_t d = c->d;
    int C = c->classes;

    /* Gather the active rows unless they are all of them, in order. */
    bool ident = m == c->n;
    for (int j = 0; ident && j < m; j++) ident = idx[j] == j;
    const float *in = pts;
    if (!ident) {
        for (int j = 0; j < m; j++)
            memcpy(w->stage + (size_t)j * d, pts + (size_t)idx[j] * d,
                   d * sizeof *pts);
        in = w->stage;
    }
    for (int j = 0; j < m; j++) {
        w->ey[j] = c->y[idx[j]];
        if (c->loss_tgt) w->et[j] = c->loss_tgt[idx[j]];
    }
    advc_graph_forward(c->g, in, m, ADVC_MODE_EVAL);

    if (obj)
        for (int j = 0; j < m; j++) obj[idx[j]] = 0.0f;
    for (int e = 0; e < c->exits; e++) {
        bool attacked = e >= c->exit_lo && e < c->exit_hi;
        float *dz = want_grad ? advc_graph_dlogits(c->g, e) : NULL;
        if (dz) memset(dz, 0, (size_t)m * (size_t)C * sizeof *dz);
        if (!attacked || (!dz && !obj)) continue;
        float s = exit_loss(c, m, advc_graph_logits(c->g, e), dz, obj != NULL);
        if (obj)
            for (int j = 0; j < m; j++) obj[idx[j]] += s * w->eloss[j];
    }

    if (fooled) {
        if (c->judge < 0) {
            for (int j = 0; j < m; j++) fooled[idx[j]] = 0;
        } else {
            advc_argmax_rows(m, C, advc_graph_logits(c->g, c->judge),
                             w->epred);
            for (int j = 0; j < m; j++) {
                int i = idx[j];
                fooled[i] = c->succ_tgt ? w->epred[j] == c->succ_tgt[i]
                                        : w->epred[j] != c->y[i];
            }
        }
    }
    if (!want_grad) return NULL;
    advc_graph_backward(c->g, ADVC_PASS_ATTACK);
    return advc_graph_input_grad(c->g);
}

/* ---- argument checks ---------------------------------------------------- */

#define BAD(...) advc_set_error(ADVC_ERR_ARG, __VA_ARGS__)

static advc_attack_loss effective_loss(const advc_attack_config *cfg)
{
    switch (cfg->kind) {
    case ADVC_ATK_CW: return ADVC_LOSS_CW;
    case ADVC_ATK_APGD_CE: return ADVC_LOSS_XENT;
    case ADVC_ATK_APGD_DLR:
    case ADVC_ATK_APGD_T: return ADVC_LOSS_DLR;
    /* Square's margin; FAB-T's untargeted stand-in (its runs use the logit
     * difference to each target, attack_fab.c). */
    case ADVC_ATK_FAB_T:
    case ADVC_ATK_SQUARE: return ADVC_LOSS_CW;
    default: return cfg->loss;
    }
}

static bool overlaps(const float *a, const float *b, size_t count)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    uintptr_t len = (uintptr_t)(count * sizeof(float));
    return pa < pb + len && pb < pa + len;
}

static advc_status check_args(advc_graph *g, const advc_attack_config *cfg,
                              const float *x, const int *y, int n,
                              const float *x_adv)
{
    if (!g || !cfg) return BAD("advc_attack_run: graph or config is NULL");
    if ((int)cfg->kind < 0 || cfg->kind >= ADVC_ATK_COUNT)
        return BAD("advc_attack_run: unknown attack kind %d", (int)cfg->kind);
    const char *nm = advc_attack_name(cfg->kind);
    int batch = advc_graph_batch(g);
    if (batch <= 0)
        return advc_set_error(ADVC_ERR_STATE,
                              "attack %s: the graph is not compiled", nm);
    if (n < 0 || n > batch)
        return BAD("attack %s: n = %d samples, but the graph is compiled "
                   "for batches of %d", nm, n, batch);
    if (n > 0 && (!x || !y || !x_adv))
        return BAD("attack %s: x, y or x_adv is NULL", nm);
    if (!(cfg->eps >= 0.0f) || !isfinite(cfg->eps))
        return BAD("attack %s: eps = %g (must be finite and >= 0)", nm,
                   (double)cfg->eps);
    if (cfg->steps < 1)
        return BAD("attack %s: steps = %d (must be >= 1)", nm, cfg->steps);
    if (cfg->restarts < 1)
        return BAD("attack %s: restarts = %d (must be >= 1)", nm,
                   cfg->restarts);
    if (!(cfg->step_size >= 0.0f) || !isfinite(cfg->step_size))
        return BAD("attack %s: step_size = %g (must be finite and >= 0; "
                   "0 = the attack's default)", nm, (double)cfg->step_size);
    if (!isfinite(cfg->lo) || !isfinite(cfg->hi) || !(cfg->lo < cfg->hi))
        return BAD("attack %s: pixel range [%g, %g] is empty or not finite",
                   nm, (double)cfg->lo, (double)cfg->hi);
    if ((int)cfg->loss < ADVC_LOSS_XENT || cfg->loss > ADVC_LOSS_DLR)
        return BAD("attack %s: unknown loss %d", nm, (int)cfg->loss);

    int C = advc_graph_classes(g), E = advc_graph_num_exits(g);
    advc_attack_loss loss = effective_loss(cfg);
    bool targeted = cfg->targets != NULL || cfg->kind == ADVC_ATK_APGD_T;
    if (C < 2) return BAD("attack %s: the model has %d class(es)", nm, C);
    if (loss == ADVC_LOSS_DLR && C < (targeted ? 4 : 3))
        return BAD("attack %s: the %sDLR loss needs >= %d classes (model "
                   "has %d)", nm, targeted ? "targeted " : "",
                   targeted ? 4 : 3, C);
    if (cfg->kind == ADVC_ATK_APGD_T || cfg->kind == ADVC_ATK_FAB_T) {
        if (cfg->targets)
            return BAD("attack %s picks its own targets (the top "
                       "target_classes other classes): targets must be "
                       "NULL; use apgd-dlr with targets for chosen ones", nm);
        if (cfg->target_classes < 1 || cfg->target_classes >= C)
            return BAD("attack %s: target_classes = %d (must be in "
                       "[1, %d]: the classes other than the true one)", nm,
                       cfg->target_classes, C - 1);
    }
    if (cfg->kind == ADVC_ATK_FAB_T) {
        const advc_fab_params *f = &cfg->fab;
        if (!(f->alpha_max >= 0.0f && f->alpha_max <= 1.0f) ||
            !(f->eta >= 1.0f && f->eta <= 10.0f) ||
            !(f->beta > 0.0f && f->beta <= 1.0f))
            return BAD("attack fab-t: alpha_max %g, eta %g, beta %g (need "
                       "alpha_max in [0, 1], eta in [1, 10], beta in (0, 1])",
                       (double)f->alpha_max, (double)f->eta,
                       (double)f->beta);
    }
    if (cfg->kind == ADVC_ATK_SQUARE &&
        !(cfg->square.p_init > 0.0f && cfg->square.p_init <= 1.0f))
        return BAD("attack square: p_init = %g (must be in (0, 1])",
                   (double)cfg->square.p_init);
    if ((int)cfg->exits < ADVC_EXITS_SUM || cfg->exits > ADVC_EXITS_MAXAVG)
        return BAD("attack %s: unknown exit mode %d", nm, (int)cfg->exits);
    if (cfg->exits == ADVC_EXITS_ONE && (cfg->exit < 0 || cfg->exit >= E))
        return BAD("attack %s: exit = %d, but the model has %d exit(s)", nm,
                   cfg->exit, E);

    size_t d = advc_shape_size(advc_graph_input_shape(g));
    size_t total = (size_t)n * d;
    if (n > 0 && overlaps(x, x_adv, total))
        return BAD("attack %s: x_adv overlaps x (they must be distinct "
                   "buffers)", nm);
    for (size_t k = 0; k < total; k++) {
        if (!(x[k] >= cfg->lo && x[k] <= cfg->hi))
            return BAD("attack %s: x[%zu] (sample %zu) = %g is outside the "
                       "pixel range [%g, %g]", nm, k, k / d, (double)x[k],
                       (double)cfg->lo, (double)cfg->hi);
    }
    for (int i = 0; i < n; i++) {
        if (y[i] < 0 || y[i] >= C)
            return BAD("attack %s: y[%d] = %d is not a class in [0, %d)", nm,
                       i, y[i], C);
        if (!cfg->targets) continue;
        int t = cfg->targets[i];
        if (t < 0 || t >= C)
            return BAD("attack %s: targets[%d] = %d is not a class in "
                       "[0, %d)", nm, i, t, C);
        if (t == y[i])
            return BAD("attack %s: targets[%d] = %d is the true label", nm, i,
                       t);
    }
    return ADVC_OK;
}

/* ---- working memory ----------------------------------------------------- */

/* Carves 64-byte aligned pieces out of one slab: a first pass with
 * base == NULL only measures. */
typedef struct {
    char *base;
    size_t used;
} carver;

static void *carve(carver *cv, size_t bytes)
{
    size_t off = cv->used;
    cv->used += (bytes + 63) / 64 * 64;
    return cv->base ? cv->base + off : NULL;
}

/* How many of the ATK_ROWS row buffers an attack uses (attack_pgd.c:
 * cur and best; attack_apgd.c: five); the others stay NULL. */
static int rows_used(advc_attack_kind k)
{
    switch (k) {
    case ADVC_ATK_FAB_T:
    case ADVC_ATK_SQUARE: return 0; /* they allocate their own */
    case ADVC_ATK_FGSM:
    case ADVC_ATK_NOISE: return 1;
    case ADVC_ATK_APGD_CE:
    case ADVC_ATK_APGD_DLR:
    case ADVC_ATK_APGD_T: return 5;
    default: return 2;
    }
}

static void ws_layout(carver *cv, atk_ws *w, int n, size_t d, int C,
                      advc_attack_kind kind, bool maxavg)
{
    size_t rows = (size_t)n * d * sizeof(float);
    size_t fv = (size_t)n * sizeof(float), iv = (size_t)n * sizeof(int);
    for (int k = 0; k < ATK_ROWS; k++)
        w->row[k] = k < rows_used(kind) ? carve(cv, rows) : NULL;
    for (int k = 0; k < ATK_VECS; k++) w->vec[k] = carve(cv, fv);
    for (int k = 0; k < ATK_IVECS; k++) w->ivec[k] = carve(cv, iv);
    w->flag = carve(cv, (size_t)n);
    w->tmp = carve(cv, d * sizeof(float));
    w->ranks = carve(cv, (size_t)n * (size_t)C * sizeof(int));
    w->oobj = carve(cv, fv);
    w->ofool = carve(cv, (size_t)n);
    w->stage = carve(cv, rows);
    w->eloss = carve(cv, fv);
    w->ey = carve(cv, iv);
    w->et = carve(cv, iv);
    w->epred = carve(cv, iv);
    w->mcand = maxavg ? carve(cv, rows) : NULL;
    w->mmean = carve(cv, fv);
    w->mbest = carve(cv, fv);
    w->midx = carve(cv, iv);
}

static void *ws_alloc(atk_ws *w, int n, size_t d, int C,
                      advc_attack_kind kind, bool maxavg)
{
    carver cv = {NULL, 0};
    ws_layout(&cv, w, n, d, C, kind, maxavg);
    void *slab = advc_alloc(cv.used);
    if (!slab) return NULL;
    cv.base = slab;
    cv.used = 0;
    ws_layout(&cv, w, n, d, C, kind, maxavg);
    for (int i = 0; i < n; i++) w->midx[i] = i;
    return slab;
}

/* ---- the entry point ---------------------------------------------------- */

static atk_run_fn run_fn(advc_attack_kind k)
{
    switch (k) {
    case ADVC_ATK_FGSM: return atk_fgsm;
    case ADVC_ATK_PGD:
    case ADVC_ATK_PGD_L2:
    case ADVC_ATK_CW: return atk_pgd;
    case ADVC_ATK_APGD_CE:
    case ADVC_ATK_APGD_DLR: return atk_apgd;
    case ADVC_ATK_APGD_T: return atk_apgd_t;
    case ADVC_ATK_FAB_T: return atk_fab_t;
    case ADVC_ATK_SQUARE: return atk_square;
    case ADVC_ATK_NOISE:
    default: return atk_noise;
    }
}

advc_status advc_attack_run(advc_graph *g, const advc_attack_config *cfg,
                            const float *x, const int *y, int n,
                            float *x_adv)
{
    advc_status st = check_args(g, cfg, x, y, n, x_adv);
    if (st != ADVC_OK || n == 0) return st;

    int E = advc_graph_num_exits(g);
    bool maxavg = cfg->exits == ADVC_EXITS_MAXAVG && E > 1;
    atk_ws ws;
    atk_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.cfg = cfg;
    c.n = n;
    c.d = advc_shape_size(advc_graph_input_shape(g));
    c.classes = advc_graph_classes(g);
    c.exits = E;
    c.x = x;
    c.y = y;
    c.loss = effective_loss(cfg);
    c.loss_tgt = cfg->targets;
    c.succ_tgt = cfg->targets;
    if (cfg->exits == ADVC_EXITS_ONE) {
        c.exit_lo = cfg->exit;
        c.exit_hi = cfg->exit + 1;
        c.judge = cfg->exit;
    } else {
        c.exit_lo = 0;
        c.exit_hi = E;
        c.judge = E - 1; /* the final exit decides "fooled" */
    }
    if (cfg->max_loss) c.judge = -1; /* nothing counts as fooled */
    c.early_stop = cfg->early_stop;
    c.seed = cfg->seed;
    c.ws = &ws;

    void *slab = ws_alloc(&ws, n, c.d, c.classes, cfg->kind, maxavg);
    if (!slab) return ADVC_ERR_NOMEM;
    atk_run_fn run = run_fn(cfg->kind);
    if (maxavg) {
        st = atk_maxavg(&c, run, x_adv);
    } else {
        atk_out o = {x_adv, ws.oobj, ws.ofool};
        st = run(&c, &o);
    }
    advc_free(slab);
    return st;
}
