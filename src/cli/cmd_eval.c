/* cmd_eval.c: `advc eval`: clean and robust accuracy of a saved model on a
 * data directory's test split, per exit, per attack and in the per-sample
 * worst case, with the gradient-masking checks printed beside every robust
 * evaluation.  Output: a table, or JSON lines (--json) for scripts; an
 * accuracy-against-eps sweep (--eps-sweep) optionally as CSV. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "advc/data.h"
#include "advc/evaluate.h"
#include "advc/train.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc eval --model FILE --data DIR [options]\n"
    "\n"
    "Clean accuracy of a trained model on the test split of DIR, and with\n"
    "--attack its accuracy under attack, per exit for multi-exit models.\n"
    "\n"
    "  --model FILE        a checkpoint written by advc train\n"
    "  --data DIR          MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --attack LIST       comma-separated: fgsm, pgd, cw, apgd-ce, apgd-dlr,\n"
    "                      apgd-t, fab-t, square, noise, pgd-l2, aa-lite\n"
    "                      (= apgd-ce,apgd-dlr,apgd-t), all (= fgsm,pgd,cw,\n"
    "                      aa-lite); or aa alone: AutoAttack (apgd-ce,\n"
    "                      apgd-t, fab-t, square, each on the points still\n"
    "                      robust, the reference's settings)\n"
    "  --eps X             L-inf budget (default 0.3; pgd-l2: L2 budget)\n"
    "  --steps K           iterations of pgd/cw/apgd/fab-t, queries of square\n"
    "                      (default 40; apgd, fab-t 100; square 5000)\n"
    "  --step-size X       pgd/cw/fgsm step (default 2.5*eps/steps; fgsm eps)\n"
    "  --restarts R        random restarts, best kept per sample (default 1)\n"
    "  --exit-mode M       multi-exit models: sum (attack the summed loss,\n"
    "                      default), maxavg (max-average attack), or an exit\n"
    "                      number to attack that exit alone\n"
    "  --eps-sweep LIST    accuracy against eps for each attack, e.g.\n"
    "                      0,0.05,0.1,0.2,0.3\n"
    "  --sweep-csv FILE    write the sweep as CSV: eps,<attack>,... (final exit)\n"
    "  --no-checks         skip the gradient-masking checks\n"
    "  --limit N           evaluate the first N test images only\n"
    "  --batch B           evaluation batch (default 256)\n"
    "  --seed S            seed for random starts and noise (default 1)\n"
    "  --threads T         worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  --json              one JSON object per line for scripts: per exit\n"
    "                      {\"model\",\"exit\",\"n\",\"clean_acc\",\"seed\"}; with\n"
    "                      --attack also per (exit, attack) {\"attack\",\"eps\",\n"
    "                      \"steps\",\"restarts\",\"robust_acc\",...} and\n"
    "                      \"attack\":\"worst\" for the per-sample worst case\n"
    "  -h, --help          this text\n"
    "\n"
    "Attacks run the model in eval mode on logits, inside [0,1] and the\n"
    "eps-ball. The masking checks (on up to 500 images) flag: accuracy at\n"
    "eps 1.0 not near 0, PGD weaker than FGSM, FGSM accuracy above clean\n"
    "accuracy, random noise stronger than PGD, and many all-zero input\n"
    "gradients.\n";

#define MAX_SWEEP 32

typedef struct {
    const char *model, *data_dir, *attacks, *sweep, *sweep_csv, *exit_mode;
    int limit, batch, threads, json, steps, restarts, checks;
    float eps, step_size;
    int steps_set, step_size_set;
    uint64_t seed;
    int restarts_set, cascade; /* cascade: --attack aa */
} eval_opts;

/* Exits are named exit0, exit1, ... and the last one "final". */
static void exit_name(int e, int exits, char *out, size_t outsz)
{
    if (e == exits - 1) snprintf(out, outsz, "final");
    else snprintf(out, outsz, "exit%d", e);
}

/* Writes s as a JSON string literal (quotes, backslashes, control chars). */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* Sets c's exit mode from --exit-mode; 0 after an error. */
static int apply_exit_mode(advc_attack_config *c, const eval_opts *o,
                           int nexits)
{
    if (!strcmp(o->exit_mode, "sum")) {
        c->exits = ADVC_EXITS_SUM;
    } else if (!strcmp(o->exit_mode, "maxavg")) {
        c->exits = ADVC_EXITS_MAXAVG;
    } else {
        int e;
        if (!cli_int("eval", "exit-mode", o->exit_mode, 0, nexits - 1, &e))
            return 0;
        c->exits = ADVC_EXITS_ONE;
        c->exit = e;
    }
    return 1;
}

/* Adds one attack of `kind` with the options applied. */
static int push_attack(advc_attack_config *list, int *n, advc_attack_kind kind,
                       const eval_opts *o, int nexits)
{
    if (*n >= ADVC_EVAL_MAX_ATTACKS) {
        fprintf(stderr, "advc eval: at most %d attacks at once\n",
                ADVC_EVAL_MAX_ATTACKS);
        return 0;
    }
    advc_attack_config c = advc_attack_defaults(kind);
    if (kind != ADVC_ATK_PGD_L2 || o->eps != 0.3f) c.eps = o->eps;
    if (o->steps_set && kind != ADVC_ATK_FGSM && kind != ADVC_ATK_NOISE)
        c.steps = o->steps;
    /* The step follows eps and steps unless given (0 = the attack's rule);
     * --step-size is for the iterative sign attacks: FGSM steps eps. */
    bool iterative = kind == ADVC_ATK_PGD || kind == ADVC_ATK_CW ||
                     kind == ADVC_ATK_PGD_L2;
    c.step_size = o->step_size_set && iterative ? o->step_size : 0.0f;
    c.restarts = o->restarts;
    c.seed = o->seed;
    if (!apply_exit_mode(&c, o, nexits)) return 0;
    list[(*n)++] = c;
    return 1;
}

/* --attack aa: AutoAttack's standard list, settings fixed (the library's
 * advc_autoattack_list); only eps, seed and the exit mode apply. */
static int parse_aa(eval_opts *o, int nexits, advc_attack_config *list)
{
    if (strcmp(o->attacks, "aa") != 0) {
        fprintf(stderr, "advc eval: --attack aa runs alone (AutoAttack is a "
                "cascade); got '%s'\n", o->attacks);
        return -1;
    }
    if (o->steps_set || o->step_size_set || o->restarts_set) {
        fprintf(stderr, "advc eval: --steps, --step-size and --restarts do "
                "not apply to --attack aa (AutoAttack's settings are "
                "fixed)\n");
        return -1;
    }
    int n = advc_autoattack_list(o->eps, o->seed, list);
    for (int a = 0; a < n; a++)
        if (!apply_exit_mode(&list[a], o, nexits)) return -1;
    o->cascade = 1;
    return n;
}

/* Parses --attack into configs; returns the count, or -1 after an error. */
static int parse_attacks(eval_opts *o, int nexits, advc_attack_config *list)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", o->attacks);
    int n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        static const advc_attack_kind aa[] = { ADVC_ATK_APGD_CE,
                                               ADVC_ATK_APGD_DLR,
                                               ADVC_ATK_APGD_T };
        static const advc_attack_kind all[] = {
            ADVC_ATK_FGSM, ADVC_ATK_PGD, ADVC_ATK_CW, ADVC_ATK_APGD_CE,
            ADVC_ATK_APGD_DLR, ADVC_ATK_APGD_T };
        const advc_attack_kind *set = NULL;
        int nset = 0;
        advc_attack_kind one;
        if (!strcmp(tok, "aa")) return parse_aa(o, nexits, list);
        if (!strcmp(tok, "aa-lite")) set = aa, nset = 3;
        else if (!strcmp(tok, "all")) set = all, nset = 6;
        else if ((one = advc_attack_parse(tok)) != ADVC_ATK_COUNT)
            set = &one, nset = 1;
        else {
            fprintf(stderr,
                    "advc eval: bad value '%s' for --attack (fgsm, pgd, cw, "
                    "apgd-ce, apgd-dlr, apgd-t, fab-t, square, noise, "
                    "pgd-l2, aa-lite, all, aa)\n", tok);
            return -1;
        }
        for (int i = 0; i < nset; i++)
            if (!push_attack(list, &n, set[i], o, nexits)) return -1;
    }
    return n;
}

/* "pgd" or "pgd@exit2" / "pgd@maxavg" for multi-exit modes. */
static void attack_label(const advc_attack_config *c, char *out, size_t sz)
{
    const char *name = advc_attack_name(c->kind);
    if (c->exits == ADVC_EXITS_ONE) snprintf(out, sz, "%s@exit%d", name, c->exit);
    else if (c->exits == ADVC_EXITS_MAXAVG) snprintf(out, sz, "%s@maxavg", name);
    else snprintf(out, sz, "%s", name);
}

static float effective_step(const advc_attack_config *c)
{
    if (c->step_size > 0) return c->step_size;
    if (c->kind == ADVC_ATK_FGSM)
        return c->random_start ? 1.25f * c->eps : c->eps;
    if (c->kind == ADVC_ATK_PGD || c->kind == ADVC_ATK_CW)
        return 2.5f * c->eps / (float)c->steps;
    return 0; /* APGD adapts its own; noise has none */
}

/* FAB-T's and Square's own settings (nothing for the other kinds). */
static void print_extra_settings(const advc_attack_config *c)
{
    if (c->kind == ADVC_ATK_FAB_T)
        printf(" restarts=%d (random start from the 2nd) targets=top%d "
               "alpha_max=%g eta=%g beta=%g final_search=%d", c->restarts,
               c->target_classes, (double)c->fab.alpha_max,
               (double)c->fab.eta, (double)c->fab.beta,
               (int)c->fab.final_search);
    else if (c->kind == ADVC_ATK_SQUARE)
        printf(" restarts=%d p_init=%g", c->restarts,
               (double)c->square.p_init);
}

static void print_settings(const advc_robust_report *r, uint64_t seed)
{
    printf("attacks (seed %llu; eval mode, logits, inputs in [0,1]):\n",
           (unsigned long long)seed);
    for (int a = 0; a < r->nattacks; a++) {
        const advc_attack_config *c = &r->attacks[a];
        char label[48];
        attack_label(c, label, sizeof label);
        bool own = c->kind == ADVC_ATK_FAB_T || c->kind == ADVC_ATK_SQUARE;
        printf("  %-14s eps=%g %s=%d", label, (double)c->eps,
               c->kind == ADVC_ATK_SQUARE ? "queries" : "steps", c->steps);
        float st = effective_step(c);
        if (st > 0) printf(" step=%g", (double)st);
        else if (c->kind >= ADVC_ATK_APGD_CE && c->kind <= ADVC_ATK_APGD_T)
            printf(" step=adaptive(2eps,rho=0.75)");
        if (own) print_extra_settings(c);
        else printf(" restarts=%d random_start=%d", c->restarts,
                    c->random_start || c->kind >= ADVC_ATK_APGD_CE);
        if (c->kind == ADVC_ATK_APGD_T)
            printf(" targets=top%d", c->target_classes);
        printf("  (%.1fs)\n", r->seconds[a]);
    }
}

/* AutoAttack's own masking hint: how much robust accuracy the black-box
 * Square took from what the gradient attacks before it left (0 if the
 * list does not end with Square). */
static float square_gain(const advc_robust_report *r)
{
    int a = r->nattacks - 1;
    if (a < 1 || r->attacks[a].kind != ADVC_ATK_SQUARE) return 0.0f;
    return r->robust_acc[r->judge][a - 1] - r->robust_acc[r->judge][a];
}

/* Above this (the reference's threshold, 0.2 points) Square's gain is
 * reported as a sign of gradient masking. */
#define SQUARE_GAIN_WARN 0.002f

/* The cascade's log, AutoAttack's way: robust accuracy after each attack
 * with the time so far. */
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
    if (square_gain(r) > SQUARE_GAIN_WARN)
        printf("WARNING: Square, which uses no gradient, lowered robust "
               "accuracy by %.2f points after the gradient attacks: their "
               "figures are unreliable here (gradient masking?)\n",
               100.0 * square_gain(r));
}

static void print_table(const advc_robust_report *r)
{
    char label[48];
    printf("%-8s %8s", "exit", "clean");
    for (int a = 0; a < r->nattacks; a++) {
        attack_label(&r->attacks[a], label, sizeof label);
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
}

static void print_json(const advc_robust_report *r, const eval_opts *o)
{
    for (int e = 0; e < r->exits; e++) {
        char name[32];
        exit_name(e, r->exits, name, sizeof name);
        printf("{\"model\":");
        json_string(stdout, o->model);
        printf(",\"exit\":\"%s\",\"n\":%d,\"clean_acc\":%.4f,\"seed\":%llu}\n",
               name, r->n, (double)r->clean_acc[e],
               (unsigned long long)o->seed);
        for (int a = 0; a <= r->nattacks && r->nattacks; a++) {
            int worst = a == r->nattacks;
            char label[48];
            if (worst)
                snprintf(label, sizeof label, r->cascade ? "aa" : "worst");
            else attack_label(&r->attacks[a], label, sizeof label);
            printf("{\"model\":");
            json_string(stdout, o->model);
            printf(",\"exit\":\"%s\",\"attack\":\"%s\"", name, label);
            if (!worst) {
                const advc_attack_config *c = &r->attacks[a];
                printf(",\"eps\":%g,\"steps\":%d,\"restarts\":%d",
                       (double)c->eps, c->steps, c->restarts);
                /* APGD adapts its step per sample: no single value. */
                if (effective_step(c) > 0)
                    printf(",\"step_size\":%g", (double)effective_step(c));
                if (c->kind == ADVC_ATK_FAB_T ||
                    (c->kind == ADVC_ATK_APGD_T && r->cascade))
                    printf(",\"target_classes\":%d", c->target_classes);
                if (c->kind == ADVC_ATK_FAB_T)
                    printf(",\"alpha_max\":%g,\"eta\":%g,\"beta\":%g,"
                           "\"final_search\":%s", (double)c->fab.alpha_max,
                           (double)c->fab.eta, (double)c->fab.beta,
                           c->fab.final_search ? "true" : "false");
                if (c->kind == ADVC_ATK_SQUARE)
                    printf(",\"p_init\":%g", (double)c->square.p_init);
                /* cascade: robust_acc is after this attack and the ones
                 * before it, on the judged exit's terms */
                if (r->cascade)
                    printf(",\"cascade\":true,\"seconds\":%.3f",
                           r->seconds[a]);
            } else {
                printf(",\"eps\":%g", (double)r->attacks[0].eps);
                if (r->cascade)
                    printf(",\"square_gain\":%.4f", (double)square_gain(r));
            }
            printf(",\"n\":%d,\"clean_acc\":%.4f,\"robust_acc\":%.4f,"
                   "\"seed\":%llu}\n", r->n, (double)r->clean_acc[e],
                   (double)(worst ? r->worst_acc[e] : r->robust_acc[e][a]),
                   (unsigned long long)o->seed);
        }
    }
}

static int run_checks(advc_graph *g, const advc_dataset *test, int n,
                      const eval_opts *o)
{
    advc_masking_report m;
    int steps = o->steps_set ? o->steps : 20;
    int lim = n < 500 ? n : 500;
    if (advc_masking_checks(g, test, lim, o->eps, steps, 1.0f, o->seed, &m) !=
        ADVC_OK)
        return cli_fail("eval");
    int fails = !m.large_eps_ok + !m.pgd_vs_fgsm_ok + !m.noise_ok +
                !m.zero_grad_ok + !m.fgsm_vs_clean_ok;
    if (o->json) {
        printf("{\"model\":");
        json_string(stdout, o->model);
        printf(",\"check\":\"gradient-masking\",\"n\":%d,\"eps\":%g,"
               "\"large_eps\":%g,\"large_eps_acc\":%.4f,\"fgsm_acc\":%.4f,"
               "\"pgd_acc\":%.4f,\"noise_acc\":%.4f,\"zero_grad_share\":%.4f,"
               "\"clean_acc\":%.4f,\"passed\":%s,\"seed\":%llu}\n",
               m.n, (double)m.eps, (double)m.large_eps,
               (double)m.acc_large_eps, (double)m.acc_fgsm,
               (double)m.acc_pgd, (double)m.acc_noise,
               (double)m.zero_grad_share, (double)m.acc_clean,
               fails ? "false" : "true",
               (unsigned long long)o->seed);
        return 0;
    }
    const char *ok = "  ok  ", *bad = "FAILED";
    printf("gradient-masking checks (n=%d, eps=%g, PGD-%d, final exit):\n",
           m.n, (double)m.eps, steps);
    printf("  [%s] PGD at eps %g leaves %.2f%% accuracy (want ~0)\n",
           m.large_eps_ok ? ok : bad, (double)m.large_eps,
           100.0 * m.acc_large_eps);
    printf("  [%s] PGD %.2f%% <= FGSM %.2f%%\n", m.pgd_vs_fgsm_ok ? ok : bad,
           100.0 * m.acc_pgd, 100.0 * m.acc_fgsm);
    printf("  [%s] FGSM %.2f%% <= clean %.2f%% (above: label leaking)\n",
           m.fgsm_vs_clean_ok ? ok : bad, 100.0 * m.acc_fgsm,
           100.0 * m.acc_clean);
    printf("  [%s] random noise %.2f%% >= PGD %.2f%%\n",
           m.noise_ok ? ok : bad, 100.0 * m.acc_noise, 100.0 * m.acc_pgd);
    printf("  [%s] all-zero input gradients: %.2f%% of samples\n",
           m.zero_grad_ok ? ok : bad, 100.0 * m.zero_grad_share);
    if (fails)
        printf("  WARNING: %d check(s) failed: the robust accuracy above may "
               "be false robustness (gradient masking)\n", fails);
    return 0;
}

static int parse_sweep(const char *s, float *eps, int max)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", s);
    int n = 0;
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        if (n == max) {
            fprintf(stderr, "advc eval: at most %d values in --eps-sweep\n",
                    max);
            return -1;
        }
        if (!cli_float("eval", "eps-sweep", tok, 0, 1e6, &eps[n])) return -1;
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "advc eval: --eps-sweep needs at least one value\n");
        return -1;
    }
    return n;
}

/* The evaluation the attack list asks for: AutoAttack's cascade for aa,
 * else each attack on every sample. */
static advc_status run_eval(advc_graph *g, const advc_dataset *test, int n,
                            const advc_attack_config *atk, int natk,
                            const eval_opts *o, advc_robust_report *r)
{
    if (o->cascade) return advc_eval_cascade(g, test, n, atk, natk, r);
    return advc_eval_robust(g, test, n, atk, natk, r);
}

static int run_sweep(advc_graph *g, const advc_dataset *test, int n,
                     const advc_attack_config *atk, int natk,
                     const eval_opts *o)
{
    float eps[MAX_SWEEP];
    int ne = parse_sweep(o->sweep, eps, MAX_SWEEP);
    if (ne < 0) return 2;
    FILE *csv = NULL;
    if (o->sweep_csv && !(csv = fopen(o->sweep_csv, "w"))) {
        fprintf(stderr, "advc eval: %s: cannot write the sweep CSV\n",
                o->sweep_csv);
        return 1;
    }
    char label[48];
    if (csv) {
        fprintf(csv, "eps");
        for (int a = 0; a < natk; a++) {
            attack_label(&atk[a], label, sizeof label);
            fprintf(csv, ",%s", label);
        }
        fprintf(csv, "\n");
    }
    if (!o->json) {
        printf("accuracy against eps (final exit, n=%d, seed %llu):\n%8s", n,
               (unsigned long long)o->seed, "eps");
        for (int a = 0; a < natk; a++) {
            attack_label(&atk[a], label, sizeof label);
            printf(" %14s", label);
        }
        printf("\n");
    }
    int rc = 0;
    for (int i = 0; i < ne && !rc; i++) {
        advc_attack_config cf[ADVC_EVAL_MAX_ATTACKS];
        for (int a = 0; a < natk; a++) {
            cf[a] = atk[a];
            cf[a].eps = eps[i];
        }
        advc_robust_report r;
        if (run_eval(g, test, n, cf, natk, o, &r) != ADVC_OK) {
            rc = cli_fail("eval");
            break;
        }
        int fin = r.exits - 1;
        if (o->json) {
            for (int a = 0; a < natk; a++) {
                attack_label(&cf[a], label, sizeof label);
                printf("{\"model\":");
                json_string(stdout, o->model);
                printf(",\"exit\":\"final\",\"attack\":\"%s\",\"eps\":%g,"
                       "\"steps\":%d,\"restarts\":%d,\"n\":%d,"
                       "\"clean_acc\":%.4f,\"robust_acc\":%.4f,"
                       "\"seed\":%llu,\"sweep\":true}\n", label,
                       (double)eps[i], cf[a].steps, cf[a].restarts, r.n,
                       (double)r.clean_acc[fin],
                       (double)r.robust_acc[fin][a],
                       (unsigned long long)o->seed);
            }
        } else {
            printf("%8g", (double)eps[i]);
            for (int a = 0; a < natk; a++)
                printf(" %13.2f%%", 100.0 * r.robust_acc[fin][a]);
            printf("\n");
        }
        if (csv) {
            fprintf(csv, "%g", (double)eps[i]);
            for (int a = 0; a < natk; a++)
                fprintf(csv, ",%.4f", (double)r.robust_acc[fin][a]);
            fprintf(csv, "\n");
        }
        fflush(stdout);
    }
    if (csv) {
        if (fclose(csv) != 0 && !rc) {
            fprintf(stderr, "advc eval: %s: write failed\n", o->sweep_csv);
            rc = 1;
        } else if (!rc && !o->json) {
            printf("sweep written to %s (plot: advc plot --sweep %s --out "
                   "sweep.svg)\n", o->sweep_csv, o->sweep_csv);
        }
    }
    return rc;
}

static int parse_args(int argc, char **argv, eval_opts *o)
{
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "data", required_argument, NULL, 'd' },
        { "attack", required_argument, NULL, 'a' },
        { "eps", required_argument, NULL, 'e' },
        { "steps", required_argument, NULL, 'k' },
        { "step-size", required_argument, NULL, 'z' },
        { "restarts", required_argument, NULL, 'r' },
        { "exit-mode", required_argument, NULL, 'x' },
        { "eps-sweep", required_argument, NULL, 'w' },
        { "sweep-csv", required_argument, NULL, 'c' },
        { "no-checks", no_argument, NULL, 'n' },
        { "limit", required_argument, NULL, 'L' },
        { "batch", required_argument, NULL, 'b' },
        { "seed", required_argument, NULL, 'S' },
        { "threads", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    const char *cmd = "eval";
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': o->model = optarg; break;
        case 'd': o->data_dir = optarg; break;
        case 'a': o->attacks = optarg; break;
        case 'e': ok = cli_float(cmd, "eps", optarg, 0, 1e6, &o->eps); break;
        case 'k':
            ok = cli_int(cmd, "steps", optarg, 1, 100000, &o->steps);
            o->steps_set = 1;
            break;
        case 'z':
            ok = cli_float(cmd, "step-size", optarg, 1e-9, 1e6, &o->step_size);
            o->step_size_set = 1;
            break;
        case 'r':
            ok = cli_int(cmd, "restarts", optarg, 1, 10000, &o->restarts);
            o->restarts_set = 1;
            break;
        case 'x': o->exit_mode = optarg; break;
        case 'w': o->sweep = optarg; break;
        case 'c': o->sweep_csv = optarg; break;
        case 'n': o->checks = 0; break;
        case 'L': ok = cli_int(cmd, "limit", optarg, 1, 100000000, &o->limit); break;
        case 'b': ok = cli_int(cmd, "batch", optarg, 1, 65536, &o->batch); break;
        case 'S': ok = cli_u64(cmd, "seed", optarg, &o->seed); break;
        case 't': ok = cli_int(cmd, "threads", optarg, 1, 1024, &o->threads); break;
        case 'j': o->json = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        default: return cli_bad_option(cmd, c, argv);
        }
        if (!ok) return 2;
    }
    if (optind < argc) return cli_extra_arg(cmd, argv);
    if (!o->model) return cli_usage_error(cmd, "--model FILE is required");
    if (!o->data_dir) return cli_usage_error(cmd, "--data DIR is required");
    if (o->sweep && !o->attacks)
        return cli_usage_error(cmd, "--eps-sweep needs --attack");
    if (o->sweep_csv && !o->sweep)
        return cli_usage_error(cmd, "--sweep-csv needs --eps-sweep");
    return -1; /* go on */
}

int cmd_eval(int argc, char **argv)
{
    eval_opts o = { NULL, NULL, NULL, NULL, NULL, "sum", 0, 256, 0, 0, 40,
                    1, 1, 0.3f, 0.0f, 0, 0, 1, 0, 0 };
    int rc = parse_args(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = 0;

    advc_dataset test;
    if (advc_dataset_load_dir(o.data_dir, false, &test) != ADVC_OK)
        return cli_fail("eval");
    advc_pool *pool = cli_pool("eval", o.threads);
    advc_graph *g = NULL;
    advc_checkpoint head;
    if (advc_model_load(o.model, o.batch, pool, &g, &head) != ADVC_OK) {
        rc = cli_fail("eval");
        goto done;
    }
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != test.c || in.h != test.h || in.w != test.w) {
        fprintf(stderr, "advc eval: %s takes %dx%dx%d images but %s holds "
                "%dx%dx%d\n", o.model, in.c, in.h, in.w, o.data_dir, test.c,
                test.h, test.w);
        rc = 1;
        goto done;
    }
    int exits = advc_graph_num_exits(g);
    int n = o.limit > 0 && o.limit < test.n ? o.limit : test.n;
    advc_attack_config atk[ADVC_EVAL_MAX_ATTACKS];
    int natk = 0;
    if (o.attacks && (natk = parse_attacks(&o, exits, atk)) < 0) {
        rc = 2;
        goto done;
    }
    if (o.sweep) {
        if (!o.json)
            printf("model %s (%s, act %s) on %s, test split\n", o.model,
                   head.spec, head.act, o.data_dir);
        rc = run_sweep(g, &test, n, atk, natk, &o);
        goto done;
    }
    advc_robust_report r;
    if (run_eval(g, &test, n, atk, natk, &o, &r) != ADVC_OK) {
        rc = cli_fail("eval");
        goto done;
    }
    if (o.json) {
        print_json(&r, &o);
    } else {
        printf("model %s (%s, act %s) on %s, test split, n=%d, seed %llu\n",
               o.model, head.spec, head.act, o.data_dir, n,
               (unsigned long long)o.seed);
        if (natk) print_settings(&r, o.seed);
        if (r.cascade) print_cascade_log(&r);
        print_table(&r);
    }
    if (natk && o.checks) rc = run_checks(g, &test, n, &o);
done:
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&test);
    return rc;
}
