/* cmd_probe.c: `advc probe`: the linearity probe of Goodfellow et al.
 * (advc/probe.h: logits along the FGSM direction) on one test image, as
 * an SVG plot and optionally CSV, with its summary.  Not here: attacks
 * with budgets (advc attack). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "advc/probe.h"
#include "cli.h"
#include "cli_util.h"

typedef struct {
    const char *model, *data, *out;
    int index, threads, limit, steps;
    advc_probe_config pc;
    bool csv, features;
    float eps;
    uint64_t seed;
} probe_opts;

#define P_ROW(flag, meta, type, field, lo, hi, def, help)                    \
    CLI_ROW(flag, meta, type, probe_opts, field, lo, hi, def, help)

static const advc_param probe_rows[] = {
    CLI_ROW_MODEL(probe_opts, model),
    CLI_ROW_DATA(probe_opts, data),
    P_ROW("index", "I", ADVC_PARAM_INT, index, 0, 100000000, "0",
          "test image I"),
    { "eps-max", "X", ADVC_PARAM_REAL, offsetof(probe_opts, pc.eps_max), 0,
      1e6, 1, "15", "the grid spans [-X, X]", NULL, 0, 0, NULL, NULL },
    P_ROW("points", "P", ADVC_PARAM_INT, pc.points, 2, 100001, "61",
          "grid points"),
    P_ROW("out", "FILE.svg", ADVC_PARAM_TEXT, out, 0, 0, NULL, "the plot"),
    P_ROW("csv", NULL, ADVC_PARAM_FLAG, csv, 0, 0, NULL,
          "also print eps,logit_0,...,logit_{C-1} as CSV on stdout (the "
          "summary then goes to stderr)"),
    P_ROW("clip", NULL, ADVC_PARAM_FLAG, pc.clip, 0, 0, NULL,
          "clip x + eps * d to [0, 1] (not the paper's probe)"),
    P_ROW("features", NULL, ADVC_PARAM_FLAG, features, 0, 0, NULL,
          "the feature probe instead: per exit, the mean L2 distance between "
          "the features its classifier reads on clean and on FGSM / PGD "
          "examples (Chen et al.), over --limit test images"),
    { "eps", "X", ADVC_PARAM_REAL, offsetof(probe_opts, eps), 0, 1, 1, "0.3",
      "--features: the attacks' L-inf budget", "0.3 or 8/255", 0, 0, NULL,
      NULL },
    P_ROW("steps", "K", ADVC_PARAM_INT, steps, 1, 100000, "20",
          "--features: PGD's iterations (step 2.5 eps/K)"),
    CLI_ROW_LIMIT(probe_opts, limit, "--features: probe the first N test "
                  "images (default 1000)"),
    CLI_ROW_SEED(probe_opts, seed, "--features: seed for PGD's random "
                 "start"),
    CLI_ROW_THREADS(probe_opts, threads),
};

static void describe(cli_parsed *p, void *vo)
{
    cli_add_group(p, "Options", probe_rows, CLI_NROWS(probe_rows), vo);
}

const cli_spec cmd_probe_spec = {
    "probe", "--model FILE --data DIR [options] --out FILE.svg",
    "Plots every class's logit of f(x + eps * d) against eps for one test "
    "image x, with d = sign(grad_x CE(f(x), y)) (the FGSM direction, model "
    "in eval mode, final exit), eps on an even grid over [-eps-max, "
    "eps-max]. x + eps * d is NOT clipped to [0, 1]: this is the linearity "
    "probe of Goodfellow et al. (2015), a line through input space, not an "
    "attack. Prints the prediction at eps = 0, the smallest eps > 0 on the "
    "grid where it changes, and the R^2 of straight-line fits per logit "
    "(each side of eps = 0 apart: ReLU networks are piecewise linear). At "
    "least one of --out and --csv is required.",
    0, NULL, NULL, NULL
};

static void print_summary(FILE *f, const probe_opts *o,
                          const advc_checkpoint *head, int y, size_t per,
                          const advc_probe_summary *s)
{
    fprintf(f, "model %s (%s, act %s), %s test image %d, label %d\n",
            o->model, head->spec, head->act, o->data, o->index, y);
    fprintf(f, "direction d = sign(grad_x CE) at the clean image: CE %.4f, "
            "%zu of %zu entries non-zero%s\n", (double)s->ce, s->nonzero,
            per, s->nonzero == 0 ? " (zero gradient: every curve is flat)"
                                 : "");
    fprintf(f, "eps grid: %d points over [%g, %g], %s\n", o->pc.points,
            -(double)o->pc.eps_max, (double)o->pc.eps_max,
            o->pc.clip ? "clipped to [0, 1]" : "NOT clipped to [0, 1]");
    fprintf(f, "clean prediction (eps = 0): %d (%s)\n", s->pred0,
            s->pred0 == y ? "right" : "already wrong");
    if (s->flip_eps > 0)
        fprintf(f, "smallest eps > 0 on the grid where the prediction is not "
                "%d: %g (predicts %d)\n", y, s->flip_eps, s->flip_to);
    else
        fprintf(f, "the prediction is %d at every eps > 0 on the grid\n", y);
    if (s->nfits > 0)
        fprintf(f, "straight-line fit of each logit against eps, each side "
                "of 0 apart: R^2 min %.4f, mean %.4f%s\n", s->r2_min,
                s->r2_mean, s->finite ? "" : " (some logits are not finite)");
}

static void print_csv(int classes, int P, const double *eps,
                      const double *logit)
{
    printf("eps");
    for (int j = 0; j < classes; j++) printf(",logit_%d", j);
    printf("\n");
    for (int k = 0; k < P; k++) {
        printf("%.6g", eps[k]);
        for (int j = 0; j < classes; j++)
            printf(",%.6g", logit[(size_t)j * P + k]);
        printf("\n");
    }
    fflush(stdout);
}

static advc_status write_svg(const probe_opts *o, const advc_checkpoint *head,
                             int classes, int y, const double *eps,
                             const double *logit)
{
    int P = o->pc.points;
    advc_plot_series *series = calloc((size_t)classes, sizeof *series);
    char (*names)[48] = calloc((size_t)classes, sizeof *names);
    if (!series || !names) {
        free(series), free(names);
        return advc_set_error(ADVC_ERR_NOMEM, "probe: out of memory");
    }
    for (int j = 0; j < classes; j++) {
        snprintf(names[j], sizeof names[j], "class %d%s", j,
                 j == y ? " (true)" : "");
        series[j] = (advc_plot_series){ names[j], eps,
                                        logit + (size_t)j * P, P, NULL,
                                        false };
    }
    char title[160], note[600];
    snprintf(title, sizeof title, "Logits along the FGSM direction: test "
             "image %d (label %d)", o->index, y);
    snprintf(note, sizeof note, "x + eps * sign(grad_x CE(x, y)), %s; model "
             "%s (%s)", o->pc.clip ? "clipped to [0,1]"
             : "not clipped to [0,1]", o->model, head->spec);
    advc_plot pl = { .title = title, .xlabel = "eps", .ylabel = "logit",
                     .series = series, .nseries = classes,
                     .zero_lines = true, .note = note };
    advc_status st = advc_svg_plot(o->out, &pl);
    free(series), free(names);
    return st;
}

static int probe(const probe_opts *o, advc_graph *g,
                 const advc_checkpoint *head, const advc_dataset *test)
{
    if (o->index >= test->n) {
        fprintf(stderr, "advc probe: bad value '%d' for --index: past the end "
                "of %s's test split (%d images)\n", o->index, o->data,
                test->n);
        return 2;
    }
    int classes = advc_graph_classes(g), P = o->pc.points;
    int y = test->y[o->index];
    size_t per = (size_t)test->c * test->h * test->w;
    double *eps = malloc((size_t)P * sizeof *eps);
    double *logit = malloc((size_t)P * classes * sizeof *logit);
    advc_probe_summary s;
    int rc = 0;
    if (!eps || !logit) {
        fprintf(stderr, "advc probe: out of memory\n");
        rc = 1;
    } else if (advc_probe_line(g, test->x + (size_t)o->index * per, y,
                               &o->pc, eps, logit, &s) != ADVC_OK) {
        rc = cli_fail("probe");
    } else {
        FILE *info = o->csv ? stderr : stdout; /* keep stdout pure CSV */
        print_summary(info, o, head, y, per, &s);
        if (o->csv) print_csv(classes, P, eps, logit);
        if (o->out && write_svg(o, head, classes, y, eps, logit) != ADVC_OK)
            rc = cli_fail("probe");
        else if (o->out)
            fprintf(info, "wrote %s\n", o->out);
    }
    free(eps), free(logit);
    return rc;
}

/* Grid points per forward pass. */
#define PROBE_BATCH 128

/* --features: FGSM and PGD on the summed loss, the distances per exit as
 * a table (or CSV on stdout) and, with --out, a plot against depth. */
static int probe_features(const probe_opts *o, advc_graph *g,
                          const advc_checkpoint *head,
                          const advc_dataset *test)
{
    int n = o->limit > 0 && o->limit < test->n ? o->limit : test->n;
    int E = advc_graph_num_exits(g);
    int *y = malloc((size_t)n * sizeof *y);
    double *d = calloc(4 * (size_t)E + (size_t)E, sizeof *d);
    if (!y || !d) {
        free(y), free(d);
        fprintf(stderr, "advc probe: out of memory\n");
        return 1;
    }
    for (int i = 0; i < n; i++) y[i] = test->y[i];
    advc_attack_config a[2] = { advc_attack_defaults(ADVC_ATK_FGSM),
                                advc_attack_defaults(ADVC_ATK_PGD) };
    for (int k = 0; k < 2; k++) {
        a[k].eps = o->eps;
        a[k].seed = o->seed;
    }
    a[1].steps = o->steps;
    a[1].max_loss = true; /* all the steps: the attack's own point */
    int rc = 0;
    for (int k = 0; k < 2 && !rc; k++)
        if (advc_probe_features(g, &a[k], test->x, y, n, d + 2 * k * E,
                                d + (2 * k + 1) * E) != ADVC_OK)
            rc = cli_fail("probe");
    FILE *info = o->csv ? stderr : stdout;
    if (!rc) {
        fprintf(info, "model %s (%s, act %s) on %s: features of each exit's "
                "classifier, clean against FGSM / PGD-%d at eps %g (summed "
                "loss; PGD's highest-loss iterate), mean over %d test images\n", o->model, head->spec,
                head->act, o->data, o->steps, (double)o->eps, n);
        if (o->csv) printf("exit,dims,fgsm_l2,fgsm_rel,pgd_l2,pgd_rel\n");
        else fprintf(info, "%-6s %6s %10s %9s %10s %9s\n", "exit", "dims",
                     "FGSM L2", "relative", "PGD L2", "relative");
        for (int e = 0; e < E; e++) {
            int dims = (int)advc_shape_size(advc_graph_exit_features(g, e,
                                                                     NULL));
            d[4 * E + e] = e;
            if (o->csv)
                printf("%d,%d,%.6g,%.6g,%.6g,%.6g\n", e, dims, d[e],
                       d[E + e], d[2 * E + e], d[3 * E + e]);
            else
                fprintf(info, "%-6d %6d %10.4f %9.4f %10.4f %9.4f\n", e, dims,
                        d[e], d[E + e], d[2 * E + e], d[3 * E + e]);
        }
    }
    if (!rc && o->out) {
        advc_plot_series ser[2] = {
            { "FGSM", d + 4 * E, d, E, NULL, false },
            { "PGD", d + 4 * E, d + 2 * E, E, NULL, false } };
        char title[200];
        snprintf(title, sizeof title, "Feature distance, clean vs "
                 "adversarial (eps %g), per exit", (double)o->eps);
        advc_plot pl = { .title = title, .xlabel = "exit",
                         .ylabel = "mean L2 distance", .series = ser,
                         .nseries = 2 };
        if (advc_svg_plot(o->out, &pl) != ADVC_OK) rc = cli_fail("probe");
        else fprintf(info, "wrote %s\n", o->out);
    }
    free(y), free(d);
    return rc;
}

int cmd_probe(int argc, char **argv)
{
    probe_opts o;
    memset(&o, 0, sizeof o);
    o.pc.points = 61;
    o.pc.eps_max = 15.0f;
    o.eps = 0.3f;
    o.steps = 20;
    o.limit = 1000;
    o.seed = 1;
    cli_parsed p;
    int rc = cli_begin(&cmd_probe_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.model) return cli_usage_error("probe", "--model FILE is required");
    if (!o.data) return cli_usage_error("probe", "--data DIR is required");
    if (!o.out && !o.csv && !o.features)
        return cli_usage_error("probe", "--out FILE.svg or --csv is required");
    int batch = o.features ? 256
              : o.pc.points < PROBE_BATCH ? o.pc.points : PROBE_BATCH;
    cli_session se;
    rc = cli_open(&se, "probe", o.model, o.data, batch, o.threads);
    if (rc == 0)
        rc = o.features ? probe_features(&o, se.g, &se.head, &se.test)
                        : probe(&o, se.g, &se.head, &se.test);
    cli_close(&se);
    return rc;
}

void cmd_probe_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_probe_opts_size(void) { return sizeof(probe_opts); }
