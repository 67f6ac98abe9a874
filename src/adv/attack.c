/* attack.c: the attack driver behind advc/attack.h: the descriptor table,
 * defaults, names and settings lines, argument checks, the working memory,
 * and the pieces every attack shares: the objective/gradient evaluation
 * (forward in the config's mode, loss.h losses on the logits, an ATTACK
 * backward to dJ/dx), per-sample random streams and result keeping.  The
 * attacks themselves are in attack_pgd.c (FGSM, PGD L-inf/L2, CW, noise),
 * attack_apgd.c, attack_fab.c, attack_square.c and attack_multi.c; each
 * file defines its descriptors.
 */
#include "attack_internal.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "advc/loss.h"

/* ---- the table ----------------------------------------------------------- */

static const atk_def *const attack_defs[ADVC_ATK_COUNT] = {
#define ATK_ROW(id, file_name) [ADVC_ATK_##id] = &atk_##file_name##_def,
    ADVC_ATTACK_TABLE(ATK_ROW)
#undef ATK_ROW
};

/* aa is AutoAttack's standard L-inf version (Croce & Hein, ICML 2020):
 * the attacks' own defaults are the reference's settings. */
static const advc_attack_suite suites[] = {
    { "aa-lite", "AutoAttack's gradient attacks without FAB-T and Square",
      3, { ADVC_ATK_APGD_CE, ADVC_ATK_APGD_DLR, ADVC_ATK_APGD_T }, false },
    { "all", "fgsm, pgd, cw and aa-lite", 6,
      { ADVC_ATK_FGSM, ADVC_ATK_PGD, ADVC_ATK_CW, ADVC_ATK_APGD_CE,
        ADVC_ATK_APGD_DLR, ADVC_ATK_APGD_T }, false },
    { "aa", "AutoAttack, each attack on the points the earlier ones left "
      "robust (alone)", 4,
      { ADVC_ATK_APGD_CE, ADVC_ATK_APGD_T, ADVC_ATK_FAB_T, ADVC_ATK_SQUARE },
      true },
    { NULL, NULL, 0, { ADVC_ATK_FGSM }, false },
};

static const atk_def *def_of(advc_attack_kind k)
{
    return (int)k >= 0 && k < ADVC_ATK_COUNT ? attack_defs[k] : NULL;
}

const advc_attack_desc *advc_attack_describe(advc_attack_kind k)
{
    const atk_def *d = def_of(k);
    return d ? &d->pub : NULL;
}

const advc_attack_suite *advc_attack_suites(void) { return suites; }

const advc_attack_suite *advc_attack_suite_find(const char *name)
{
    for (const advc_attack_suite *s = suites; name && s->name; s++)
        if (!strcmp(s->name, name)) return s;
    return NULL;
}

/* Common defaults: eps 0.3 (MNIST, Madry et al.; an L2 attack takes its
 * own), pixels in [0, 1], one restart, a random start, cross-entropy,
 * seed 0, the sum over exits, early_stop on (it never changes a result,
 * only skips work), max_loss off (the result is the first point that
 * fools, else the highest-loss point), EVAL mode.  step_size 0 always
 * means "the attack's own rule" (advc_attack_resolve).  Each attack's
 * defaults and rules are in its descriptor. */
advc_attack_config advc_attack_defaults(advc_attack_kind kind)
{
    advc_attack_config c;
    memset(&c, 0, sizeof c);
    c.kind = kind;
    c.eps = 0.3f;
    c.steps = 1;
    c.step_size = 0.0f;
    c.restarts = 1;
    c.random_start = 1;
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
    c.mode = ADVC_MODE_EVAL;
    const atk_def *d = def_of(kind);
    if (d && d->defaults) d->defaults(&c);
    return c;
}

advc_attack_config advc_attack_resolve(const advc_attack_config *cfg)
{
    advc_attack_config c = *cfg;
    const atk_def *d = def_of(c.kind);
    if (d && d->resolve) d->resolve(&c);
    return c;
}

const char *advc_attack_name(advc_attack_kind k)
{
    const atk_def *d = def_of(k);
    return d ? d->pub.name : "unknown";
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
        if (same_name(s, attack_defs[k]->pub.name))
            return (advc_attack_kind)k;
    return ADVC_ATK_COUNT;
}

void advc_attack_settings(const advc_attack_config *cfg, char *buf,
                          size_t bufsz)
{
    advc_attack_config r = advc_attack_resolve(cfg);
    const atk_def *d = def_of(r.kind);
    size_t k = 0;
    int w = snprintf(buf, bufsz, "%s", d ? d->pub.name : "unknown");
    for (int i = 0; d && w >= 0 && i < d->pub.nparams; i++) {
        k += (size_t)w;
        if (k >= bufsz) return;
        const advc_param *p = &d->pub.params[i];
        char key[48], val[96];
        advc_param_key(p, key, sizeof key);
        advc_param_format(p, &r, val, sizeof val);
        w = snprintf(buf + k, bufsz - k, " %s=%s", key, val);
    }
}

/* ---- shared pieces ------------------------------------------------------ */

void atk_rng(const atk_ctx *c, uint64_t salt, int i, advc_rng *r)
{
    int row = c->idmap ? c->idmap[i] : i;
    const uint64_t *keys = c->cfg->sample_keys;
    uint64_t key = keys ? keys[row] : c->cfg->first_index + (uint64_t)row;
    advc_rng_seed(r, advc_mix64(c->seed, salt), key);
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
 * with dz, dJ/dz added to it at scale +-sc (zr: the KL reference rows of
 * the m samples).  Returns the sign s with
 * J = s * eloss (only targeted cross-entropy is descended: J = -CE). */
static float exit_loss(const atk_ctx *c, const float *zr, int m,
                       const float *z, float *dz, bool want_obj, float sc)
{
    atk_ws *w = c->ws;
    const int *t = c->loss_tgt ? w->et : NULL;
    float *l = want_obj ? w->eloss : NULL;
    int C = c->classes;
    switch (c->loss) {
    case ADVC_LOSS_CW:
        advc_loss_cw(m, C, z, w->ey, t, l, dz, sc);
        return 1.0f;
    case ADVC_LOSS_DLR:
        advc_loss_dlr(m, C, z, w->ey, t, l, dz, sc);
        return 1.0f;
    case ADVC_LOSS_KL:
        advc_loss_kl(m, C, zr, z, l, NULL, dz, sc);
        return 1.0f;
    case ADVC_LOSS_LOGIT_DIFF: /* FAB-T's runs: targeted only */
        advc_loss_logit_diff(m, C, z, w->ey, t, l, dz, sc);
        return 1.0f;
    case ADVC_LOSS_XENT:
    default:
        if (t) {
            advc_loss_xent(m, C, z, t, l, dz, -sc);
            return -1.0f;
        }
        advc_loss_xent(m, C, z, w->ey, l, dz, sc);
        return 1.0f;
    }
}

/* The weight of exit e in J and the scale of its dJ/dz: 1 and 1 for an
 * evaluation; the training loss's w_e and w_e / n when the config asks
 * for them (the same expressions as the training loss, so the gradients
 * are bit for bit the training recipes'). */
static float exit_weight(const atk_ctx *c, int e)
{
    return c->cfg->exit_weights ? advc_graph_exit_weight(c->g, e) : 1.0f;
}

/* True when idx[0 .. m) is 0 .. n-1: the rows are the samples, in
 * order, and need no gathering. */
static bool all_in_order(const atk_ctx *c, const int *idx, int m)
{
    bool ident = m == c->n;
    for (int j = 0; ident && j < m; j++) ident = idx[j] == j;
    return ident;
}

/* J of the graph's logits rows 0 .. m-1 as samples idx[j], with dJ/dz
 * into the dlogits buffers when want_grad. */
static void score_rows(const atk_ctx *c, const int *idx, int m, float *obj,
                       bool want_grad)
{
    atk_ws *w = c->ws;
    int C = c->classes;
    bool ident = all_in_order(c, idx, m);
    for (int j = 0; j < m; j++) {
        w->ey[j] = c->y[idx[j]];
        if (c->loss_tgt) w->et[j] = c->loss_tgt[idx[j]];
    }
    if (obj)
        for (int j = 0; j < m; j++) obj[idx[j]] = 0.0f;
    for (int e = 0; e < c->exits; e++) {
        bool attacked = e >= c->exit_lo && e < c->exit_hi;
        float *dz = want_grad ? advc_graph_dlogits(c->g, e) : NULL;
        if (dz) memset(dz, 0, (size_t)m * (size_t)C * sizeof *dz);
        if (!attacked || (!dz && !obj)) continue;
        float we = exit_weight(c, e);
        float sc = c->cfg->batch_mean ? 1.0f * we / (float)c->n : we;
        const float *zr = NULL;
        if (c->loss == ADVC_LOSS_KL) {
            zr = w->zref + (size_t)e * c->n * C;
            if (!ident) {
                for (int j = 0; j < m; j++)
                    memcpy(w->zstage + (size_t)j * C, zr + (size_t)idx[j] * C,
                           (size_t)C * sizeof *zr);
                zr = w->zstage;
            }
        }
        float f = exit_loss(c, zr, m, advc_graph_logits(c->g, e), dz,
                            obj != NULL, sc) * we;
        if (obj)
            for (int j = 0; j < m; j++) obj[idx[j]] += f * w->eloss[j];
    }
}

/* fooled[idx[j]] from the graph's logits rows 0 .. m-1. */
static void judge_rows(const atk_ctx *c, const int *idx, int m,
                       unsigned char *fooled)
{
    atk_ws *w = c->ws;
    if (c->judge < 0) {
        for (int j = 0; j < m; j++) fooled[idx[j]] = 0;
        return;
    }
    advc_argmax_rows(m, c->classes, advc_graph_logits(c->g, c->judge),
                     w->epred);
    for (int j = 0; j < m; j++) {
        int i = idx[j];
        fooled[i] = c->succ_tgt ? w->epred[j] == c->succ_tgt[i]
                                : w->epred[j] != c->y[i];
    }
}

void atk_score(const atk_ctx *c, const int *idx, int m, float *obj,
               unsigned char *fooled)
{
    score_rows(c, idx, m, obj, false);
    if (fooled) judge_rows(c, idx, m, fooled);
}

const float *atk_eval(const atk_ctx *c, const float *pts, const int *idx,
                      int m, float *obj, unsigned char *fooled,
                      bool want_grad)
{
    atk_ws *w = c->ws;
    size_t d = c->d;

    /* Gather the active rows unless they are all of them, in order. */
    const float *in = pts;
    if (!all_in_order(c, idx, m)) {
        for (int j = 0; j < m; j++)
            memcpy(w->stage + (size_t)j * d, pts + (size_t)idx[j] * d,
                   d * sizeof *pts);
        in = w->stage;
    }
    advc_graph_forward_for(c->g, in, m, c->cfg->mode, ADVC_PASS_ATTACK);
    score_rows(c, idx, m, obj, want_grad);
    if (fooled) judge_rows(c, idx, m, fooled);
    if (!want_grad) return NULL;
    advc_graph_backward(c->g, ADVC_PASS_ATTACK);
    return advc_graph_input_grad(c->g);
}

const float *atk_grad_rows(const atk_ctx *c, const int *rows, const int *idx,
                           int k)
{
    if (!advc_graph_keep_rows(c->g, rows, k)) return NULL;
    score_rows(c, idx, k, NULL, true);
    advc_graph_backward(c->g, ADVC_PASS_ATTACK);
    return advc_graph_input_grad(c->g);
}

void atk_kl_reference(const atk_ctx *c)
{
    size_t per_exit = (size_t)c->n * (size_t)c->classes;
    advc_graph_forward(c->g, c->x, c->n, c->cfg->mode);
    for (int e = 0; e < c->exits; e++)
        memcpy(c->ws->zref + (size_t)e * per_exit, advc_graph_logits(c->g, e),
               per_exit * sizeof *c->ws->zref);
}

/* ---- argument checks ---------------------------------------------------- */

#define BAD(...) advc_set_error(ADVC_ERR_ARG, __VA_ARGS__)

static bool overlaps(const float *a, const float *b, size_t count)
{
    uintptr_t pa = (uintptr_t)a, pb = (uintptr_t)b;
    uintptr_t len = (uintptr_t)(count * sizeof(float));
    return pa < pb + len && pb < pa + len;
}

/* The settings themselves, against the descriptor's rows and the model. */
static advc_status check_config(const advc_graph *g,
                                const advc_attack_config *cfg)
{
    const atk_def *def = def_of(cfg->kind);
    if (!def) return BAD("unknown attack kind %d", (int)cfg->kind);
    const char *nm = def->pub.name;
    /* 0 asks for the default rule; a negative size is a mistake. */
    if (!(cfg->step_size >= 0.0f) || !isfinite(cfg->step_size))
        return BAD("attack %s: step_size = %g (must be finite and >= 0; "
                   "0 = the attack's default)", nm, (double)cfg->step_size);
    advc_attack_config r = advc_attack_resolve(cfg);
    for (int i = 0; i < def->pub.nparams; i++)
        if (advc_param_check(&def->pub.params[i], &r) != ADVC_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", advc_last_error());
            return BAD("attack %s: %s", nm, why);
        }
    size_t d = advc_shape_size(advc_graph_input_shape(g));
    if (def->pub.norm == ADVC_NORM_L2 && r.eps > sqrtf((float)d))
        return BAD("attack %s: --eps %g is more than the largest L2 "
                   "distance between two images, sqrt(%zu) = %g", nm,
                   (double)r.eps, d, sqrt((double)d));
    if (!(r.eps >= 0.0f) || !isfinite(r.eps))
        return BAD("attack %s: eps = %g (must be finite and >= 0)", nm,
                   (double)r.eps);
    if (r.steps < 1 || r.restarts < 1)
        return BAD("attack %s: steps = %d, restarts = %d (must be >= 1)", nm,
                   r.steps, r.restarts);
    if (!(r.step_size >= 0.0f) || !isfinite(r.step_size))
        return BAD("attack %s: step_size = %g (must be finite and >= 0; "
                   "0 = the attack's default)", nm, (double)r.step_size);
    if (!isfinite(r.lo) || !isfinite(r.hi) || !(r.lo < r.hi))
        return BAD("attack %s: pixel range [%g, %g] is empty or not finite",
                   nm, (double)r.lo, (double)r.hi);
    if ((int)r.loss < ADVC_LOSS_XENT || r.loss > ADVC_LOSS_LOGIT_DIFF)
        return BAD("attack %s: unknown loss %d", nm, (int)r.loss);
    if (r.mode != ADVC_MODE_EVAL && r.mode != ADVC_MODE_TRAIN)
        return BAD("attack %s: unknown mode %d", nm, (int)r.mode);

    int C = advc_graph_classes(g), E = advc_graph_num_exits(g);
    bool targeted = r.targets != NULL || def->own_targets;
    if (C < 2) return BAD("attack %s: the model has %d class(es)", nm, C);
    if (r.loss == ADVC_LOSS_DLR && C < (targeted ? 4 : 3))
        return BAD("attack %s: the %sDLR loss needs >= %d classes (model "
                   "has %d)", nm, targeted ? "targeted " : "",
                   targeted ? 4 : 3, C);
    if (r.loss == ADVC_LOSS_KL && (r.targets || r.exits == ADVC_EXITS_MAXAVG))
        return BAD("attack %s: the KL loss takes no targets and no "
                   "max-average", nm);
    if (def->own_targets) {
        if (r.targets)
            return BAD("attack %s picks its own targets (the top "
                       "target_classes other classes): targets must be "
                       "NULL; use apgd-dlr with targets for chosen ones",
                       nm);
        if (r.target_classes < 1 || r.target_classes >= C)
            return BAD("attack %s: --target-classes %d (must be in "
                       "[1, %d]: the classes other than the true one)", nm,
                       r.target_classes, C - 1);
    }
    if ((int)r.exits < ADVC_EXITS_SUM || r.exits > ADVC_EXITS_MAXAVG)
        return BAD("attack %s: unknown exit mode %d", nm, (int)r.exits);
    if (r.exits == ADVC_EXITS_ONE && (r.exit < 0 || r.exit >= E))
        return BAD("attack %s: exit = %d, but the model has %d exit(s)", nm,
                   r.exit, E);
    return ADVC_OK;
}

advc_status advc_attack_check(const advc_graph *g,
                              const advc_attack_config *cfg)
{
    if (!g || !cfg) return BAD("advc_attack_check: graph or config is NULL");
    return check_config(g, cfg);
}

/* The data of one call: sizes, buffers, pixel range, labels, targets. */
static advc_status check_call(const advc_graph *g,
                              const advc_attack_config *cfg, const float *x,
                              const int *y, int n, const float *x_adv)
{
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
    int C = advc_graph_classes(g);
    size_t d = advc_shape_size(advc_graph_input_shape(g));
    size_t total = (size_t)n * d;
    if (n > 0 && overlaps(x, x_adv, total))
        return BAD("attack %s: x_adv overlaps x (they must be distinct "
                   "buffers)", nm);
    if (n > 0 && cfg->start && overlaps(cfg->start, x_adv, total))
        return BAD("attack %s: x_adv overlaps the start points", nm);
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

void *atk_carve(atk_carver *cv, size_t bytes)
{
    size_t off = cv->used;
    cv->used += (bytes + 63) / 64 * 64;
    return cv->base ? cv->base + off : NULL;
}

struct advc_attack_ws {
    const atk_def *def;
    advc_exit_mode exits;  /* MAXAVG needs a candidate buffer            */
    atk_dims dm;
    atk_ws w;
    void *slab;
};

static void ws_layout(atk_carver *cv, advc_attack_ws *s, bool maxavg)
{
    const atk_dims *dm = &s->dm;
    atk_ws *w = &s->w;
    size_t n = (size_t)dm->n, rows = n * dm->d * sizeof(float);
    size_t fv = n * sizeof(float), iv = n * sizeof(int);
    w->oobj = atk_carve(cv, fv);
    w->ofool = atk_carve(cv, n);
    w->stage = atk_carve(cv, rows);
    w->eloss = atk_carve(cv, fv);
    w->ey = atk_carve(cv, iv);
    w->et = atk_carve(cv, iv);
    w->epred = atk_carve(cv, iv);
    w->zref = atk_carve(cv, (size_t)dm->exits * n * (size_t)dm->classes *
                                sizeof(float));
    w->zstage = atk_carve(cv, n * (size_t)dm->classes * sizeof(float));
    w->mcand = maxavg ? atk_carve(cv, rows) : NULL;
    w->mx = maxavg ? atk_carve(cv, rows) : NULL;
    w->mmean = atk_carve(cv, fv);
    w->mbest = atk_carve(cv, fv);
    w->mobj = atk_carve(cv, fv);
    w->mfool = atk_carve(cv, n);
    w->midx = atk_carve(cv, iv);
    w->mjdx = atk_carve(cv, iv);
    w->my = atk_carve(cv, iv);
    w->mt = atk_carve(cv, iv);
    w->mid = atk_carve(cv, iv);
    if (s->def->layout) s->def->layout(cv, dm, w->priv);
}

advc_attack_ws *advc_attack_ws_new(const advc_graph *g,
                                   const advc_attack_config *cfg, int n)
{
    const atk_def *def = def_of(cfg->kind);
    if (!def) {
        BAD("unknown attack kind %d", (int)cfg->kind);
        return NULL;
    }
    advc_attack_ws *s = calloc(1, sizeof *s);
    if (!s) {
        advc_set_error(ADVC_ERR_NOMEM, "out of memory for an attack");
        return NULL;
    }
    s->def = def;
    s->exits = cfg->exits;
    s->dm.n = n > 0 ? n : 1;
    s->dm.d = advc_shape_size(advc_graph_input_shape(g));
    s->dm.classes = advc_graph_classes(g);
    s->dm.exits = advc_graph_num_exits(g);
    bool maxavg = cfg->exits == ADVC_EXITS_MAXAVG && s->dm.exits > 1;
    s->w.priv = def->priv_size ? calloc(1, def->priv_size) : NULL;
    atk_carver cv = { NULL, 0 };
    if (!def->priv_size || s->w.priv) {
        ws_layout(&cv, s, maxavg);
        s->slab = advc_alloc(cv.used);
    }
    if (!s->slab) {
        advc_attack_ws_free(s);
        advc_set_error(ADVC_ERR_NOMEM, "out of memory for attack %s",
                       def->pub.name);
        return NULL;
    }
    cv.base = s->slab;
    cv.used = 0;
    ws_layout(&cv, s, maxavg);
    return s;
}

void advc_attack_ws_free(advc_attack_ws *s)
{
    if (!s) return;
    free(s->w.priv);
    advc_free(s->slab);
    free(s);
}

/* ---- the entry points ---------------------------------------------------- */

advc_status advc_attack_run_ws(advc_graph *g, const advc_attack_config *cfg,
                               advc_attack_ws *ws, const float *x,
                               const int *y, int n, float *x_adv)
{
    if (!g || !cfg || !ws)
        return BAD("advc_attack_run: graph, config or workspace is NULL");
    advc_status st = check_config(g, cfg);
    if (st == ADVC_OK) st = check_call(g, cfg, x, y, n, x_adv);
    if (st != ADVC_OK || n == 0) return st;
    if (def_of(cfg->kind) != ws->def || n > ws->dm.n ||
        (cfg->exits == ADVC_EXITS_MAXAVG) != (ws->exits == ADVC_EXITS_MAXAVG))
        return BAD("attack %s: the workspace was made for another attack, "
                   "exit mode or a smaller batch", ws->def->pub.name);

    advc_attack_config r = advc_attack_resolve(cfg);
    int E = ws->dm.exits;
    atk_ctx c;
    memset(&c, 0, sizeof c);
    c.g = g;
    c.cfg = &r;
    c.n = n;
    c.d = ws->dm.d;
    c.classes = ws->dm.classes;
    c.exits = E;
    c.x = x;
    c.y = y;
    c.loss = r.loss;
    c.loss_tgt = r.targets;
    c.succ_tgt = r.targets;
    if (r.exits == ADVC_EXITS_ONE) {
        c.exit_lo = r.exit;
        c.exit_hi = r.exit + 1;
        c.judge = r.exit;
    } else {
        c.exit_lo = 0;
        c.exit_hi = E;
        c.judge = E - 1; /* the final exit decides "fooled" */
    }
    if (r.max_loss || r.last_iterate) c.judge = -1; /* nothing is fooled */
    c.early_stop = r.early_stop;
    c.seed = r.seed;
    c.ws = &ws->w;
    if (r.loss == ADVC_LOSS_KL) atk_kl_reference(&c);

    /* Attacks never change the parameters (layers may keep copies). */
    advc_graph_hold_params(g, true);
    if (r.exits == ADVC_EXITS_MAXAVG && E > 1) {
        st = atk_maxavg(&c, ws->def->run, x_adv);
    } else {
        atk_out o = { x_adv, ws->w.oobj, ws->w.ofool };
        st = ws->def->run(&c, &o);
    }
    advc_graph_hold_params(g, false);
    return st;
}

advc_status advc_attack_run(advc_graph *g, const advc_attack_config *cfg,
                            const float *x, const int *y, int n,
                            float *x_adv)
{
    if (!g || !cfg) return BAD("advc_attack_run: graph or config is NULL");
    advc_status st = check_config(g, cfg);
    if (st == ADVC_OK) st = check_call(g, cfg, x, y, n, x_adv);
    if (st != ADVC_OK || n == 0) return st;
    advc_attack_ws *ws = advc_attack_ws_new(g, cfg, n);
    if (!ws) return advc_last_status();
    st = advc_attack_run_ws(g, cfg, ws, x, y, n, x_adv);
    advc_attack_ws_free(ws);
    return st;
}
