/* attack_internal.h: what the attack files share: the descriptor row each
 * attack file defines (atk_def), the run context, the working memory, the
 * one function that evaluates the attack objective (and its input
 * gradient) on a set of samples, and the per-sample bookkeeping that every
 * attack uses to keep its result.  Nothing outside src/adv sees this.
 *
 * Vocabulary used in every attack file:
 *   objective J  the per-sample quantity the attack MAXIMISES: the chosen
 *                loss summed over the attacked exits (targeted cross-
 *                entropy enters as -CE(target), so that ascending J moves
 *                toward the target).
 *   fooled       the judged exit's prediction is wrong (untargeted) or is
 *                the target (targeted).  The judged exit is the final exit,
 *                or the attacked exit under ADVC_EXITS_ONE; -1 means "never
 *                fooled": the run is a pure loss maximisation (max_loss,
 *                max-average sub-runs).
 *   result       per sample, the first point found that fools the model;
 *                if none does, the point with the highest objective.  Both
 *                are fixed once found, so skipping samples that are already
 *                fooled (early_stop, later restarts) cannot change it.
 */
#ifndef ADVC_ATTACK_INTERNAL_H
#define ADVC_ATTACK_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "advc/attack.h"

/* ---- working memory ------------------------------------------------------ */

/* Carves 64-byte aligned pieces out of one slab: a first pass with
 * base == NULL only measures, the second hands out the pieces. */
typedef struct {
    char *base;
    size_t used;
} atk_carver;

void *atk_carve(atk_carver *cv, size_t bytes);

/* The sizes an attack's working memory depends on. */
typedef struct {
    int n;          /* samples (the batch the memory is for)              */
    size_t d;       /* floats per sample (c*h*w)                          */
    int classes, exits;
} atk_dims;

/* Memory every run has; an attack's own state is `priv` (its atk_def
 * says how big and how to lay it out). */
typedef struct {
    /* The driver's output: objective and fooled flag of x_adv. */
    float *oobj;            /* (n)                                        */
    unsigned char *ofool;   /* (n)                                        */
    /* Used only by atk_eval: */
    float *stage;           /* (n, d) gathered inputs of the active set   */
    float *eloss;           /* (n) one exit's per-sample loss             */
    int *ey, *et, *epred;   /* (n) gathered labels, targets, predictions  */
    float *zref;            /* (exits, n, classes) KL: f(x) at the start  */
    float *zstage;          /* (n, classes) KL: zref rows of the active set */
    /* Used only by the max-average driver (attack_multi.c), NULL unless
     * MAXAVG: */
    float *mcand, *mx;      /* (n, d) one candidate; gathered clean rows  */
    float *mmean, *mbest;   /* (n) candidate's mean loss, best so far     */
    float *mobj;            /* (n) a per-exit run's objectives            */
    unsigned char *mfool;   /* (n) its fooled flags                       */
    int *midx, *mjdx;       /* (n) the robust samples; 0 .. m-1           */
    int *my, *mt, *mid;     /* (n) gathered labels, targets, indices      */
    void *priv;             /* the attack's own state                     */
} atk_ws;

/* One (sub-)run of an attack.  The driver fills it from the config; the
 * max-average driver and APGD-T make modified copies. */
typedef struct {
    advc_graph *g;
    const advc_attack_config *cfg; /* resolved: no default rule left      */
    int n;                  /* samples                                    */
    size_t d;               /* floats per sample (c*h*w)                  */
    int classes, exits;
    const float *x;         /* (n, d) clean inputs                        */
    const int *y;           /* (n) labels                                 */
    advc_attack_loss loss;  /* the loss J is made of                       */
    const int *loss_tgt;    /* (n) targets of a targeted loss, or NULL     */
    const int *succ_tgt;    /* (n) fooled = pred == target; NULL: != y     */
    int exit_lo, exit_hi;   /* attacked exits [exit_lo, exit_hi)           */
    int judge;              /* exit that decides "fooled"; -1: never       */
    bool early_stop;        /* drop fooled samples from the active set     */
    uint64_t seed;          /* this run's seed (sub-runs derive their own) */
    const int *idmap;       /* (n) sample i's index in the caller's batch,
                               when this run works on a gathered subset
                               (random streams follow it); NULL: i        */
    atk_ws *ws;
} atk_ctx;

/* Where a run writes its result: x (n, d), obj (n) = J at x, fooled (n).
 * FGSM and NOISE with one restart do not evaluate their single candidate:
 * obj stays -inf and fooled 0 (nobody reads them then). */
typedef struct {
    float *x;
    float *obj;
    unsigned char *fooled;
} atk_out;

typedef advc_status (*atk_run_fn)(const atk_ctx *c, atk_out *o);

/* One attack: the descriptor row in the file that implements it. */
typedef struct {
    advc_attack_desc pub;   /* name, summary, paper, settings             */
    /* The attack's own defaults, over the common ones (advc_attack_
     * defaults), and its default rules (advc_attack_resolve). */
    void (*defaults)(advc_attack_config *c);
    void (*resolve)(advc_attack_config *c);
    atk_run_fn run;
    /* Its own working memory: priv_size bytes of pointers laid out over
     * the slab by layout (called twice: to measure, then to place). */
    size_t priv_size;
    void (*layout)(atk_carver *cv, const atk_dims *dm, void *priv);
    /* It picks its own targets, the top target_classes other classes
     * (APGD-T, FAB-T): the config's targets must be NULL. */
    bool own_targets;
} atk_def;

/* ---- attack.c: the pieces every attack shares ---------------------------- */

/* Evaluates J at the points pts (rows indexed by sample: pts + i*d) for the
 * m samples idx[0..m): forward in the config's mode, then obj[i] and
 * fooled[i] for each i = idx[j] (either may be NULL).  With want_grad,
 * writes every exit's dJ/dlogits (zeros for exits not attacked), runs an
 * ATTACK backward and returns dJ/dx as (m, d) rows in ACTIVE order (row j
 * is sample idx[j]), valid until the next atk_eval; otherwise returns
 * NULL. */
const float *atk_eval(const atk_ctx *c, const float *pts, const int *idx,
                      int m, float *obj, unsigned char *fooled,
                      bool want_grad);

/* After atk_eval without the gradient on some active set: dJ/dx at the
 * same points for k of its samples, idx[0..k), which were rows rows[0..k)
 * of that evaluation (increasing), with no second forward (the forward is
 * narrowed to them: advc_graph_keep_rows).  Returns (k, d) rows in idx
 * order, valid until the next atk_eval, or NULL if the graph cannot be
 * narrowed (a TRAIN-mode forward): then nothing has changed and the
 * caller evaluates the k points again. */
const float *atk_grad_rows(const atk_ctx *c, const int *rows, const int *idx,
                           int k);

/* The scoring half of atk_eval, for a caller that ran the forward itself
 * (Square's incremental forwards): obj[i] and fooled[i] (either may be
 * NULL) of i = idx[j] from the graph's logits rows j = 0 .. m-1. */
void atk_score(const atk_ctx *c, const int *idx, int m, float *obj,
               unsigned char *fooled);

/* KL runs: f(x) of every exit into ws->zref (one forward in the config's
 * mode); call once at the start of a run whose loss is ADVC_LOSS_KL. */
void atk_kl_reference(const atk_ctx *c);

/* A generator for sample i of a run: one PCG stream per sample (its data
 * set index, first_index + i), keyed by the run's seed and `salt`
 * (restart, purpose), so a sample's random start depends neither on which
 * other samples are in the batch nor on the batch size. */
void atk_rng(const atk_ctx *c, uint64_t salt, int i, advc_rng *r);

/* Samples not yet fooled in o, in increasing order: idx[0..return). */
int atk_unfooled(const atk_ctx *c, const atk_out *o, int *idx);
/* Removes the samples marked in fooled from idx[0..m); returns the new m. */
int atk_drop_fooled(const unsigned char *fooled, int *idx, int m);

/* Result keeping.  atk_out_reset: nothing found yet (obj = -inf, x = the
 * clean x, fooled = 0).  atk_take_fool: sample i is fooled at point p with
 * objective v (call only on the first fooling point).  atk_take_best: at
 * the end of a run, p with objective v replaces the kept point of an
 * unfooled sample if v is higher (or nothing was kept yet: `first`). */
void atk_out_reset(const atk_ctx *c, atk_out *o);
void atk_take_fool(const atk_ctx *c, atk_out *o, int i, const float *p,
                   float v);
void atk_take_best(const atk_ctx *c, atk_out *o, int i, const float *p,
                   float v, bool first);

/* Clamp v to [x - eps, x + eps], then to [lo, hi], as the fused sign step
 * does (src/kernels/scalar/sign_ref.c), so every path agrees. */
static inline float atk_clamp(float v, float x0, float eps, float lo,
                              float hi)
{
    float a = x0 - eps, b = x0 + eps;
    v = v > a ? v : a;
    v = v < b ? v : b;
    v = v > lo ? v : lo;
    return v < hi ? v : hi;
}

/* L-inf random start for one sample: p = clamp(x + eps * u), u ~ U(-1, 1)
 * per pixel. */
void atk_linf_start(const atk_ctx *c, advc_rng *r, int i, float *p);

/* The common rows of the descriptors' parameter tables (attack.c), so a
 * flag shared by several attacks reads the same everywhere; each attack
 * lists the ones it uses, with its own defaults shown. */
#define ATK_ROW_EPS_LINF(def)                                                \
    { "eps", "X", ADVC_PARAM_REAL, offsetof(advc_attack_config, eps), 0, 1, \
      1, def, "L-inf budget on [0, 1] pixels", "0.3 or 8/255", 0, 0, NULL,  \
      NULL }
#define ATK_ROW_STEPS(def, what)                                             \
    { "steps", "K", ADVC_PARAM_INT, offsetof(advc_attack_config, steps), 1, \
      100000, 0, def, what, NULL, 0, 0, NULL, NULL }
#define ATK_ROW_STEP_SIZE(def)                                               \
    { "step-size", "X", ADVC_PARAM_REAL,                                     \
      offsetof(advc_attack_config, step_size), 0, 100, 1, def,               \
      "size of each step", "0.01 or 2/255", 0, 0, NULL, NULL }
#define ATK_ROW_RESTARTS                                                     \
    { "restarts", "R", ADVC_PARAM_INT,                                       \
      offsetof(advc_attack_config, restarts), 1, 10000, 0, "1",              \
      "random restarts; per sample the first that fools is kept, else the " \
      "highest loss", NULL, 0, 0, NULL, NULL }
#define ATK_ROW_START(def)                                                   \
    { "start", "S", ADVC_PARAM_CHOICE,                                       \
      offsetof(advc_attack_config, random_start), 0, 0, 0, def,              \
      "where iterating starts: at x (clean) or uniformly in the ball "       \
      "(random)", "clean|random", 0, 0, NULL, NULL }

#define ATK_ROW_TARGET_CLASSES                                               \
    { "target-classes", "K", ADVC_PARAM_INT,                                 \
      offsetof(advc_attack_config, target_classes), 1, 999, 0, "9",          \
      "how many of the most likely other classes to target, in turn", NULL,  \
      0, 0, NULL, NULL }

/* The descriptors (one per attack file), named by ADVC_ATTACK_TABLE. */
#define ATK_DECLARE(id, file_name) extern const atk_def atk_##file_name##_def;
ADVC_ATTACK_TABLE(ATK_DECLARE)
#undef ATK_DECLARE

/* ranks (n, C): per sample, the classes other than y by decreasing clean
 * logit of the last attacked exit (ties: lower class first); only the
 * first K of each row are filled (attack_apgd.c; APGD-T and FAB-T). */
void atk_target_ranks(const atk_ctx *c, int K, int *ranks);

/* FAB's projection (attack_fab.c, exposed for its test): delta = argmin
 * |delta|_inf subject to <w, t + delta> = b and lo <= t + delta <= hi, or
 * every coordinate at the box corner when b is out of reach; scratch holds
 * atk_fab_project_bytes(d) bytes.  Returns |delta|_inf. */
size_t atk_fab_project_bytes(size_t d);
float atk_fab_project(size_t d, const float *t, const float *w, double b,
                      float lo, float hi, void *scratch, float *delta);

/* Square's side at query `it` (0-based) on h x w images (attack_square.c,
 * exposed for its test). */
int atk_square_side(double p_init, int it, int h, int w);

/* attack_multi.c: the max-average attack (Hu et al., ICLR 2020) over any
 * attack: writes the chosen candidates to x_adv. */
advc_status atk_maxavg(const atk_ctx *c, atk_run_fn run, float *x_adv);

#endif /* ADVC_ATTACK_INTERNAL_H */
