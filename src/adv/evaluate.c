/* evaluate.c: robust accuracy per exit and attack, the per-sample worst
 * case, AutoAttack's cascade, and the gradient-masking checks (see
 * advc/evaluate.h).
 *
 * Batch by batch: clean predictions, then each attack writes x_adv and the
 * model's predictions on it are compared with the labels for every exit.
 * A sample is "worst-case robust" at an exit if that exit is right on the
 * clean input and on every attack's output.  The cascade goes attack by
 * attack instead, each over the samples still robust at the judged exit,
 * regrouped into full batches.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "advc/evaluate.h"
#include "advc/loss.h"

typedef struct {
    int B, classes, exits;
    size_t per;
    int *y, *pred;       /* (B) */
    unsigned char *ok;   /* (exits, B): right so far (worst case) */
    float *xadv;         /* (B, per) */
} eval_bufs;

static advc_status bufs_init(eval_bufs *b, advc_graph *g)
{
    memset(b, 0, sizeof *b);
    b->B = advc_graph_batch(g);
    b->classes = advc_graph_classes(g);
    b->exits = advc_graph_num_exits(g);
    b->per = advc_shape_size(advc_graph_input_shape(g));
    b->y = malloc((size_t)b->B * sizeof *b->y);
    b->pred = malloc((size_t)b->B * sizeof *b->pred);
    b->ok = malloc((size_t)b->B * b->exits);
    b->xadv = advc_alloc((size_t)b->B * b->per * sizeof *b->xadv);
    if (!b->y || !b->pred || !b->ok || !b->xadv)
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    return ADVC_OK;
}

static void bufs_free(eval_bufs *b)
{
    free(b->y), free(b->pred), free(b->ok);
    advc_free(b->xadv);
}

/* Forward x (m rows) in eval mode; per exit, count right answers into
 * correct[e] and AND them into ok (if ok is not NULL). */
static void score(advc_graph *g, eval_bufs *b, const float *x, int m,
                  long *correct, unsigned char *ok)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    for (int e = 0; e < b->exits; e++) {
        advc_argmax_rows(m, b->classes, advc_graph_logits(g, e), b->pred);
        for (int i = 0; i < m; i++) {
            int right = b->pred[i] == b->y[i];
            correct[e] += right;
            if (ok) ok[(size_t)e * b->B + i] &= (unsigned char)right;
        }
    }
}

static advc_status check_data(advc_graph *g, const advc_dataset *d)
{
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != d->c || in.h != d->h || in.w != d->w)
        return advc_set_error(ADVC_ERR_ARG,
                              "the model takes %dx%dx%d images, the data "
                              "are %dx%dx%d", in.c, in.h, in.w, d->c, d->h,
                              d->w);
    return ADVC_OK;
}

advc_status advc_eval_robust(advc_graph *g, const advc_dataset *d, int limit,
                             const advc_attack_config *attacks, int nattacks,
                             advc_robust_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (nattacks < 0 || nattacks > ADVC_EVAL_MAX_ATTACKS)
        return advc_set_error(ADVC_ERR_ARG, "at most %d attacks at once",
                              ADVC_EVAL_MAX_ATTACKS);
    if (advc_graph_num_exits(g) > ADVC_EVAL_MAX_EXITS)
        return advc_set_error(ADVC_ERR_ARG, "at most %d exits",
                              ADVC_EVAL_MAX_EXITS);
    advc_status st = check_data(g, d);
    if (st != ADVC_OK) return st;
    eval_bufs b;
    if ((st = bufs_init(&b, g)) != ADVC_OK) {
        bufs_free(&b);
        return st;
    }
    int n = limit > 0 && limit < d->n ? limit : d->n;
    long clean[ADVC_EVAL_MAX_EXITS] = { 0 }, worst[ADVC_EVAL_MAX_EXITS] = { 0 };
    long (*robust)[ADVC_EVAL_MAX_ATTACKS] =
        calloc(ADVC_EVAL_MAX_EXITS, sizeof *robust);
    if (!robust) {
        bufs_free(&b);
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    }
    for (int lo = 0; lo < n && st == ADVC_OK; lo += b.B) {
        int m = n - lo < b.B ? n - lo : b.B;
        const float *x = d->x + (size_t)lo * b.per;
        for (int i = 0; i < m; i++) b.y[i] = d->y[lo + i];
        memset(b.ok, 1, (size_t)b.B * b.exits);
        score(g, &b, x, m, clean, b.ok);
        for (int a = 0; a < nattacks; a++) {
            /* Each batch gets its own random starts, still fixed by the
             * seed: mix the batch's first row into it (golden-ratio
             * constant, an odd multiplier that spreads the bits). */
            advc_attack_config cfg = attacks[a];
            cfg.seed = attacks[a].seed ^ ((uint64_t)lo * 0x9E3779B97F4A7C15ULL);
            double t0 = advc_now();
            st = advc_attack_run(g, &cfg, x, b.y, m, b.xadv);
            rep->seconds[a] += advc_now() - t0;
            if (st != ADVC_OK) break;
            long cnt[ADVC_EVAL_MAX_EXITS] = { 0 };
            score(g, &b, b.xadv, m, cnt, b.ok);
            for (int e = 0; e < b.exits; e++) robust[e][a] += cnt[e];
        }
        for (int e = 0; e < b.exits; e++)
            for (int i = 0; i < m; i++) worst[e] += b.ok[(size_t)e * b.B + i];
    }
    if (st == ADVC_OK) {
        rep->n = n;
        rep->exits = b.exits;
        rep->nattacks = nattacks;
        memcpy(rep->attacks, attacks, (size_t)nattacks * sizeof *attacks);
        for (int e = 0; e < b.exits; e++) {
            rep->clean_acc[e] = n ? (float)clean[e] / n : 0;
            rep->worst_acc[e] = n ? (float)worst[e] / n : 0;
            for (int a = 0; a < nattacks; a++)
                rep->robust_acc[e][a] = n ? (float)robust[e][a] / n : 0;
        }
    }
    free(robust);
    bufs_free(&b);
    return st;
}

/* ---- AutoAttack's cascade ------------------------------------------------ */

int advc_autoattack_list(float eps, uint64_t seed, advc_attack_config *list)
{
    static const advc_attack_kind kinds[ADVC_AA_ATTACKS] = {
        ADVC_ATK_APGD_CE, ADVC_ATK_APGD_T, ADVC_ATK_FAB_T, ADVC_ATK_SQUARE};
    /* The kinds' defaults are the reference's standard settings (100
     * steps, 9 target classes, 1 restart, 5000 queries, p_init 0.8; see
     * attack.c, attack_fab.c, attack_square.c). */
    for (int a = 0; a < ADVC_AA_ATTACKS; a++) {
        list[a] = advc_attack_defaults(kinds[a]);
        list[a].eps = eps;
        list[a].seed = seed;
    }
    return ADVC_AA_ATTACKS;
}

/* The cascade's state over the whole evaluated set, and the rows gathered
 * for the next call: each attack sees full batches of the samples still
 * robust (as the reference re-batches them), not what is left of a batch. */
typedef struct {
    unsigned char *ok; /* (exits, n): right so far at each exit      */
    float *xs;         /* (B, per) the gathered inputs               */
    int *ys, *rows;    /* (B) their labels, their indices in the set */
    uint64_t *keys;    /* (B) the same indices, as stream keys       */
} cascade_bufs;

static void cascade_free(cascade_bufs *cb)
{
    advc_free(cb->xs);
    free(cb->ok), free(cb->ys), free(cb->rows), free(cb->keys);
}

static advc_status cascade_init(cascade_bufs *cb, const eval_bufs *b, int n)
{
    cb->ok = malloc((size_t)b->exits * (size_t)n + 1);
    cb->xs = advc_alloc((size_t)b->B * b->per * sizeof *cb->xs);
    cb->ys = malloc((size_t)b->B * sizeof *cb->ys);
    cb->rows = malloc((size_t)b->B * sizeof *cb->rows);
    cb->keys = malloc((size_t)b->B * sizeof *cb->keys);
    if (!cb->ok || !cb->xs || !cb->ys || !cb->rows || !cb->keys)
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    memset(cb->ok, 1, (size_t)b->exits * (size_t)n);
    return ADVC_OK;
}

static int judge_exit(const advc_attack_config *c, int exits)
{
    return c->exits == ADVC_EXITS_ONE ? c->exit : exits - 1;
}

/* Gathers the next up to B samples from *next on that are still right at
 * `judge` (every sample if judge < 0); returns how many. */
static int cascade_gather(const advc_dataset *d, const eval_bufs *b,
                          cascade_bufs *cb, int n, int judge, int *next)
{
    int k = 0;
    for (; *next < n && k < b->B; (*next)++) {
        int i = *next;
        if (judge >= 0 && !cb->ok[(size_t)judge * n + i]) continue;
        memcpy(cb->xs + (size_t)k * b->per, d->x + (size_t)i * b->per,
               b->per * sizeof *cb->xs);
        cb->ys[k] = d->y[i];
        cb->rows[k] = i;
        cb->keys[k] = (uint64_t)i;
        k++;
    }
    return k;
}

/* ANDs each exit's verdict on pts, the points of the k gathered samples,
 * into ok at their rows. */
static void cascade_score(advc_graph *g, eval_bufs *b, cascade_bufs *cb,
                          const float *pts, int k, int n)
{
    advc_graph_forward(g, pts, k, ADVC_MODE_EVAL);
    for (int e = 0; e < b->exits; e++) {
        advc_argmax_rows(k, b->classes, advc_graph_logits(g, e), b->pred);
        for (int j = 0; j < k; j++)
            cb->ok[(size_t)e * n + cb->rows[j]] &=
                (unsigned char)(b->pred[j] == cb->ys[j]);
    }
}

/* One attack of the cascade on every sample still robust at `judge`, in
 * full batches. */
static advc_status cascade_attack(advc_graph *g, const advc_dataset *d,
                                  eval_bufs *b, cascade_bufs *cb, int n,
                                  int judge, const advc_attack_config *atk,
                                  double *secs)
{
    advc_attack_config cfg = *atk;
    cfg.sample_keys = cb->keys;
    int next = 0, k;
    while ((k = cascade_gather(d, b, cb, n, judge, &next)) > 0) {
        double t0 = advc_now();
        advc_status st = advc_attack_run(g, &cfg, cb->xs, cb->ys, k,
                                         b->xadv);
        *secs += advc_now() - t0;
        if (st != ADVC_OK) return st;
        cascade_score(g, b, cb, b->xadv, k, n);
    }
    return ADVC_OK;
}

/* Share of the n samples right at exit e so far. */
static float cascade_share(const cascade_bufs *cb, int e, int n)
{
    long right = 0;
    for (int i = 0; i < n; i++) right += cb->ok[(size_t)e * n + i];
    return n ? (float)right / (float)n : 0.0f;
}

static advc_status check_cascade(advc_graph *g, const advc_attack_config *a,
                                 int nattacks)
{
    if (nattacks < 1 || nattacks > ADVC_EVAL_MAX_ATTACKS)
        return advc_set_error(ADVC_ERR_ARG, "a cascade takes 1 to %d "
                              "attacks (got %d)", ADVC_EVAL_MAX_ATTACKS,
                              nattacks);
    if (advc_graph_num_exits(g) > ADVC_EVAL_MAX_EXITS)
        return advc_set_error(ADVC_ERR_ARG, "at most %d exits",
                              ADVC_EVAL_MAX_EXITS);
    for (int i = 1; i < nattacks; i++)
        if (a[i].exits != a[0].exits ||
            (a[0].exits == ADVC_EXITS_ONE && a[i].exit != a[0].exit))
            return advc_set_error(ADVC_ERR_ARG, "the attacks of a cascade "
                                  "must share one exit mode");
    return ADVC_OK;
}

advc_status advc_eval_cascade(advc_graph *g, const advc_dataset *d,
                              int limit, const advc_attack_config *attacks,
                              int nattacks, advc_robust_report *rep)
{
    memset(rep, 0, sizeof *rep);
    advc_status st = check_cascade(g, attacks, nattacks);
    if (st == ADVC_OK) st = check_data(g, d);
    if (st != ADVC_OK) return st;
    int n = limit > 0 && limit < d->n ? limit : d->n;
    eval_bufs b;
    cascade_bufs cb = {NULL, NULL, NULL, NULL, NULL};
    if ((st = bufs_init(&b, g)) != ADVC_OK ||
        (st = cascade_init(&cb, &b, n)) != ADVC_OK) {
        bufs_free(&b);
        cascade_free(&cb);
        return st;
    }
    int judge = judge_exit(&attacks[0], b.exits), next = 0, k;
    while ((k = cascade_gather(d, &b, &cb, n, -1, &next)) > 0)
        cascade_score(g, &b, &cb, cb.xs, k, n); /* clean */
    for (int e = 0; e < b.exits; e++)
        rep->clean_acc[e] = cascade_share(&cb, e, n);
    for (int a = 0; a < nattacks && st == ADVC_OK; a++) {
        st = cascade_attack(g, d, &b, &cb, n, judge, &attacks[a],
                            &rep->seconds[a]);
        for (int e = 0; e < b.exits; e++)
            rep->robust_acc[e][a] = cascade_share(&cb, e, n);
    }
    if (st == ADVC_OK) {
        rep->n = n;
        rep->exits = b.exits;
        rep->nattacks = nattacks;
        rep->cascade = true;
        rep->judge = judge;
        memcpy(rep->attacks, attacks, (size_t)nattacks * sizeof *attacks);
        for (int e = 0; e < b.exits; e++)
            rep->worst_acc[e] = rep->robust_acc[e][nattacks - 1];
    } else {
        memset(rep, 0, sizeof *rep);
    }
    cascade_free(&cb);
    bufs_free(&b);
    return st;
}

/* Share of samples in x (m rows) whose cross-entropy input gradient (sum
 * over exits) is exactly zero everywhere: a sign of masked gradients. */
static int count_zero_grads(advc_graph *g, eval_bufs *b, const float *x,
                            int m)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    for (int e = 0; e < b->exits; e++) {
        float *dz = advc_graph_dlogits(g, e);
        memset(dz, 0, (size_t)m * b->classes * sizeof *dz);
        advc_loss_xent(m, b->classes, advc_graph_logits(g, e), b->y, NULL,
                       dz, 1.0f);
    }
    advc_graph_backward(g, ADVC_PASS_ATTACK);
    const float *gx = advc_graph_input_grad(g);
    int zeros = 0;
    for (int i = 0; i < m; i++) {
        int all_zero = 1;
        for (size_t j = 0; j < b->per && all_zero; j++)
            all_zero = gx[(size_t)i * b->per + j] == 0.0f;
        zeros += all_zero;
    }
    return zeros;
}

/* Tolerances of the checks: a few points of slack so sampling noise on a
 * few hundred images does not raise false alarms. */
#define LARGE_EPS_MAX_ACC 0.05f  /* accuracy at a huge budget           */
#define ORDER_SLACK 0.01f        /* PGD vs FGSM, noise vs PGD            */
#define ZERO_GRAD_MAX 0.05f      /* share of all-zero input gradients   */

advc_status advc_masking_checks(advc_graph *g, const advc_dataset *d,
                                int limit, float eps, int steps,
                                float large_eps, uint64_t seed,
                                advc_masking_report *rep)
{
    memset(rep, 0, sizeof *rep);
    advc_status st = check_data(g, d);
    if (st != ADVC_OK) return st;
    advc_attack_config cf[4];
    cf[0] = advc_attack_defaults(ADVC_ATK_FGSM);
    cf[1] = advc_attack_defaults(ADVC_ATK_PGD);
    cf[2] = advc_attack_defaults(ADVC_ATK_NOISE);
    cf[3] = advc_attack_defaults(ADVC_ATK_PGD);
    for (int i = 0; i < 4; i++) {
        cf[i].eps = eps;
        cf[i].seed = seed;
    }
    cf[1].steps = cf[3].steps = steps;
    cf[1].step_size = 2.5f * eps / (float)steps; /* Madry et al.'s rule */
    cf[3].eps = large_eps;
    cf[3].step_size = 2.5f * large_eps / (float)steps;
    advc_robust_report rr;
    if ((st = advc_eval_robust(g, d, limit, cf, 4, &rr)) != ADVC_OK)
        return st;
    int fin = rr.exits - 1;
    rep->n = rr.n;
    rep->eps = eps;
    rep->large_eps = large_eps;
    rep->acc_clean = rr.clean_acc[fin];
    rep->acc_fgsm = rr.robust_acc[fin][0];
    rep->acc_pgd = rr.robust_acc[fin][1];
    rep->acc_noise = rr.robust_acc[fin][2];
    rep->acc_large_eps = rr.robust_acc[fin][3];

    eval_bufs b;
    if ((st = bufs_init(&b, g)) != ADVC_OK) {
        bufs_free(&b);
        return st;
    }
    int zeros = 0;
    for (int lo = 0; lo < rr.n; lo += b.B) {
        int m = rr.n - lo < b.B ? rr.n - lo : b.B;
        for (int i = 0; i < m; i++) b.y[i] = d->y[lo + i];
        zeros += count_zero_grads(g, &b, d->x + (size_t)lo * b.per, m);
    }
    bufs_free(&b);
    rep->zero_grad_share = rr.n ? (float)zeros / rr.n : 0;
    rep->large_eps_ok = rep->acc_large_eps <= LARGE_EPS_MAX_ACC;
    rep->pgd_vs_fgsm_ok = rep->acc_pgd <= rep->acc_fgsm + ORDER_SLACK;
    rep->fgsm_vs_clean_ok = rep->acc_fgsm <= rep->acc_clean + ORDER_SLACK;
    rep->noise_ok = rep->acc_noise + ORDER_SLACK >= rep->acc_pgd;
    rep->zero_grad_ok = rep->zero_grad_share <= ZERO_GRAD_MAX;
    return ADVC_OK;
}
