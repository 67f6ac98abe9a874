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
    const int *y;        /* (B) this batch's labels, in the data set   */
    int *pred;           /* (B) */
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
    b->pred = malloc((size_t)b->B * sizeof *b->pred);
    b->ok = malloc((size_t)b->B * b->exits);
    b->xadv = advc_alloc((size_t)b->B * b->per * sizeof *b->xadv);
    if (!b->pred || !b->ok || !b->xadv)
        return advc_set_error(ADVC_ERR_NOMEM, "out of memory in evaluation");
    return ADVC_OK;
}

static void bufs_free(eval_bufs *b)
{
    free(b->pred), free(b->ok);
    advc_free(b->xadv);
}

/* The softmax probability of row z's largest logit (its prediction). */
static float top_prob(const float *z, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (z[j] > z[best]) best = j;
    double sum = 0;
    for (int j = 0; j < c; j++) sum += exp((double)z[j] - (double)z[best]);
    return (float)(1.0 / sum);
}

/* Forward x (m rows) in eval mode; per exit, count right answers into
 * correct[e], AND them into ok (if not NULL), and add the confidence of
 * each wrong prediction to conf[e] (if not NULL). */
static void score(advc_graph *g, eval_bufs *b, const float *x, int m,
                  long *correct, unsigned char *ok, double *conf)
{
    advc_graph_forward(g, x, m, ADVC_MODE_EVAL);
    for (int e = 0; e < b->exits; e++) {
        const float *z = advc_graph_logits(g, e);
        advc_argmax_rows(m, b->classes, z, b->pred);
        for (int i = 0; i < m; i++) {
            int right = b->pred[i] == b->y[i];
            correct[e] += right;
            if (ok) ok[(size_t)e * b->B + i] &= (unsigned char)right;
            if (conf && !right)
                conf[e] += top_prob(z + (size_t)i * b->classes, b->classes);
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

/* Argmax and its softmax probability for one row of logits. */
static void predict_row(const float *z, int c, int *pred, float *conf)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (z[j] > z[best]) best = j;
    double sum = 0;
    for (int j = 0; j < c; j++) sum += exp((double)z[j] - (double)z[best]);
    *pred = best;
    if (conf) *conf = (float)(1.0 / sum);
}

advc_status advc_predict(advc_graph *g, const float *x, int n, int *pred,
                         float *conf)
{
    int B = advc_graph_batch(g), c = advc_graph_classes(g);
    int last = advc_graph_num_exits(g) - 1;
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    if (B <= 0)
        return advc_set_error(ADVC_ERR_STATE, "predict: the graph is not "
                              "compiled");
    for (int lo = 0; lo < n; lo += B) {
        int k = n - lo < B ? n - lo : B;
        advc_graph_forward(g, x + (size_t)lo * per, k, ADVC_MODE_EVAL);
        const float *z = advc_graph_logits(g, last);
        for (int i = 0; i < k; i++)
            predict_row(z + (size_t)i * c, c, &pred[lo + i],
                        conf ? &conf[lo + i] : NULL);
    }
    return ADVC_OK;
}

advc_status advc_attack_rows(advc_graph *g, const advc_attack_config *cfg,
                             const float *x, const int *y, int n,
                             float *x_adv)
{
    int B = advc_graph_batch(g);
    size_t per = advc_shape_size(advc_graph_input_shape(g));
    advc_attack_config c = *cfg;
    advc_attack_ws *ws = advc_attack_ws_new(g, cfg, B);
    if (!ws) return advc_last_status();
    advc_status st = ADVC_OK;
    for (int lo = 0; lo < n && st == ADVC_OK; lo += B) {
        int m = n - lo < B ? n - lo : B;
        c.first_index = cfg->first_index + (uint64_t)lo;
        if (c.eps == 0.0f)
            memcpy(x_adv + (size_t)lo * per, x + (size_t)lo * per,
                   (size_t)m * per * sizeof *x);
        else
            st = advc_attack_run_ws(g, &c, ws, x + (size_t)lo * per, y + lo,
                                    m, x_adv + (size_t)lo * per);
    }
    advc_attack_ws_free(ws);
    return st;
}

/* The counts of one evaluation, turned into the report's shares. */
typedef struct {
    long clean[ADVC_EVAL_MAX_EXITS], worst[ADVC_EVAL_MAX_EXITS];
    long robust[ADVC_EVAL_MAX_EXITS][ADVC_EVAL_MAX_ATTACKS];
    double conf[ADVC_EVAL_MAX_EXITS][ADVC_EVAL_MAX_ATTACKS];
} eval_counts;

static void fill_report(const eval_counts *k, int n, int exits,
                        const advc_attack_config *attacks, int nattacks,
                        advc_robust_report *rep)
{
    rep->n = n;
    rep->exits = exits;
    rep->nattacks = nattacks;
    memcpy(rep->attacks, attacks, (size_t)nattacks * sizeof *attacks);
    for (int e = 0; e < exits; e++) {
        rep->clean_acc[e] = n ? (float)k->clean[e] / n : 0;
        rep->worst_acc[e] = n ? (float)k->worst[e] / n : 0;
        for (int a = 0; a < nattacks; a++) {
            long fooled = n - k->robust[e][a];
            rep->robust_acc[e][a] = n ? (float)k->robust[e][a] / n : 0;
            rep->fooled_conf[e][a] =
                fooled ? (float)(k->conf[e][a] / fooled) : -1.0f;
        }
    }
}

/* Attack a of one batch: x_adv made on src, then scored on g. */
static advc_status eval_attack(advc_graph *g, advc_graph *src, eval_bufs *b,
                               const float *x, int m, int lo,
                               const advc_attack_config *atk, int a,
                               eval_counts *k, advc_robust_report *rep)
{
    /* Random starts are keyed by each sample's index in d. */
    advc_attack_config cfg = *atk;
    cfg.first_index = atk->first_index + (uint64_t)lo;
    double t0 = advc_now();
    advc_status st = ADVC_OK;
    /* A zero budget (the first point of a sweep) leaves x as is. */
    if (cfg.eps == 0.0f)
        memcpy(b->xadv, x, (size_t)m * b->per * sizeof *x);
    else
        st = advc_attack_run(src, &cfg, x, b->y, m, b->xadv);
    rep->seconds[a] += advc_now() - t0;
    if (st != ADVC_OK) return st;
    long cnt[ADVC_EVAL_MAX_EXITS] = { 0 };
    double conf[ADVC_EVAL_MAX_EXITS] = { 0 };
    score(g, b, b->xadv, m, cnt, b->ok, conf);
    for (int e = 0; e < b->exits; e++) {
        k->robust[e][a] += cnt[e];
        k->conf[e][a] += conf[e];
    }
    return ADVC_OK;
}

advc_status advc_eval_transfer(advc_graph *g, advc_graph *src,
                               const advc_dataset *d, int limit,
                               const advc_attack_config *attacks,
                               int nattacks, advc_robust_report *rep)
{
    memset(rep, 0, sizeof *rep);
    if (nattacks < 0 || nattacks > ADVC_EVAL_MAX_ATTACKS)
        return advc_set_error(ADVC_ERR_ARG, "at most %d attacks at once",
                              ADVC_EVAL_MAX_ATTACKS);
    if (advc_graph_num_exits(g) > ADVC_EVAL_MAX_EXITS)
        return advc_set_error(ADVC_ERR_ARG, "at most %d exits",
                              ADVC_EVAL_MAX_EXITS);
    advc_status st = check_data(g, d);
    if (st == ADVC_OK) st = check_data(src, d);
    if (st == ADVC_OK && advc_graph_batch(src) < advc_graph_batch(g))
        st = advc_set_error(ADVC_ERR_ARG, "the source model is compiled for "
                            "a smaller batch than the evaluated one");
    if (st != ADVC_OK) return st;
    eval_bufs b;
    eval_counts *k = calloc(1, sizeof *k);
    if ((st = bufs_init(&b, g)) != ADVC_OK || !k) {
        bufs_free(&b);
        free(k);
        return st != ADVC_OK ? st : advc_set_error(ADVC_ERR_NOMEM,
                                                   "out of memory");
    }
    int n = limit > 0 && limit < d->n ? limit : d->n;
    for (int lo = 0; lo < n && st == ADVC_OK; lo += b.B) {
        int m = n - lo < b.B ? n - lo : b.B;
        const float *x = d->x + (size_t)lo * b.per;
        b.y = d->y + lo;
        memset(b.ok, 1, (size_t)b.B * b.exits);
        score(g, &b, x, m, k->clean, b.ok, NULL);
        for (int a = 0; a < nattacks && st == ADVC_OK; a++)
            st = eval_attack(g, src, &b, x, m, lo, &attacks[a], a, k, rep);
        for (int e = 0; e < b.exits; e++)
            for (int i = 0; i < m; i++)
                k->worst[e] += b.ok[(size_t)e * b.B + i];
    }
    if (st == ADVC_OK) fill_report(k, n, b.exits, attacks, nattacks, rep);
    free(k);
    bufs_free(&b);
    return st;
}

advc_status advc_eval_robust(advc_graph *g, const advc_dataset *d, int limit,
                             const advc_attack_config *attacks, int nattacks,
                             advc_robust_report *rep)
{
    return advc_eval_transfer(g, g, d, limit, attacks, nattacks, rep);
}

/* ---- AutoAttack's cascade ----------------------------------------------- */

int advc_autoattack_list(float eps, uint64_t seed, advc_attack_config *list)
{
    /* The suite "aa" (attack.c) names the attacks; their defaults are the
     * reference's standard settings (their descriptors). */
    const advc_attack_suite *s = advc_attack_suite_find("aa");
    int n = s && s->nkinds <= ADVC_AA_ATTACKS ? s->nkinds : 0;
    for (int a = 0; a < n; a++) {
        list[a] = advc_attack_defaults(s->kinds[a]);
        list[a].eps = eps;
        list[a].seed = seed;
    }
    return n;
}

/* The cascade's state over the whole evaluated set, and the rows gathered
 * for the next call: each attack sees full batches of the samples still
 * robust (as the reference re-batches them), not what is left of a batch. */
typedef struct {
    unsigned char *ok; /* (exits, n): right so far at each exit      */
    float *xs;         /* (B, per) the gathered inputs               */
    int *ys, *rows;    /* (B) their labels, their indices in the set */
    uint64_t *keys;    /* (B) their indices in the whole data set (the
                          attacks' first_index + row): stream keys   */
    uint64_t first;    /* the attacks' first_index                   */
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
        cb->keys[k] = cb->first + (uint64_t)i;
        k++;
    }
    return k;
}

/* ANDs each exit's verdict on pts, the points of the k gathered samples,
 * into ok at their rows; with conf, counts the samples this call turns
 * (right until now, wrong here) per exit and sums the confidence of their
 * wrong predictions. */
static void cascade_score(advc_graph *g, eval_bufs *b, cascade_bufs *cb,
                          const float *pts, int k, int n, long *turned,
                          double *conf)
{
    advc_graph_forward(g, pts, k, ADVC_MODE_EVAL);
    for (int e = 0; e < b->exits; e++) {
        const float *z = advc_graph_logits(g, e);
        advc_argmax_rows(k, b->classes, z, b->pred);
        for (int j = 0; j < k; j++) {
            unsigned char *ok = &cb->ok[(size_t)e * n + cb->rows[j]];
            if (b->pred[j] == cb->ys[j] || !*ok) continue;
            *ok = 0;
            if (!conf) continue;
            turned[e]++;
            conf[e] += top_prob(z + (size_t)j * b->classes, b->classes);
        }
    }
}

/* Attack a of the cascade on every sample still robust at `judge`, in
 * full batches; its time, and the confidence of the wrong predictions on
 * the samples it turns, into rep. */
static advc_status cascade_attack(advc_graph *g, const advc_dataset *d,
                                  eval_bufs *b, cascade_bufs *cb, int n,
                                  int judge, const advc_attack_config *atk,
                                  int a, advc_robust_report *rep)
{
    advc_attack_config cfg = *atk;
    cfg.sample_keys = cb->keys;
    long turned[ADVC_EVAL_MAX_EXITS] = { 0 };
    double conf[ADVC_EVAL_MAX_EXITS] = { 0 };
    advc_attack_ws *ws = advc_attack_ws_new(g, &cfg, b->B);
    if (!ws) return advc_last_status();
    advc_status st = ADVC_OK;
    int next = 0, k;
    /* eps 0 (a sweep's first point) leaves every sample as it is. */
    while (st == ADVC_OK && cfg.eps > 0.0f &&
           (k = cascade_gather(d, b, cb, n, judge, &next)) > 0) {
        double t0 = advc_now();
        st = advc_attack_run_ws(g, &cfg, ws, cb->xs, cb->ys, k, b->xadv);
        rep->seconds[a] += advc_now() - t0;
        if (st == ADVC_OK)
            cascade_score(g, b, cb, b->xadv, k, n, turned, conf);
    }
    advc_attack_ws_free(ws);
    for (int e = 0; e < b->exits; e++)
        rep->fooled_conf[e][a] = turned[e] ? (float)(conf[e] / turned[e])
                                           : -1.0f;
    return st;
}

/* Share of the n samples right at exit e so far. */
static float cascade_share(const cascade_bufs *cb, int e, int n)
{
    long right = 0;
    for (int i = 0; i < n; i++) right += cb->ok[(size_t)e * n + i];
    return n ? (float)right / (float)n : 0.0f;
}

/* What a final Square took at the judged exit (see advc_robust_report). */
static float square_gain(const advc_robust_report *r)
{
    int a = r->nattacks - 1;
    if (a < 1 || r->attacks[a].kind != ADVC_ATK_SQUARE) return 0.0f;
    return r->robust_acc[r->judge][a - 1] - r->robust_acc[r->judge][a];
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
    cascade_bufs cb = {NULL, NULL, NULL, NULL, NULL, attacks[0].first_index};
    if ((st = bufs_init(&b, g)) != ADVC_OK ||
        (st = cascade_init(&cb, &b, n)) != ADVC_OK) {
        bufs_free(&b);
        cascade_free(&cb);
        return st;
    }
    int judge = judge_exit(&attacks[0], b.exits), next = 0, k;
    while ((k = cascade_gather(d, &b, &cb, n, -1, &next)) > 0)
        cascade_score(g, &b, &cb, cb.xs, k, n, NULL, NULL); /* clean */
    for (int e = 0; e < b.exits; e++)
        rep->clean_acc[e] = cascade_share(&cb, e, n);
    for (int a = 0; a < nattacks && st == ADVC_OK; a++) {
        st = cascade_attack(g, d, &b, &cb, n, judge, &attacks[a], a, rep);
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
        rep->square_gain = square_gain(rep);
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

void advc_masking_judge(advc_masking_report *rep)
{
    rep->large_eps_ok = rep->acc_large_eps <= LARGE_EPS_MAX_ACC;
    rep->pgd_vs_fgsm_ok = rep->acc_pgd <= rep->acc_fgsm + ORDER_SLACK;
    rep->fgsm_vs_clean_ok = rep->acc_fgsm <= rep->acc_clean + ORDER_SLACK;
    rep->noise_ok = rep->acc_noise + ORDER_SLACK >= rep->acc_pgd;
    rep->zero_grad_ok = rep->zero_grad_share <= ZERO_GRAD_MAX;
    rep->fgsm_only_ok = !(rep->acc_fgsm >= 0.5f &&
                          rep->acc_fgsm - rep->acc_pgd > ADVC_FGSM_ONLY_GAP);
}

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
        b.y = d->y + lo;
        zeros += count_zero_grads(g, &b, d->x + (size_t)lo * b.per, m);
    }
    bufs_free(&b);
    rep->zero_grad_share = rr.n ? (float)zeros / rr.n : 0;
    advc_masking_judge(rep);
    return ADVC_OK;
}
