/* cmd_attack.c: `advc attack`: attack the first N test images of a data
 * directory with one attack and write what happened where people and
 * scripts can look at it:
 *   grid.png         one row per image: clean | perturbation | adversarial,
 *                    blown up, each captioned with label, prediction and
 *                    softmax confidence (advc_grid_png, src/io/grid.c)
 *   clean.npy        float32 (n, c, h, w) clean images
 *   adv.npy          float32 (n, c, h, w) adversarial images
 *   labels.npy       int32 (n) true labels
 *   pred_clean.npy   int32 (n) final-exit predictions on clean images
 *   pred_adv.npy     int32 (n) final-exit predictions on adversarial ones
 * and prints clean / adversarial accuracy on those images.  The attack,
 * its flags and defaults are the ones advc eval uses (cli_attacks.c), and
 * so are its random starts (keyed by each image's index), so both report
 * the same accuracy on the same images.  Not here: accuracy over a whole
 * test set with several attacks (advc eval).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_attacks.h"
#include "cli_util.h"

typedef struct {
    const char *model, *data, *attack, *out;
    cli_exit_mode em;
    int limit, first, scale, grid_rows, batch, threads;
    uint64_t seed;
} attack_opts;

#define A_ROW(flag, meta, type, field, lo, hi, def, help)                    \
    CLI_ROW(flag, meta, type, attack_opts, field, lo, hi, def, help)

static const advc_param *attack_rows(int *n)
{
    static advc_param rows[] = {
        CLI_ROW_MODEL(attack_opts, model),
        CLI_ROW_DATA(attack_opts, data),
        A_ROW("attack", "NAME", ADVC_PARAM_TEXT, attack, 0, 0, NULL,
              "the attack, see below"),
        { "exit-mode", NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL,
          NULL }, /* cli_exit_mode_row, filled below */
        CLI_ROW_LIMIT(attack_opts, limit, "attack N test images"),
        CLI_ROW_FIRST(attack_opts, first),
        A_ROW("out", "DIR", ADVC_PARAM_TEXT, out, 0, 0, "attack-out",
              "output directory, created if missing"),
        A_ROW("scale", "K", ADVC_PARAM_INT, scale, 1, 32, "4",
              "grid.png blows pixels up K times"),
        A_ROW("grid-rows", "R", ADVC_PARAM_INT, grid_rows, 0, 10000, "32",
              "at most R rows in grid.png (0: no grid); the .npy files "
              "always hold all N images"),
        CLI_ROW_BATCH(attack_opts, batch, "128", "images per attack batch "
                      "(results do not depend on it)"),
        CLI_ROW_SEED(attack_opts, seed, "seed for random starts"),
        CLI_ROW_THREADS(attack_opts, threads),
    };
    rows[3] = cli_exit_mode_row(offsetof(attack_opts, em));
    *n = CLI_NROWS(rows);
    return rows;
}

static void describe(cli_parsed *p, void *vo)
{
    int n;
    const advc_param *rows = attack_rows(&n);
    cli_add_group(p, "Options", rows, n, vo);
    rows = cli_attack_union(&n);
    cli_add_group(p, NULL, rows, n, NULL);
}

const cli_spec cmd_attack_spec = {
    "attack", "--model FILE --data DIR --attack NAME [options]",
    "Attacks the first N test images of DIR and writes into --out: "
    "grid.png, one row per image: clean | perturbation | adversarial "
    "(perturbation shown as 0.5 + delta / (2 eps); pgd-l2: eps = the "
    "image's largest |delta|), with 'y=<label> p=<prediction> "
    "<confidence>%' captions; clean.npy and adv.npy, float32 (n, c, h, w); "
    "labels.npy, pred_clean.npy, pred_adv.npy, int32 (n). It prints the "
    "clean and adversarial accuracy on those images, which advc eval "
    "reproduces with the same settings.",
    0, NULL, cli_attacks_help, NULL
};

/* The arrays written, in this order: clean and adversarial images, then
 * labels and the two prediction vectors. */
static const char *const npy_names[5] = {
    "clean.npy", "adv.npy", "labels.npy", "pred_clean.npy", "pred_adv.npy"
};

/* An int vector as an int32 .npy (int may be wider than 32 bits). */
static advc_status write_ints(const char *path, const int *v, int n)
{
    int32_t *t = malloc((size_t)(n ? n : 1) * sizeof *t);
    if (!t) return advc_set_error(ADVC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) t[i] = (int32_t)v[i];
    size_t shape[1] = { (size_t)n };
    advc_status s = advc_npy_write(path, ADVC_NPY_I32, t, 1, shape);
    free(t);
    return s;
}

/* The n images' arrays and the results of the attack. */
typedef struct {
    advc_dataset d;             /* the attacked images                    */
    float *xadv, *conf_c, *conf_a;
    int *pred_c, *pred_a;
    int n;
} attack_run;

static void run_free(attack_run *r)
{
    free(r->xadv), free(r->conf_c), free(r->conf_a);
    free(r->pred_c), free(r->pred_a);
    advc_dataset_free(&r->d);
}

static int run_alloc(attack_run *r, const advc_dataset *test, int start,
                     int limit)
{
    int n = test->n - start < limit ? test->n - start : limit;
    if (advc_dataset_slice(test, start, start + n, &r->d) != ADVC_OK)
        return cli_fail("attack");
    size_t per = (size_t)r->d.c * r->d.h * r->d.w;
    r->n = n;
    r->xadv = malloc((size_t)n * per * sizeof *r->xadv);
    r->conf_c = malloc((size_t)n * sizeof *r->conf_c);
    r->conf_a = malloc((size_t)n * sizeof *r->conf_a);
    r->pred_c = malloc((size_t)n * sizeof *r->pred_c);
    r->pred_a = malloc((size_t)n * sizeof *r->pred_a);
    if (!r->xadv || !r->conf_c || !r->conf_a || !r->pred_c ||
        !r->pred_a) {
        fprintf(stderr, "advc attack: out of memory\n");
        return 1;
    }
    return 0;
}

static int write_files(const attack_opts *o, const attack_run *r,
                       const advc_attack_config *cfg, const char *footer)
{
    char path[4200];
    if (cli_make_dirs(o->out) != 0) return cli_fail("attack");
    const advc_dataset *d = &r->d;
    int rows = r->n < o->grid_rows ? r->n : o->grid_rows;
    if (rows > 0) {
        advc_grid gs = { rows, d->c, d->h, d->w, o->scale, d->x, r->xadv,
                         r->d.y, r->pred_c, r->pred_a, r->conf_c, r->conf_a,
                         cfg->eps,
                         advc_attack_describe(cfg->kind)->norm == ADVC_NORM_L2,
                         footer };
        snprintf(path, sizeof path, "%s/grid.png", o->out);
        if (advc_grid_png(path, &gs) != ADVC_OK) return cli_fail("attack");
    }
    size_t shape[4] = { (size_t)r->n, (size_t)d->c, (size_t)d->h,
                        (size_t)d->w };
    const float *arrays[2] = { d->x, r->xadv };
    const int *ints[3] = { r->d.y, r->pred_c, r->pred_a };
    for (int k = 0; k < 5; k++) {
        snprintf(path, sizeof path, "%s/%s", o->out, npy_names[k]);
        advc_status ws = k < 2 ? advc_npy_write(path, ADVC_NPY_F32,
                                                arrays[k], 4, shape)
                               : write_ints(path, ints[k - 2], r->n);
        if (ws != ADVC_OK) return cli_fail("attack");
    }
    return 0;
}

/* The largest L-inf and L2 distances of the adversarial images. */
static void distances(const attack_run *r, double *linf, double *l2max)
{
    size_t per = (size_t)r->d.c * r->d.h * r->d.w;
    *linf = *l2max = 0;
    for (int i = 0; i < r->n; i++) {
        double sq = 0;
        for (size_t j = 0; j < per; j++) {
            double dd = (double)r->xadv[(size_t)i * per + j] -
                        (double)r->d.x[(size_t)i * per + j];
            if (fabs(dd) > *linf) *linf = fabs(dd);
            sq += dd * dd;
        }
        if (sqrt(sq) > *l2max) *l2max = sqrt(sq);
    }
}

static void report(const attack_opts *o, const advc_checkpoint *head,
                   const attack_run *r, const advc_attack_config *cfg,
                   const char *settings, double secs, int right_c,
                   int right_a)
{
    int n = r->n, rows = n < o->grid_rows ? n : o->grid_rows;
    double linf, l2max;
    distances(r, &linf, &l2max);
    printf("model %s (%s, act %s) on %s, test images %d..%d (n=%d)\n",
           o->model, head->spec, head->act, o->data, o->first,
           o->first + n - 1, n);
    printf("attack %s, %.2fs\n", settings, secs);
    printf("clean accuracy        %6.2f%% (%d/%d)\n", 100.0 * right_c / n,
           right_c, n);
    printf("adversarial accuracy  %6.2f%% (%d/%d)\n", 100.0 * right_a / n,
           right_a, n);
    if (advc_attack_describe(cfg->kind)->norm == ADVC_NORM_L2)
        printf("largest L2 distance   %.4f (budget %g)\n", l2max,
               (double)cfg->eps);
    else
        printf("largest L-inf distance %.4f (budget %g)\n", linf,
               (double)cfg->eps);
    if (rows > 0) printf("wrote %s/grid.png (%d rows)\n", o->out, rows);
    for (int k = 0; k < 5; k++) printf("wrote %s/%s\n", o->out, npy_names[k]);
    if (rows < n)
        printf("grid.png shows the first %d of %d images (--grid-rows)\n",
               rows, n);
}

static int attack(const attack_opts *o, advc_graph *g,
                  const advc_checkpoint *head, const advc_dataset *test,
                  advc_attack_config *cfg)
{
    int bad = cli_check_first("attack", o->first, o->data, test->n);
    if (bad) return bad;
    if (advc_attack_check(g, cfg) != ADVC_OK) return cli_fail("attack");
    attack_run r;
    memset(&r, 0, sizeof r);
    int rc = run_alloc(&r, test, o->first, o->limit);
    cfg->first_index = (uint64_t)o->first;
    double t0 = advc_now();
    if (!rc && advc_attack_rows(g, cfg, r.d.x, r.d.y, r.n, r.xadv) != ADVC_OK)
        rc = cli_fail("attack");
    double secs = advc_now() - t0;
    if (!rc && (advc_predict(g, r.d.x, r.n, r.pred_c, r.conf_c) != ADVC_OK ||
                advc_predict(g, r.xadv, r.n, r.pred_a, r.conf_a) != ADVC_OK))
        rc = cli_fail("attack");
    if (!rc) {
        int right_c = 0, right_a = 0;
        for (int i = 0; i < r.n; i++) {
            right_c += r.pred_c[i] == r.d.y[i];
            right_a += r.pred_a[i] == r.d.y[i];
        }
        char settings[256], footer[320];
        advc_attack_settings(cfg, settings, sizeof settings);
        snprintf(footer, sizeof footer, "%s seed=%llu  clean %d/%d  adv "
                 "%d/%d", settings, (unsigned long long)o->seed, right_c,
                 r.n, right_a, r.n);
        rc = write_files(o, &r, cfg, footer);
        if (!rc) report(o, head, &r, cfg, settings, secs, right_c, right_a);
    }
    run_free(&r);
    return rc;
}

int cmd_attack(int argc, char **argv)
{
    attack_opts o;
    memset(&o, 0, sizeof o);
    o.out = "attack-out";
    o.limit = 16;
    o.scale = 4;
    o.grid_rows = 32;
    o.batch = 128;
    o.seed = 1;
    o.em.mode = ADVC_EXITS_SUM;
    cli_parsed p;
    int rc = cli_begin(&cmd_attack_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.model) return cli_usage_error("attack", "--model FILE is required");
    if (!o.data) return cli_usage_error("attack", "--data DIR is required");
    if (!o.attack)
        return cli_usage_error("attack", "--attack NAME is required");
    advc_attack_config cfg;
    int nc = cli_attack_configs("attack", &p, 1, o.attack, o.seed, &o.em, &cfg,
                                1);
    if (nc < 0) return 2;
    int b = o.batch < o.limit ? o.batch : o.limit;
    cli_session se;
    rc = cli_open(&se, "attack", o.model, o.data, b, o.threads);
    if (rc == 0) rc = attack(&o, se.g, &se.head, &se.test, &cfg);
    cli_close(&se);
    return rc;
}

void cmd_attack_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_attack_opts_size(void) { return sizeof(attack_opts); }
