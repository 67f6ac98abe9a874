/* attack_internal.h: what the attack files (attack.c, attack_pgd.c,
 * attack_apgd.c, attack_fab.c, attack_square.c, attack_multi.c) share: the run context, the workspace,
 * the one function that evaluates the attack objective (and its input
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

/* Row buffers (n, d) an attack may use for its own iterates. */
#define ATK_ROWS 5
/* Per-sample float and int arrays (n) an attack may use. */
#define ATK_VECS 8
#define ATK_IVECS 4

/* Working memory, allocated once per advc_attack_run call. */
typedef struct {
    float *row[ATK_ROWS];   /* (n, d) each: the attack's own iterates;
                               as many as attack.c's rows_used() says,
                               the rest NULL                              */
    float *vec[ATK_VECS];   /* (n) each                                   */
    int *ivec[ATK_IVECS];   /* (n) each                                   */
    unsigned char *flag;    /* (n) run-local flags                        */
    float *tmp;             /* (d) one row of scratch                     */
    int *ranks;             /* (n, classes) APGD-T: classes by clean logit */
    /* The driver's output: objective and fooled flag of x_adv. */
    float *oobj;            /* (n)                                        */
    unsigned char *ofool;   /* (n)                                        */
    /* Used only by atk_eval: */
    float *stage;           /* (n, d) gathered inputs of the active set   */
    float *eloss;           /* (n) one exit's per-sample loss             */
    int *ey, *et, *epred;   /* (n) gathered labels, targets, predictions  */
    /* Used only by the max-average driver (attack_multi.c): */
    float *mcand;           /* (n, d) one candidate (NULL unless MAXAVG)  */
    float *mmean, *mbest;   /* (n) candidate's mean loss, best so far     */
    int *midx;              /* (n) 0, 1, ..., n-1                         */
} atk_ws;

/* One (sub-)run of an attack.  The driver fills it from the config; the
 * max-average driver and APGD-T make modified copies. */
typedef struct {
    advc_graph *g;
    const advc_attack_config *cfg;
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

/* ---- attack.c ----------------------------------------------------------- */

/* Evaluates J at the points pts (rows indexed by sample: pts + i*d) for the
 * m samples idx[0..m): forward in EVAL mode, then obj[i] and fooled[i] for
 * each i = idx[j] (either may be NULL).  With want_grad, writes every
 * exit's dJ/dlogits (zeros for exits not attacked), runs an ATTACK
 * backward and returns dJ/dx as (m, d) rows in ACTIVE order (row j is
 * sample idx[j]), valid until the next atk_eval; otherwise returns NULL. */
const float *atk_eval(const atk_ctx *c, const float *pts, const int *idx,
                      int m, float *obj, unsigned char *fooled,
                      bool want_grad);

/* A generator for sample i of a run: one PCG stream per sample, keyed by
 * the run's seed and `salt` (restart, purpose) and the sample's key (the
 * config's sample_keys[i], else i), so a sample's random start does not
 * depend on which other samples are in the batch. */
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

/* ---- the attacks (one run each, restarts included) ---------------------- */
advc_status atk_fgsm(const atk_ctx *c, atk_out *o);   /* attack_pgd.c  */
advc_status atk_pgd(const atk_ctx *c, atk_out *o);    /* L-inf and L2  */
advc_status atk_noise(const atk_ctx *c, atk_out *o);  /* attack_pgd.c  */
advc_status atk_apgd(const atk_ctx *c, atk_out *o);   /* attack_apgd.c */
advc_status atk_apgd_t(const atk_ctx *c, atk_out *o); /* attack_apgd.c */
advc_status atk_fab_t(const atk_ctx *c, atk_out *o);  /* attack_fab.c  */
advc_status atk_square(const atk_ctx *c, atk_out *o); /* attack_square.c */

/* Defaults of the per-attack parameter blocks (advc_attack_defaults calls
 * them for every kind, so a config always holds valid values). */
void atk_fab_defaults(advc_attack_config *cfg);    /* attack_fab.c    */
void atk_square_defaults(advc_attack_config *cfg); /* attack_square.c */

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

/* ranks (n, C): per sample, the classes other than y by decreasing clean
 * logit of the last attacked exit (ties: lower class first); only the
 * first K of each row are filled (attack_apgd.c; APGD-T and FAB-T). */
void atk_target_ranks(const atk_ctx *c, int K, int *ranks);

/* attack_multi.c: the max-average attack (Hu et al., ICLR 2020) over any
 * of the above: writes the chosen candidates to x_adv. */
advc_status atk_maxavg(const atk_ctx *c, atk_run_fn run, float *x_adv);

#endif /* ADVC_ATTACK_INTERNAL_H */
