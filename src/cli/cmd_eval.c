/* cmd_eval.c: `advc eval`: clean and robust accuracy of a saved model on a
 * data directory's test split, per exit, per attack and in the per-sample
 * worst case, with the gradient-masking checks printed beside every robust
 * evaluation.  Output: a table, or JSON lines (--json) for scripts; an
 * accuracy-against-eps sweep (--eps-sweep) optionally as CSV.  Attacks,
 * their flags and defaults come from their descriptors (cli_attacks.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_attacks.h"
#include "cli_util.h"

#define MAX_SWEEP 32

typedef struct {
    const char *model, *data, *attacks, *sweep_csv, *transfer;
    cli_exit_mode em;
    float sweep[MAX_SWEEP];
    int nsweep, limit, first, batch, threads;
    bool no_checks, json;
    bool cascade;        /* --attack aa: advc_eval_cascade */
    uint64_t seed;
} eval_opts;

#define E_ROW(flag, meta, type, field, lo, hi, def, help)                    \
    CLI_ROW(flag, meta, type, eval_opts, field, lo, hi, def, help)

static const advc_param *eval_rows(int *n)
{
    static advc_param rows[] = {
        CLI_ROW_MODEL(eval_opts, model),
        CLI_ROW_DATA(eval_opts, data),
        E_ROW("attack", "LIST", ADVC_PARAM_TEXT, attacks, 0, 0, NULL,
              "comma-separated attacks and suites, see below"),
        { "exit-mode", NULL, 0, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0, NULL,
          NULL }, /* cli_exit_mode_row, filled below */
        { "eps-sweep", "LIST", ADVC_PARAM_REALS, offsetof(eval_opts, sweep),
          0, 1e6, 0, NULL, "accuracy against eps for each attack (the "
          "attacks' --eps is replaced by each value in turn)",
          "0,0.1,0.2,0.3", MAX_SWEEP, offsetof(eval_opts, nsweep), NULL,
          NULL },
        E_ROW("transfer-from", "SRC", ADVC_PARAM_TEXT, transfer, 0, 0, NULL,
              "make the adversarial examples against the model SRC and "
              "evaluate them on --model (transfer)"),
        E_ROW("sweep-csv", "FILE", ADVC_PARAM_TEXT, sweep_csv, 0, 0, NULL,
              "write the sweep as CSV: eps,<attack>,... (final exit)"),
        E_ROW("no-checks", NULL, ADVC_PARAM_FLAG, no_checks, 0, 0, NULL,
              "skip the gradient-masking checks"),
        CLI_ROW_LIMIT(eval_opts, limit, "evaluate the first N test images "
                      "only (from --first)"),
        CLI_ROW_FIRST(eval_opts, first),
        CLI_ROW_BATCH(eval_opts, batch, "256", "evaluation batch (results "
                      "do not depend on it)"),
        CLI_ROW_SEED(eval_opts, seed, "seed for random starts and noise"),
        CLI_ROW_THREADS(eval_opts, threads),
        E_ROW("json", NULL, ADVC_PARAM_FLAG, json, 0, 0, NULL,
              "one JSON object per line for scripts: per exit {model, exit, "
              "n, clean_acc, seed}; per (exit, attack) also the attack's "
              "settings and robust_acc; attack \"worst\" for the per-sample "
              "worst case (\"aa\" for AutoAttack's final figure); the "
              "masking checks as {check, their accuracies, passed, failed: "
              "the failed checks' names}"),
    };
    rows[3] = cli_exit_mode_row(offsetof(eval_opts, em));
    *n = CLI_NROWS(rows);
    return rows;
}

static void describe(cli_parsed *p, void *vo)
{
    int n;
    const advc_param *rows = eval_rows(&n);
    cli_add_group(p, "Options", rows, n, vo);
    rows = cli_attack_union(&n);
    cli_add_group(p, NULL, rows, n, NULL);
}

static void eval_help(FILE *f)
{
    cli_attacks_help(f);
    fprintf(f, "\nThe gradient-masking checks (on up to 500 images) flag: "
            "accuracy at eps 1.0\nnot near 0, PGD weaker than FGSM, FGSM "
            "accuracy above clean accuracy, random\nnoise stronger than "
            "PGD, many all-zero input gradients, and FGSM accuracy of\n50%% "
            "or more that is over 50 points above PGD's (robust to one step "
            "only).\n\n");
}

const cli_spec cmd_eval_spec = {
    "eval", "--model FILE --data DIR [--attack LIST] [options]",
    "Clean accuracy of a trained model on the test split of DIR, and with "
    "--attack its accuracy under each attack and in the per-sample worst "
    "case, per exit for multi-exit models, with the gradient-masking "
    "checks.",
    0, NULL, eval_help, NULL
};

/* ---- reports -------------------------------------------------------------- */

/* Exits are named exit0, exit1, ... and the last one "final". */
static void exit_name(int e, int exits, char *out, size_t outsz)
{
    if (e == exits - 1) snprintf(out, outsz, "final");
    else snprintf(out, outsz, "exit%d", e);
}

static void print_settings(const advc_robust_report *r, uint64_t seed)
{
    printf("attacks (seed %llu; eval mode, logits, inputs in [0,1]):\n",
           (unsigned long long)seed);
    for (int a = 0; a < r->nattacks; a++) {
        char label[48], set[256];
        cli_attack_label(&r->attacks[a], label, sizeof label);
        advc_attack_settings(&r->attacks[a], set, sizeof set);
        const char *rest = strchr(set, ' ');
        printf("  %-14s %s  (%.1fs)\n", label, rest ? rest + 1 : "",
               r->seconds[a]);
    }
}

static void print_table(const advc_robust_report *r)
{
    char label[48];
    printf("%-8s %8s", "exit", "clean");
    for (int a = 0; a < r->nattacks; a++) {
        cli_attack_label(&r->attacks[a], label, sizeof label);
        printf(" %14s", label);
    }
    if (r->nattacks) printf(" %8s", r->cascade ? "aa" : "worst");
    printf("\n");
    for (int e = 0; e < r->exits; e++) {
        char name[32];
        exit_name(e, r->exits, name, sizeof name);
        printf("%-8s %7.2f%%", name, 100.0 * r->clean_acc[e]);
        for (int a = 0; a < r->nattacks; a++)
            printf(" %13.2f%%", 100.0 * r->robust_acc[e][a]);
        if (r->nattacks) printf(" %7.2f%%", 100.0 * r->worst_acc[e]);
        printf("\n");
    }
    if (!r->nattacks) return;
    printf("mean confidence of the wrong prediction on the fooled samples:\n");
    for (int e = 0; e < r->exits; e++) {
        char name[32];
        exit_name(e, r->exits, name, sizeof name);
        printf("%-8s %8s", name, "");
        for (int a = 0; a < r->nattacks; a++) {
            if (r->fooled_conf[e][a] < 0) printf(" %14s", "-");
            else printf(" %13.2f%%", 100.0 * r->fooled_conf[e][a]);
        }
        printf("\n");
    }
}

/* The cascade's log, AutoAttack's way: robust accuracy after each attack
 * with the time so far, the final figure, and the reference's warning
 * when Square still finds points after the gradient attacks. */
static void print_cascade_log(const advc_robust_report *r)
{
    char judge[32];
    exit_name(r->judge, r->exits, judge, sizeof judge);
    printf("AutoAttack: each attack runs on the points still robust (exit "
           "%s)\n", judge);
    printf("initial accuracy: %.2f%%\n", 100.0 * r->clean_acc[r->judge]);
    double total = 0.0;
    for (int a = 0; a < r->nattacks; a++) {
        char up[48];
        const char *nm = advc_attack_name(r->attacks[a].kind);
        size_t k = 0;
        for (; nm[k] && k + 1 < sizeof up; k++)
            up[k] = nm[k] >= 'a' && nm[k] <= 'z' ? (char)(nm[k] - 32) : nm[k];
        up[k] = 0;
        total += r->seconds[a];
        printf("robust accuracy after %s: %.2f%% (total time %.1f s)\n", up,
               100.0 * r->robust_acc[r->judge][a], total);
    }
    printf("robust accuracy: %.2f%%\n", 100.0 * r->worst_acc[r->judge]);
    if (r->square_gain > ADVC_SQUARE_GAIN_WARN)
        printf("WARNING: Square, which uses no gradient, lowered robust "
               "accuracy by %.2f points after the gradient attacks: their "
               "figures are unreliable here (gradient masking?)\n",
               100.0 * r->square_gain);
}

/* ,"key":value for every row of the attack's descriptor (resolved). */
static void json_settings(const advc_attack_config *cfg)
{
    const advc_attack_desc *d = advc_attack_describe(cfg->kind);
    advc_attack_config r = advc_attack_resolve(cfg);
    for (int i = 0; i < d->nparams; i++) {
        char key[48], val[96];
        double num;
        advc_param_key(&d->params[i], key, sizeof key);
        advc_param_format(&d->params[i], &r, val, sizeof val);
        printf(",\"%s\":", key);
        if (advc_parse_real(val, &num) == ADVC_OK && !strchr(val, '/'))
            printf("%s", val);
        else
            cli_json_string(stdout, val);
    }
}

static void json_head(const eval_opts *o, const char *exit)
{
    printf("{\"model\":");
    cli_json_string(stdout, o->model);
    if (o->first) printf(",\"first\":%d", o->first);
    printf(",\"exit\":\"%s\"", exit);
}

static void print_json(const advc_robust_report *r, const eval_opts *o)
{
    for (int e = 0; e < r->exits; e++) {
        char name[32];
        exit_name(e, r->exits, name, sizeof name);
        json_head(o, name);
        printf(",\"n\":%d,\"clean_acc\":%.4f,\"seed\":%llu}\n", r->n,
               (double)r->clean_acc[e], (unsigned long long)o->seed);
        for (int a = 0; a <= r->nattacks && r->nattacks; a++) {
            bool worst = a == r->nattacks;
            char label[48];
            if (worst)
                snprintf(label, sizeof label, r->cascade ? "aa" : "worst");
            else cli_attack_label(&r->attacks[a], label, sizeof label);
            json_head(o, name);
            printf(",\"attack\":\"%s\"", label);
            if (!worst) {
                json_settings(&r->attacks[a]);
                printf(",\"fooled_conf\":%.4f",
                       (double)r->fooled_conf[e][a]);
                if (o->transfer) {
                    printf(",\"transfer_from\":");
                    cli_json_string(stdout, o->transfer);
                }
                /* cascade: robust_acc is after this attack and the ones
                 * before it, on the judged exit's terms */
                if (r->cascade)
                    printf(",\"cascade\":true,\"seconds\":%.3f",
                           r->seconds[a]);
            } else {
                printf(",\"eps\":%g", (double)r->attacks[0].eps);
                if (r->cascade)
                    printf(",\"square_gain\":%.4f", (double)r->square_gain);
            }
            printf(",\"n\":%d,\"clean_acc\":%.4f,\"robust_acc\":%.4f,"
                   "\"seed\":%llu}\n", r->n, (double)r->clean_acc[e],
                   (double)(worst ? r->worst_acc[e] : r->robust_acc[e][a]),
                   (unsigned long long)o->seed);
        }
    }
}

/* ---- the masking checks --------------------------------------------------- */

static void print_checks(const advc_masking_report *m, int steps, int fails)
{
    const char *ok = "  ok  ", *bad = "FAILED";
    printf("gradient-masking checks (n=%d, eps=%g, PGD-%d, final exit):\n",
           m->n, (double)m->eps, steps);
    printf("  [%s] PGD at eps %g leaves %.2f%% accuracy (want ~0)\n",
           m->large_eps_ok ? ok : bad, (double)m->large_eps,
           100.0 * m->acc_large_eps);
    printf("  [%s] PGD %.2f%% <= FGSM %.2f%%\n", m->pgd_vs_fgsm_ok ? ok : bad,
           100.0 * m->acc_pgd, 100.0 * m->acc_fgsm);
    printf("  [%s] FGSM %.2f%% <= clean %.2f%% (above: label leaking)\n",
           m->fgsm_vs_clean_ok ? ok : bad, 100.0 * m->acc_fgsm,
           100.0 * m->acc_clean);
    printf("  [%s] random noise %.2f%% >= PGD %.2f%%\n",
           m->noise_ok ? ok : bad, 100.0 * m->acc_noise, 100.0 * m->acc_pgd);
    printf("  [%s] all-zero input gradients: %.2f%% of samples\n",
           m->zero_grad_ok ? ok : bad, 100.0 * m->zero_grad_share);
    printf("  [%s] FGSM %.2f%% not far above PGD %.2f%% (robust to one "
           "step only)\n", m->fgsm_only_ok ? ok : bad, 100.0 * m->acc_fgsm,
           100.0 * m->acc_pgd);
    if (fails)
        printf("  WARNING: %d check(s) failed: the robust accuracy above may "
               "be false robustness (gradient masking)\n", fails);
}

/* The failed checks' short names (NAMES holds MASKING_CHECKS), as --json
 * lists them; returns how many failed. */
enum { MASKING_CHECKS = 6 };

static int failed_checks(const advc_masking_report *m, const char **names)
{
    const struct { bool ok; const char *name; } c[] = {
        { m->large_eps_ok, "large-eps" },
        { m->pgd_vs_fgsm_ok, "pgd-weaker-than-fgsm" },
        { m->fgsm_vs_clean_ok, "fgsm-above-clean" },
        { m->noise_ok, "noise-stronger-than-pgd" },
        { m->zero_grad_ok, "zero-gradients" },
        { m->fgsm_only_ok, "fgsm-only" },
    };
    _Static_assert(sizeof c / sizeof c[0] == MASKING_CHECKS,
                   "one row per check of advc_masking_report");
    int n = 0;
    for (int i = 0; i < MASKING_CHECKS; i++)
        if (!c[i].ok) names[n++] = c[i].name;
    return n;
}

/* The checks run at the budget of the first L-inf attack of the list. */
static int run_checks(advc_graph *g, const advc_dataset *test, int n,
                      const eval_opts *o, const cli_parsed *p,
                      const advc_attack_config *atk, int natk)
{
    const advc_attack_config *first = NULL;
    for (int a = 0; a < natk && !first; a++)
        if (advc_attack_describe(atk[a].kind)->norm == ADVC_NORM_LINF)
            first = &atk[a];
    if (!first) {
        if (!o->json)
            printf("gradient-masking checks: skipped (they use L-inf attacks "
                   "and no L-inf attack was asked for)\n");
        return 0;
    }
    /* PGD-20, or the --steps given for the attacks. */
    long steps = 20;
    const char *given = cli_given(p, "steps");
    if (given) advc_parse_int(given, &steps);
    advc_masking_report m;
    if (advc_masking_checks(g, test, n < 500 ? n : 500, first->eps, (int)steps,
                            1.0f, o->seed, &m) != ADVC_OK)
        return cli_fail("eval");
    const char *failed[MASKING_CHECKS];
    int fails = failed_checks(&m, failed);
    if (!o->json) {
        print_checks(&m, (int)steps, fails);
        return 0;
    }
    printf("{\"model\":");
    cli_json_string(stdout, o->model);
    printf(",\"check\":\"gradient-masking\",\"n\":%d,\"eps\":%g,"
           "\"large_eps\":%g,\"large_eps_acc\":%.4f,\"fgsm_acc\":%.4f,"
           "\"pgd_acc\":%.4f,\"noise_acc\":%.4f,\"zero_grad_share\":%.4f,"
           "\"clean_acc\":%.4f,\"fgsm_only\":%s,\"passed\":%s,"
           "\"failed\":\"",
           m.n, (double)m.eps, (double)m.large_eps, (double)m.acc_large_eps,
           (double)m.acc_fgsm, (double)m.acc_pgd, (double)m.acc_noise,
           (double)m.zero_grad_share, (double)m.acc_clean,
           m.fgsm_only_ok ? "false" : "true", fails ? "false" : "true");
    for (int i = 0; i < fails; i++)
        printf("%s%s", i ? "," : "", failed[i]);
    printf("\",\"seed\":%llu}\n", (unsigned long long)o->seed);
    return 0;
}

/* ---- the sweep ------------------------------------------------------------ */

/* The evaluation the attack list asks for: AutoAttack's cascade for aa,
 * else each attack on every sample. */
static advc_status run_eval(advc_graph *g, const advc_dataset *test, int n,
                            const advc_attack_config *atk, int natk,
                            const eval_opts *o, advc_robust_report *r)
{
    if (o->cascade) return advc_eval_cascade(g, test, n, atk, natk, r);
    return advc_eval_robust(g, test, n, atk, natk, r);
}

static void sweep_header(FILE *csv, const eval_opts *o, int n,
                         const advc_attack_config *atk, int natk)
{
    char label[48];
    if (csv) {
        fprintf(csv, "eps");
        for (int a = 0; a < natk; a++) {
            cli_attack_label(&atk[a], label, sizeof label);
            fprintf(csv, ",%s", label);
        }
        fprintf(csv, "\n");
    }
    if (o->json) return;
    printf("accuracy against eps (final exit, n=%d, seed %llu):\n%8s", n,
           (unsigned long long)o->seed, "eps");
    for (int a = 0; a < natk; a++) {
        cli_attack_label(&atk[a], label, sizeof label);
        printf(" %14s", label);
    }
    printf("\n");
}

static void sweep_line(FILE *csv, const eval_opts *o, float eps,
                       const advc_robust_report *r,
                       const advc_attack_config *cf, int natk)
{
    int fin = r->exits - 1;
    for (int a = 0; a < natk && o->json; a++) {
        char label[48];
        cli_attack_label(&cf[a], label, sizeof label);
        json_head(o, "final");
        printf(",\"attack\":\"%s\"", label);
        json_settings(&cf[a]);
        printf(",\"n\":%d,\"clean_acc\":%.4f,\"robust_acc\":%.4f,"
               "\"seed\":%llu,\"sweep\":true}\n", r->n,
               (double)r->clean_acc[fin], (double)r->robust_acc[fin][a],
               (unsigned long long)o->seed);
    }
    if (!o->json) {
        printf("%8g", (double)eps);
        for (int a = 0; a < natk; a++)
            printf(" %13.2f%%", 100.0 * r->robust_acc[fin][a]);
        printf("\n");
    }
    if (csv) {
        fprintf(csv, "%g", (double)eps);
        for (int a = 0; a < natk; a++)
            fprintf(csv, ",%.4f", (double)r->robust_acc[fin][a]);
        fprintf(csv, "\n");
    }
    fflush(stdout);
}

/* Every sweep value is checked against every attack before any work. */
static int check_sweep(advc_graph *g, const eval_opts *o,
                       const advc_attack_config *atk, int natk)
{
    for (int i = 0; i < o->nsweep; i++)
        for (int a = 0; a < natk && o->sweep[i] > 0; a++) {
            advc_attack_config c = atk[a];
            c.eps = o->sweep[i];
            if (advc_attack_check(g, &c) != ADVC_OK) {
                fprintf(stderr, "advc eval: bad value '%g' in --eps-sweep: "
                        "%s\n", (double)o->sweep[i], advc_last_error());
                return 2;
            }
        }
    return 0;
}

static int run_sweep(advc_graph *g, const advc_dataset *test, int n,
                     const advc_attack_config *atk, int natk,
                     const eval_opts *o)
{
    int rc = check_sweep(g, o, atk, natk);
    if (rc) return rc;
    /* Through the safe writer: an old CSV stays whole until the new one
     * is complete. */
    advc_out_file out;
    FILE *csv = NULL;
    if (o->sweep_csv) {
        if (advc_out_open(&out, o->sweep_csv) != ADVC_OK)
            return cli_fail("eval");
        csv = out.f;
    }
    sweep_header(csv, o, n, atk, natk);
    for (int i = 0; i < o->nsweep && !rc; i++) {
        advc_attack_config cf[ADVC_EVAL_MAX_ATTACKS];
        for (int a = 0; a < natk; a++) {
            cf[a] = atk[a];
            cf[a].eps = o->sweep[i];
        }
        advc_robust_report r;
        if (run_eval(g, test, n, cf, natk, o, &r) != ADVC_OK) {
            rc = cli_fail("eval");
            break;
        }
        sweep_line(csv, o, o->sweep[i], &r, cf, natk);
    }
    if (csv && rc) {
        advc_out_abort(&out);
    } else if (csv && advc_out_commit(&out) != ADVC_OK) {
        rc = cli_fail("eval");
    } else if (csv && !o->json) {
        printf("sweep written to %s (plot: advc plot --sweep %s --out "
               "sweep.svg)\n", o->sweep_csv, o->sweep_csv);
    }
    return rc;
}

/* ---- the command ---------------------------------------------------------- */

static int evaluate(advc_graph *g, const advc_checkpoint *head,
                    const advc_dataset *test, const eval_opts *o,
                    const cli_parsed *p, const advc_attack_config *atk,
                    int natk)
{
    int n = o->limit > 0 && o->limit < test->n ? o->limit : test->n;
    for (int a = 0; a < natk; a++)
        if (advc_attack_check(g, &atk[a]) != ADVC_OK) return cli_fail("eval");
    if (!o->json)
        printf("model %s (%s, act %s) on %s, test images %d-%d, n=%d, seed "
               "%llu\n", o->model, head->spec, head->act, o->data, o->first,
               o->first + n - 1, n, (unsigned long long)o->seed);
    if (o->nsweep) return run_sweep(g, test, n, atk, natk, o);
    advc_graph *src = g;
    advc_checkpoint sh;
    if (o->transfer) {
        if (!natk) return cli_usage_error("eval", "--transfer-from needs "
                                          "--attack");
        if (o->cascade) return cli_usage_error("eval", "--transfer-from "
                                               "does not take --attack aa");
        if (advc_model_load(o->transfer, advc_graph_batch(g),
                            advc_graph_pool(g), &src, &sh) != ADVC_OK)
            return cli_fail("eval");
        if (!o->json)
            printf("adversarial examples made against %s (%s), evaluated on "
                   "%s\n", o->transfer, sh.spec, o->model);
    }
    advc_robust_report r;
    advc_status st = src == g ? run_eval(g, test, n, atk, natk, o, &r)
                              : advc_eval_transfer(g, src, test, n, atk, natk,
                                                   &r);
    if (src != g) advc_graph_free(src);
    if (st != ADVC_OK) return cli_fail("eval");
    if (o->json) {
        print_json(&r, o);
    } else {
        if (natk) print_settings(&r, o->seed);
        if (r.cascade) print_cascade_log(&r);
        print_table(&r);
    }
    return natk && !o->no_checks ? run_checks(g, test, n, o, p, atk, natk)
                                 : 0;
}

/* --first I: the test split becomes its rows from I on, and every
 * attack keys its random streams by the images' indices in the whole
 * split, so a shard's per-image results are the whole run's. */
static int take_shard(cli_session *se, const eval_opts *o,
                      advc_attack_config *atk, int natk)
{
    int bad = cli_check_first("eval", o->first, o->data, se->test.n);
    if (bad || o->first == 0) return bad;
    advc_dataset shard;
    if (advc_dataset_slice(&se->test, o->first, se->test.n, &shard) !=
        ADVC_OK)
        return cli_fail("eval");
    advc_dataset_free(&se->test);
    se->test = shard;
    for (int a = 0; a < natk; a++) atk[a].first_index = (uint64_t)o->first;
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o;
    memset(&o, 0, sizeof o);
    o.batch = 256;
    o.seed = 1;
    o.em.mode = ADVC_EXITS_SUM;
    cli_parsed p;
    int rc = cli_begin(&cmd_eval_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.model) return cli_usage_error("eval", "--model FILE is required");
    if (!o.data) return cli_usage_error("eval", "--data DIR is required");
    if (o.nsweep && !o.attacks)
        return cli_usage_error("eval", "--eps-sweep needs --attack");
    if (o.sweep_csv && !o.nsweep)
        return cli_usage_error("eval", "--sweep-csv needs --eps-sweep");
    advc_attack_config atk[ADVC_EVAL_MAX_ATTACKS];
    int natk = 0;
    if (o.attacks &&
        (natk = cli_attack_configs("eval", &p, 1, o.attacks, o.seed, &o.em,
                                   atk, ADVC_EVAL_MAX_ATTACKS)) < 0)
        return 2;
    o.cascade = o.attacks && cli_attack_cascade(o.attacks);
    bool none[CLI_MAX_ROWS] = { false };
    if (!o.attacks &&
        (rc = cli_refuse_unused("eval", &p, 1, none, "no --attack")) != 0)
        return rc;

    cli_session se;
    rc = cli_open(&se, "eval", o.model, o.data, o.batch, o.threads);
    if (rc == 0) rc = take_shard(&se, &o, atk, natk);
    if (rc == 0) rc = evaluate(se.g, &se.head, &se.test, &o, &p, atk, natk);
    cli_close(&se);
    return rc;
}

void cmd_eval_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_eval_opts_size(void) { return sizeof(eval_opts); }
