/* cmd_train.c: `advc train`: build a model from a spec, train it on a data
 * directory with a recipe (src/adv/recipe_*.c), write the last and best
 * checkpoints (every epoch, temp file + rename) and an optional CSV log.
 * Its flags are three groups of rows: this file's, the library's training
 * settings (train_params.c) and the recipes' own (each recipe's
 * descriptor), so --help, parsing and the checks come from one place. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advc/advc.h"
#include "cli.h"
#include "cli_util.h"

typedef struct {
    const char *data, *model, *out, *log;
    advc_act_spec act;
    int init, limit, threads, recipe;
    bool resume;
    advc_train_config cfg;
} train_opts;

/* "std|fgsm|..." from the recipe table. */
static const char *recipe_choices(void)
{
    static char buf[256];
    if (!buf[0])
        for (int r = 0; r < ADVC_RECIPE_COUNT; r++) {
            size_t k = strlen(buf);
            snprintf(buf + k, sizeof buf - k, "%s%s", r ? "|" : "",
                     advc_recipe_name((advc_recipe)r));
        }
    return buf;
}

#define T_ROW(flag, meta, type, field, lo, hi, def, help)                    \
    CLI_ROW(flag, meta, type, train_opts, field, lo, hi, def, help)

static const advc_param *train_rows(int *n)
{
    static advc_param rows[] = {
        CLI_ROW_DATA(train_opts, data),
        T_ROW("model", "SPEC", ADVC_PARAM_TEXT, model, 0, 0, NULL,
              "name[:key=value,...], see the models below"),
        CLI_ROW_ACT(train_opts, act),
        T_ROW("init", "I", ADVC_PARAM_CHOICE, init, 0, 0,
              "uniform for linear, mlp, maxout, cnn-small, cnn; he for "
              "resnet, msdnet and --act softplus",
              "initialisation (he: N(0, 2/fan_in) weights, zero biases; "
              "uniform: U(+-1/sqrt(fan_in)) weights and biases, PyTorch's "
              "layer default)"),
        { "recipe", "R", ADVC_PARAM_CHOICE, offsetof(train_opts, recipe), 0,
          0, 0, "std", "training recipe, see the recipes below", NULL, 0, 0,
          NULL, NULL },
        CLI_ROW_LIMIT(train_opts, limit, "train on the first N training "
                      "images only"),
        CLI_ROW_THREADS(train_opts, threads),
        T_ROW("out", "FILE", ADVC_PARAM_TEXT, out, 0, 0, "model.advc",
              "the checkpoint, rewritten every epoch; the best epoch goes "
              "beside it with .best before the extension"),
        T_ROW("log", "FILE.csv", ADVC_PARAM_TEXT, log, 0, 0, NULL,
              "per-epoch CSV: epoch,lr,loss,train_acc,val_acc,clean_acc,"
              "fgsm_acc,pgd_acc,seconds (the guard's accuracies; empty when "
              "not measured)"),
        T_ROW("resume", NULL, ADVC_PARAM_FLAG, resume, 0, 0, "off",
              "go on with the run saved in --out's FILE.resume (written "
              "every epoch, and on SIGINT or SIGTERM after the current "
              "batch): give the same flags; --epochs may grow"),
    };
    rows[3].choices = "he|uniform";
    rows[4].choices = recipe_choices();
    *n = CLI_NROWS(rows);
    return rows;
}

/* Every recipe's rows, each flag once: the deferred group. */
static const advc_param *recipe_union(int *n)
{
    static advc_param rows[CLI_MAX_ROWS];
    static int count = -1;
    if (count < 0) {
        count = 0;
        for (int r = 0; r < ADVC_RECIPE_COUNT; r++) {
            const advc_recipe_desc *d = advc_recipe_describe((advc_recipe)r);
            for (int i = 0; i < d->nparams; i++)
                if (advc_param_find(rows, count, d->params[i].flag) < 0 &&
                    count < CLI_MAX_ROWS)
                    rows[count++] = d->params[i];
        }
    }
    *n = count;
    return rows;
}

static void recipes_help(FILE *f)
{
    fprintf(f, "Recipes (--recipe R) and the settings each reads:\n");
    for (int r = 0; r < ADVC_RECIPE_COUNT; r++) {
        const advc_recipe_desc *d = advc_recipe_describe((advc_recipe)r);
        fprintf(f, "  %-10s %s%s%s%s\n", d->name, d->summary,
                strcmp(d->paper, "-") ? " [" : "",
                strcmp(d->paper, "-") ? d->paper : "",
                strcmp(d->paper, "-") ? "]" : "");
        cli_help_rows(f, d->params, d->nparams, 4, 26);
        if (d->train_defaults)
            fprintf(f, "    and, unless given: %s\n", d->train_defaults);
    }
    fprintf(f, "\nThe methods, formulas and published settings: "
            "src/adv/METHODS.md.\n\n%s", advc_model_usage());
}

static void describe(cli_parsed *p, void *vo)
{
    train_opts *o = vo;
    int n;
    const advc_param *rows = train_rows(&n);
    cli_add_group(p, "Options", rows, n, o);
    rows = advc_train_params(&n);
    cli_add_group(p, "Training and the overfitting guard", rows, n, &o->cfg);
    rows = recipe_union(&n);
    cli_add_group(p, NULL, rows, n, NULL);
}

const cli_spec cmd_train_spec = {
    "train", "--data DIR --model SPEC [options]",
    "Trains a model on DIR's training split with a recipe and writes it to "
    "--out after every epoch (a temporary file renamed over it, so --out "
    "is always a whole checkpoint). After each epoch the overfitting guard "
    "attacks held-out images with FGSM and PGD; a drop of more than "
    "--co-threshold below the best epoch stops training and --out keeps "
    "the epoch before.",
    0, NULL, recipes_help, NULL
};

/* ---- checks before any work ---------------------------------------------- */

/* "m.advc" must be a file we can create: its directory exists and is
 * writable, and it is not itself a directory. */
static int check_out(const char *flag, const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == dir) dir[1] = '\0';
    else if (slash) *slash = '\0';
    else snprintf(dir, sizeof dir, ".");
    const char *why = NULL;
    if (cli_is_dir(path)) why = "is a directory";
    else if (!cli_is_dir(dir)) why = "its directory does not exist";
    else if (access(dir, W_OK) != 0) why = "its directory is not writable";
    if (!why) return 0;
    fprintf(stderr, "advc train: bad value '%s' for --%s: %s\n", path, flag,
            why);
    return 2;
}

static bool flag_given(void *ctx, const char *flag)
{
    return cli_given(ctx, flag) != NULL;
}

/* The recipe's own flags onto cfg.rc (the others are refused), then its
 * recommended training settings where no flag chose them. */
static int apply_recipe(const cli_parsed *p, train_opts *o)
{
    o->cfg.recipe = (advc_recipe)o->recipe;
    const advc_recipe_desc *d = advc_recipe_describe(o->cfg.recipe);
    bool used[CLI_MAX_ROWS] = { false };
    char whose[64];
    snprintf(whose, sizeof whose, "recipe %s", d->name);
    int rc = cli_apply("train", p, 2, d->params, d->nparams, &o->cfg.rc, used,
                       whose);
    if (rc) return rc;
    snprintf(whose, sizeof whose, "--recipe %s", d->name);
    if ((rc = cli_refuse_unused("train", p, 2, used, whose)) != 0) return rc;
    if (advc_train_recipe_defaults(&o->cfg, flag_given, (void *)p) != ADVC_OK)
        return cli_fail("train");
    return 0;
}

/* ---- SIGINT and SIGTERM ---------------------------------------------------- */

/* The first SIGINT or SIGTERM asks training to stop after the current
 * batch (it writes the resumable state, then advc train exits with 128 +
 * the signal's number); the handler is then reset, so a second one ends
 * the process at once (the files on disk are whole either way).
 * ADVC_TEST_SIGNAL_AT=E:B, for tests only, sends SIGINT to the process
 * when batch B of epoch E is done (B = 0: after epoch E's checkpoints),
 * a deterministic point to interrupt at. */
static volatile sig_atomic_t got_signal;

static void on_signal(int sig) { got_signal = sig; }

typedef struct {
    int epoch, batch; /* ADVC_TEST_SIGNAL_AT, or -1 */
} stop_ctx;

static bool stop_requested(void *ctx, int epoch, int batch)
{
    const stop_ctx *c = ctx;
    if (epoch == c->epoch && batch == c->batch) raise(SIGINT);
    return got_signal != 0;
}

/* The handlers, and the test's point from the environment (exit 2 for a
 * malformed one). */
static int catch_signals(stop_ctx *c, struct sigaction old[2])
{
    const char *at = getenv("ADVC_TEST_SIGNAL_AT");
    char tail;
    c->epoch = c->batch = -1;
    if (at && (sscanf(at, "%d:%d%c", &c->epoch, &c->batch, &tail) != 2 ||
               c->epoch < 1 || c->batch < 0))
        return cli_usage_error("train", "ADVC_TEST_SIGNAL_AT wants EPOCH:"
                               "BATCH");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESETHAND; /* a second signal: the default action */
    sigemptyset(&sa.sa_mask);
    got_signal = 0;
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    return 0;
}

static void release_signals(const struct sigaction old[2])
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
}

/* "interrupted (SIGINT) after batch 37 of epoch 3: ..." and 128 + sig. */
static int report_interrupt(const train_opts *o, const advc_train_result *res)
{
    char where[96], path[4096 + 8];
    if (res->at_batch > 0)
        snprintf(where, sizeof where, "after batch %d of epoch %d",
                 res->at_batch, res->epochs_done + 1);
    else
        snprintf(where, sizeof where, "after epoch %d", res->epochs_done);
    advc_train_resume_path(o->out, path, sizeof path);
    if (o->cfg.progress == ADVC_PROGRESS_LIVE) fputc('\n', stderr);
    fprintf(stderr, "advc train: interrupted (%s) %s: the run is saved in "
            "%s; the same command with --resume goes on\n",
            got_signal == SIGTERM ? "SIGTERM" : "SIGINT", where, path);
    return 128 + (got_signal ? got_signal : SIGINT);
}

/* ---- the run ------------------------------------------------------------- */

static int load_data(const train_opts *o, advc_dataset *data, char *test_fp,
                     size_t fpsz)
{
    advc_dataset all, test;
    if (advc_dataset_load_dir(o->data, true, &all) != ADVC_OK)
        return cli_fail("train");
    *data = all;
    if (o->limit > 0 && o->limit < all.n) {
        advc_status st = advc_dataset_slice(&all, 0, o->limit, data);
        advc_dataset_free(&all);
        if (st != ADVC_OK) return cli_fail("train");
    }
    test_fp[0] = '\0';
    if (advc_dataset_load_dir(o->data, false, &test) == ADVC_OK)
        advc_dataset_fingerprint(&test, test_fp, fpsz);
    advc_dataset_free(&test);
    if (o->cfg.val_count >= data->n) {
        fprintf(stderr, "advc train: bad value '%d' for --val: it leaves no "
                "training images (the set has %d)\n", o->cfg.val_count,
                data->n);
        advc_dataset_free(data);
        return 2;
    }
    return 0;
}

/* "epoch 7 (held-out clean 98.0%, FGSM 91.0%, PGD 89.0%)" */
static void print_point(const char *what, const advc_guard_point *p,
                        const char *path)
{
    fprintf(stderr, "advc train: %s epoch %d (held-out clean %.1f%%, FGSM "
            "%.1f%%, PGD %.1f%%)%s%s\n", what, p->epoch, 100.0 * p->clean,
            100.0 * p->fgsm, 100.0 * p->pgd, path ? " in " : "",
            path ? path : "");
}

static void report(const train_opts *o, const advc_train_result *res)
{
    fprintf(stderr, "advc train: %d epochs in %.1fs (%.0f img/s); wrote %s\n",
            res->epochs_done, res->seconds,
            res->seconds > 0 ? (double)res->steps * o->cfg.batch / res->seconds
                             : 0.0, o->out);
    if (res->guard_n == 0) return;
    char best[4096];
    advc_train_best_path(o->out, best, sizeof best);
    if (res->co.epoch > 0)
        print_point(res->stopped ? "catastrophic overfitting, stopped at"
                                 : "catastrophic overfitting from",
                    &res->co, NULL);
    if (res->fgsm_only)
        fprintf(stderr, "advc train: warning: the model never became robust: "
                "its last held-out FGSM accuracy is %.1f%% but PGD %.1f%% "
                "(robust only to the step it trains on)\n",
                100.0 * res->last.fgsm, 100.0 * res->last.pgd);
    if (res->last.epoch > 0) print_point("last:", &res->last, o->out);
    if (res->best.epoch > 0) print_point("best:", &res->best, best);
    else
        fprintf(stderr, "advc train: no best epoch: held-out accuracy "
                "stayed at chance level; nothing written to %s\n", best);
}

static int train(train_opts *o, advc_dataset *data, const char *test_fp)
{
    advc_pool *pool = cli_pool("train", o->threads);
    advc_graph *g = NULL;
    advc_shape in = { data->c, data->h, data->w };
    int rc = 0;
    if (advc_model_build(o->model, in, data->classes, o->act, &g) != ADVC_OK ||
        advc_graph_compile(g, o->cfg.batch, pool) != ADVC_OK) {
        rc = cli_fail("train");
        goto done;
    }
    if (advc_train_check(g, &o->cfg) != ADVC_OK) {
        fprintf(stderr, "advc train: %s\n", advc_last_error());
        rc = 2;
        goto done;
    }
    advc_graph_init_params_as(g, o->cfg.seed, o->cfg.init);
    if (o->cfg.resume &&
        advc_train_resume_check(g, data, &o->cfg) != ADVC_OK) {
        rc = cli_fail("train");
        goto done;
    }
    char act[48];
    advc_act_spec_format(o->act, act, sizeof act);
    fprintf(stderr, "advc train: %s (%zu parameters, act %s, init %s) on %s: "
            "%d images, %d threads\n", o->model, advc_graph_num_params(g),
            act, advc_init_name(o->cfg.init), o->data, data->n,
            advc_pool_threads(pool));
    stop_ctx sc;
    struct sigaction old[2];
    if ((rc = catch_signals(&sc, old)) != 0) goto done;
    o->cfg.stop = stop_requested;
    o->cfg.stop_ctx = &sc;
    advc_train_result res;
    advc_status st = advc_train(g, data, &o->cfg, &res);
    release_signals(old);
    if (st != ADVC_OK) rc = cli_fail("train");
    else if (res.interrupted) rc = report_interrupt(o, &res);
    else report(o, &res);
done:
    (void)test_fp;
    advc_graph_free(g);
    advc_pool_destroy(pool);
    return rc;
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    memset(&o, 0, sizeof o);
    o.out = "model.advc";
    o.act.f = ADVC_ACT_RELU;
    o.cfg = advc_train_defaults();
    o.cfg.sched.lr = 0; /* the optimizer's default unless --lr */
    cli_parsed p;
    int rc = cli_begin(&cmd_train_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.data) return cli_usage_error("train", "--data DIR is required");
    if (!o.model) return cli_usage_error("train", "--model SPEC is required");
    if ((rc = apply_recipe(&p, &o)) != 0) return rc;
    if ((rc = check_out("out", o.out)) != 0) return rc;
    if (o.log && (rc = check_out("log", o.log)) != 0) return rc;
    o.cfg.init = cli_given(&p, "init") ? (advc_init)o.init
                                       : advc_model_default_init_for(o.model, o.act);
    o.cfg.act = o.act;
    o.cfg.spec = o.model;
    o.cfg.out_path = o.out;
    o.cfg.log_path = o.log;
    o.cfg.resume = o.resume;
    o.cfg.progress = isatty(2) ? ADVC_PROGRESS_LIVE : ADVC_PROGRESS_EPOCH;

    advc_dataset data;
    char test_fp[32], name[256];
    if ((rc = load_data(&o, &data, test_fp, sizeof test_fp)) != 0) return rc;
    cli_dir_name(o.data, name, sizeof name);
    o.cfg.data_name = name;
    o.cfg.data_test = test_fp[0] ? test_fp : NULL;
    rc = train(&o, &data, test_fp);
    advc_dataset_free(&data);
    return rc;
}

void cmd_train_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_train_opts_size(void) { return sizeof(train_opts); }
