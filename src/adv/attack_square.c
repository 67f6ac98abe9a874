/* attack_square.c: the Square attack, L-inf (Andriushchenko, Croce,
 * Flammarion, Hein, "Square Attack: a query-efficient black-box
 * adversarial attack via random search", ECCV 2020), as AutoAttack runs
 * it.  Forward passes only, so a masked gradient cannot hide a weakness
 * from it.  Per sample, with J the CW margin max_{j!=y} z_j - z_y summed
 * over the attacked exits (the reference minimises z_y - max_{j!=y} z_j):
 *   start   x + eps s, one random sign s per (channel, column): vertical
 *           stripes
 *   query   a square of side h_q at a random place; inside it, per
 *           channel, every pixel goes to x + eps s with a new random sign
 *           s; the candidate replaces the current point if J went up
 * h_q = round(sqrt(p_q h w)) with p_q = p_init halved at queries 10, 50,
 * 200, 500, 1000, 2000, 4000, 6000 and 8000 (AutoAttack keeps this
 * schedule whatever the budget).  A sample stops at its first fooling
 * point.  Every sample draws from its own random stream, so its queries do
 * not depend on which others are still running or on the thread count
 * (the reference draws one square per query for the whole batch).
 * Once the squares are small enough, the forward of a query is
 * incremental on models that allow it (advc_patch, src/nn/forward_patch.c):
 * only what the square reaches is recomputed, with the same bits.
 */
#include "attack_internal.h"

#include <math.h>
#include <string.h>

/* The defaults of the descriptor's rows (bottom of the file), the
 * reference's: the first squares cover 80% of the image; 5000 queries. */
#define SQUARE_P_INIT 0.8
#define SQUARE_QUERIES 5000

/* Query indices (0-based) after which p halves: the reference schedule,
 * written for 10,000 queries. */
static const int square_halvings[] = {10,   50,   200,  500, 1000,
                                      2000, 4000, 6000, 8000};
#define SQUARE_NHALVINGS \
    ((int)(sizeof square_halvings / sizeof square_halvings[0]))

/* Python's round(): to the nearest integer, halves to the even one. */
static double round_half_even(double v)
{
    double f = floor(v), r = v - f;
    if (r > 0.5) return f + 1.0;
    if (r < 0.5) return f;
    return fmod(f, 2.0) == 0.0 ? f : f + 1.0;
}

/* Side of the square at query `it`: round(sqrt(p h w)), in [1, min(h, w)]. */
int atk_square_side(double p_init, int it, int h, int w)
{
    int halvings = 0;
    while (halvings < SQUARE_NHALVINGS && it > square_halvings[halvings])
        halvings++;
    double p = p_init / (double)(1 << halvings);
    int s = (int)round_half_even(sqrt(p * h * w));
    s = s < 1 ? 1 : s;
    int mn = h < w ? h : w;
    return s < mn ? s : mn;
}

/* ---- state -------------------------------------------------------------- */

typedef struct {
    float *best, *cand;   /* (n, d) current point, this query's candidate */
    float *bobj, *cobj;   /* (n) J at them                                */
    unsigned char *hit;   /* (n) the candidate fools the model            */
    int *idx;             /* (n) samples still running                    */
    advc_rng *rng;        /* (n) one stream per sample                    */
    advc_rect *win;       /* (n) the square of running sample j           */
    unsigned char *take;  /* (n) running sample j's candidate is its new
                             current point                              */
    advc_patch *patch;    /* incremental forwards, or NULL: full ones     */
    void *slab;
} square_state;

static advc_status square_alloc(const atk_ctx *c, square_state *s)
{
    size_t n = (size_t)c->n, rows = n * c->d * sizeof(float);
    size_t sizes[] = {rows, rows, n * sizeof(float), n * sizeof(float), n,
                      n * sizeof(int), n * sizeof(advc_rng),
                      n * sizeof(advc_rect), n};
    enum { NPIECES = sizeof sizes / sizeof sizes[0] };
    size_t total = 0;
    for (int k = 0; k < NPIECES; k++) total += (sizes[k] + 63) / 64 * 64;
    char *p = advc_alloc(total);
    if (!p) return ADVC_ERR_NOMEM;
    s->slab = p;
    void **dst[NPIECES] = {(void **)&s->best, (void **)&s->cand,
                           (void **)&s->bobj, (void **)&s->cobj,
                           (void **)&s->hit,  (void **)&s->idx,
                           (void **)&s->rng,  (void **)&s->win,
                           (void **)&s->take};
    for (int k = 0; k < NPIECES; k++) {
        *dst[k] = p;
        p += (sizes[k] + 63) / 64 * 64;
    }
    return ADVC_OK;
}

/* A random sign, +1 or -1, from one bit of r. */
static float random_sign(advc_rng *r)
{
    return (advc_rng_u32(r) >> 31) ? 1.0f : -1.0f;
}

/* Vertical stripes: pixel (ch, row, col) of sample i at x + eps s_(ch,col),
 * in the box. */
static void square_start(const atk_ctx *c, square_state *s, int i,
                         advc_shape sh)
{
    const advc_attack_config *cfg = c->cfg;
    size_t off = (size_t)i * c->d;
    const float *x = c->x + off;
    float *p = s->best + off;
    for (int ch = 0; ch < sh.c; ch++) {
        for (int col = 0; col < sh.w; col++) {
            float e = cfg->eps * random_sign(&s->rng[i]);
            for (int row = 0; row < sh.h; row++) {
                size_t k = ((size_t)ch * sh.h + row) * sh.w + col;
                p[k] = atk_clamp(x[k] + e, x[k], cfg->eps, cfg->lo, cfg->hi);
            }
        }
    }
}

/* dst = src on window r of sample i's rows (every channel): the
 * candidate and the current point differ only there. */
static void copy_window(const atk_ctx *c, advc_shape sh, int i,
                        const advc_rect *r, float *dst, const float *src)
{
    size_t off = (size_t)i * c->d, w = (size_t)(r->x1 - r->x0);
    for (int ch = 0; ch < sh.c; ch++)
        for (int row = r->y0; row < r->y1; row++) {
            size_t k = off + ((size_t)ch * sh.h + row) * sh.w + r->x0;
            memcpy(dst + k, src + k, w * sizeof *dst);
        }
}

/* The candidate of sample i: its current point with one square of side
 * `side` moved, per channel, by 2 eps s toward the other side of the ball
 * (then projected: every pixel ends at x +- eps, or at the box).  The
 * candidate row equals the current point on entry (square_decide keeps
 * it so), so only the square is written; *win is where it is. */
static void square_candidate(const atk_ctx *c, square_state *s, int i,
                             advc_shape sh, int side, advc_rect *win)
{
    const advc_attack_config *cfg = c->cfg;
    size_t off = (size_t)i * c->d;
    const float *x = c->x + off, *b = s->best + off;
    float *p = s->cand + off;
    advc_rng *r = &s->rng[i];
    /* A corner in [0, h - side): the reference never places a square at
     * the last row or column offset (except when side = h). */
    int vh = sh.h > side ? (int)advc_rng_below(r, (uint32_t)(sh.h - side)) : 0;
    int vw = sh.w > side ? (int)advc_rng_below(r, (uint32_t)(sh.w - side)) : 0;
    *win = (advc_rect){ vh, vh + side, vw, vw + side };
    for (int ch = 0; ch < sh.c; ch++) {
        float e = 2.0f * cfg->eps * random_sign(r);
        for (int row = vh; row < vh + side; row++) {
            size_t k0 = ((size_t)ch * sh.h + row) * sh.w;
            for (int col = vw; col < vw + side; col++) {
                size_t k = k0 + col;
                p[k] = atk_clamp(b[k] + e, x[k], cfg->eps, cfg->lo, cfg->hi);
            }
        }
    }
}

/* J and the fooled flags of the running samples' candidates: a full
 * forward, or, once the squares are small enough, an incremental one
 * from their current points (the same logits).  *kept: the incremental
 * state holds the current points (set here when it starts). */
static void square_eval(const atk_ctx *c, square_state *s, int m, int side,
                        bool *kept)
{
    if (!s->patch || side > advc_patch_max_side(s->patch)) {
        atk_eval(c, s->cand, s->idx, m, s->cobj, s->hit, false);
        return;
    }
    if (!*kept) { /* one full forward of the current points to start */
        atk_eval(c, s->best, s->idx, m, NULL, NULL, false);
        advc_patch_keep(s->patch, s->idx, m);
        *kept = true;
    }
    advc_patch_forward(s->patch, s->cand, s->idx, s->win, m);
    atk_score(c, s->idx, m, s->cobj, s->hit);
}

/* The candidates of the running samples: the first that fools is the
 * result; one with a higher J becomes the current point.  Afterwards
 * every candidate row equals its current point again. */
static void square_decide(const atk_ctx *c, atk_out *o, square_state *s,
                          int m, advc_shape sh)
{
    size_t d = c->d;
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        const float *p = s->cand + (size_t)i * d;
        s->take[j] = 0;
        if (s->hit[i] && !o->fooled[i]) {
            atk_take_fool(c, o, i, p, s->cobj[i]);
        } else if (s->cobj[i] > s->bobj[i]) {
            copy_window(c, sh, i, &s->win[j], s->best, s->cand);
            s->bobj[i] = s->cobj[i];
            s->take[j] = 1;
        }
        if (!s->take[j]) copy_window(c, sh, i, &s->win[j], s->cand, s->best);
    }
}

/* One restart on the unfooled samples: the stripes, then `steps` queries.
 * Returns without effect if every sample is fooled already. */
static void square_run(const atk_ctx *c, atk_out *o, square_state *s,
                       int restart)
{
    advc_shape sh = advc_graph_input_shape(c->g);
    size_t d = c->d;
    int m = atk_unfooled(c, o, s->idx);
    if (m == 0) return;
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        atk_rng(c, (uint64_t)restart, i, &s->rng[i]);
        square_start(c, s, i, sh);
        memcpy(s->cand + (size_t)i * d, s->best + (size_t)i * d,
               d * sizeof *s->cand);
    }
    atk_eval(c, s->best, s->idx, m, s->bobj, s->hit, false);
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        if (s->hit[i]) atk_take_fool(c, o, i, s->best + (size_t)i * d,
                                     s->bobj[i]);
    }
    if (c->early_stop) m = atk_drop_fooled(o->fooled, s->idx, m);
    bool kept = false;
    for (int it = 0; it < c->cfg->steps && m > 0; it++) {
        int side = atk_square_side(c->cfg->square.p_init, it, sh.h, sh.w);
        for (int j = 0; j < m; j++)
            square_candidate(c, s, s->idx[j], sh, side, &s->win[j]);
        square_eval(c, s, m, side, &kept);
        square_decide(c, o, s, m, sh);
        if (kept) advc_patch_settle(s->patch, s->take);
        if (c->early_stop) m = atk_drop_fooled(o->fooled, s->idx, m);
    }
    for (int j = 0; j < m; j++) {
        int i = s->idx[j];
        atk_take_best(c, o, i, s->best + (size_t)i * d, s->bobj[i],
                      restart == 0);
    }
}

/* Incremental forwards when the graph allows them (a chain of layers in
 * EVAL mode; advc_patch_new decides), chosen once per attack. */
static advc_status square_patch(const atk_ctx *c, square_state *s)
{
    s->patch = NULL;
    if (c->cfg->mode != ADVC_MODE_EVAL) return ADVC_OK;
    return advc_patch_new(c->g, c->n, &s->patch);
}

static advc_status atk_square(const atk_ctx *c, atk_out *o)
{
    square_state s;
    if (square_alloc(c, &s) != ADVC_OK) return ADVC_ERR_NOMEM;
    if (square_patch(c, &s) != ADVC_OK) {
        advc_free(s.slab);
        return ADVC_ERR_NOMEM;
    }
    atk_out_reset(c, o);
    for (int r = 0; r < c->cfg->restarts; r++) square_run(c, o, &s, r);
    advc_patch_free(s.patch);
    advc_free(s.slab);
    return ADVC_OK;
}

/* ---- the descriptor ------------------------------------------------------ */

#define SQUARE_STR_(v) #v
#define SQUARE_STR(v) SQUARE_STR_(v)

static void square_defaults(advc_attack_config *c)
{
    c->steps = SQUARE_QUERIES;
    c->square.p_init = (float)SQUARE_P_INIT;
}

/* Square maximises the CW margin and starts from vertical stripes. */
static void square_resolve(advc_attack_config *c)
{
    c->loss = ADVC_LOSS_CW;
    c->random_start = 1;
}

static const advc_param square_params[] = {
    ATK_ROW_EPS_LINF("0.3"),
    { "queries", "Q", ADVC_PARAM_INT, offsetof(advc_attack_config, steps), 1,
      1000000, 0, SQUARE_STR(SQUARE_QUERIES), "forward passes per sample "
      "and restart", NULL, 0, 0, NULL, NULL },
    ATK_ROW_RESTARTS,
    { "p-init", "P", ADVC_PARAM_REAL,
      offsetof(advc_attack_config, square.p_init), 0, 1, 1,
      SQUARE_STR(SQUARE_P_INIT), "share of the image the first squares "
      "cover (halved on the reference's schedule)", NULL, 0, 0, NULL,
      NULL },
};

const atk_def atk_square_def = {
    { "square", "black-box random search: +-eps squares, margin loss, no "
      "gradients", "Andriushchenko et al., ECCV 2020", ADVC_NORM_LINF,
      square_params, (int)(sizeof square_params / sizeof *square_params) },
    square_defaults, square_resolve, atk_square, 0, NULL, false
};
