/* test_resume.c: resuming a training run (src/adv/train_resume.c).
 *
 * For several recipes (std on maxout, whose dropout draws from the
 * graph's stream; fgsm-rs with SGD momentum, a cyclic schedule and
 * crop-flip; free, whose perturbation is carried between batches; trades,
 * which pins the dropout seed per batch; me-fgsm on a small multi-exit
 * msdnet with batch norm and per-exit L2), a run stopped three times (after
 * an epoch's checkpoints, in the middle of an epoch, after the last batch
 * of an epoch, each through cfg.stop as advc train's SIGINT handler does)
 * and resumed each time ends with the same checkpoint, best checkpoint and
 * CSV log (but the seconds) as the run never stopped, byte for byte.  The
 * log is also cut back when it holds an epoch the resume file does not
 * (a kill between the two writes).  Then: --epochs may grow (a constant
 * schedule then ends as the longer run), any other setting that differs
 * is refused naming its flag, and a run with all its epochs done is
 * refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "advc/checkpoint.h"
#include "advc/data.h"
#include "advc/models.h"
#include "advc/train.h"

#ifdef ADVC_SOURCE_DIR
#define DATA_DIR ADVC_SOURCE_DIR "/data/"
#else
#define DATA_DIR "data/"
#endif

#define NIMG 300  /* training images: 50 held out by the guard, 250 left */
#define BATCH 50  /* so 5 batches per epoch                              */
#define STEPS 5

typedef struct {
    const char *name, *spec;
    advc_recipe recipe;
    int epochs;
    bool sgd_cyclic_crop; /* SGD momentum, cyclic schedule, crop-flip */
} rcase;

static const rcase cases[] = {
    { "std", "maxout:units=40,pieces=2", ADVC_RECIPE_STD, 3, false },
    { "fgsm-rs", "cnn-small", ADVC_RECIPE_FGSM_RS, 3, true },
    { "free", "cnn-small", ADVC_RECIPE_FREE, 6, false }, /* 3 loop epochs */
    { "trades", "cnn-small", ADVC_RECIPE_TRADES, 3, false },
    { "me-fgsm", "msdnet:blocks=2,scales=2,base=4,growth=2,head=8",
      ADVC_RECIPE_ME_FGSM, 3, false },
};

typedef struct {
    int epoch, batch; /* stop when asked at exactly this point */
    int asked;        /* how often it was asked there          */
} stop_at;

static bool stop_here(void *ctx, int epoch, int batch)
{
    stop_at *s = ctx;
    if (epoch != s->epoch || batch != s->batch) return false;
    s->asked++;
    return true;
}

typedef struct {
    advc_dataset d;
    tu_tmpdir dir;
    char out[256], log[256];
} fixture;

static void open_fixture(fixture *f, const char *tag)
{
    advc_dataset all;
    ck_assert(advc_dataset_load_dir(DATA_DIR "mnist-sample", true, &all) ==
              ADVC_OK);
    ck_assert(advc_dataset_slice(&all, 0, NIMG, &f->d) == ADVC_OK);
    advc_dataset_free(&all);
    tu_tmpdir_make(&f->dir, tag);
}

static void close_fixture(fixture *f)
{
    advc_dataset_free(&f->d);
    tu_tmpdir_remove(&f->dir);
}

/* out and log for run `name` in the fixture's directory. */
static void name_run(fixture *f, const char *name)
{
    char b[64];
    snprintf(b, sizeof b, "%s.advc", name);
    snprintf(f->out, sizeof f->out, "%s", tu_tmpdir_path(&f->dir, b));
    snprintf(b, sizeof b, "%s.csv", name);
    snprintf(f->log, sizeof f->log, "%s", tu_tmpdir_path(&f->dir, b));
}

static advc_train_config case_config(const rcase *c, const fixture *f)
{
    advc_train_config cfg = advc_train_defaults();
    cfg.recipe = c->recipe;
    cfg.epochs = c->epochs;
    cfg.batch = BATCH;
    cfg.seed = 3;
    cfg.rc.eps = 0.1f;
    cfg.rc.steps = 2;
    cfg.rc.replays = 2;
    cfg.guard.count = 50;
    cfg.guard.steps = 3;
    if (c->sgd_cyclic_crop) {
        cfg.opt = advc_opt_defaults(ADVC_OPT_SGD);
        advc_schedule_parse("cyclic", 0.05f, &cfg.sched);
        cfg.augment = ADVC_AUGMENT_CROP_FLIP;
    }
    cfg.progress = ADVC_PROGRESS_NONE;
    cfg.out_path = f->out;
    cfg.log_path = f->log;
    cfg.spec = c->spec;
    cfg.init = ADVC_INIT_UNIFORM;
    return cfg;
}

/* One advc_train call on a freshly built model (weights from seed 3). */
static advc_status run(const fixture *f, const rcase *c,
                       const advc_train_config *cfg, advc_train_result *res)
{
    advc_graph *g = NULL;
    advc_shape in = { 1, 28, 28 };
    advc_act_spec relu = { ADVC_ACT_RELU, 0 };
    ck_assert(advc_model_build(c->spec, in, 10, relu, &g) == ADVC_OK);
    ck_assert(advc_graph_compile(g, BATCH, NULL) == ADVC_OK);
    advc_graph_init_params_as(g, 3, ADVC_INIT_UNIFORM);
    advc_status st = advc_train(g, &f->d, cfg, res);
    advc_graph_free(g);
    return st;
}

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_msg(fp != NULL, "%s: missing", path);
    fseek(fp, 0, SEEK_END);
    long len = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, fp), (size_t)len);
    fclose(fp);
    b[len] = '\0';
    *n = (size_t)len;
    return b;
}

/* a and b hold the same bytes, or neither exists (a best checkpoint when
 * no epoch was better than chance). */
static void same_file(const char *a, const char *b, const char *what)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    ck_assert_msg(!fa == !fb, "%s: only one of %s and %s exists", what, a, b);
    if (!fa) return;
    fclose(fa), fclose(fb);
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    ck_assert_msg(na == nb && memcmp(x, y, na) == 0, "%s: %s and %s differ",
                  what, a, b);
    free(x), free(y);
}

/* The CSV without its last column (seconds). */
/* Drops the 9th field ("seconds", the wall time) from every line of a
 * training log; per-exit columns, if any, follow it and are kept. */
static void drop_seconds(char *csv)
{
    char *w = csv;
    for (char *line = csv; *line;) {
        char *nl = strchr(line, '\n'), *end = nl ? nl : line + strlen(line);
        int field = 0;
        for (char *p = line; p < end; p++) {
            if (*p == ',')
                field++;
            if (field != 8)
                *w++ = *p;
        }
        *w++ = '\n';
        line = nl ? nl + 1 : end;
    }
    *w = '\0';
}

static void same_log(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    drop_seconds(x);
    drop_seconds(y);
    ck_assert_msg(strcmp(x, y) == 0, "logs differ:\n%s---\n%s", x, y);
    free(x), free(y);
}

static void append(const char *path, const char *text)
{
    FILE *fp = fopen(path, "a");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    fclose(fp);
}

/* The same run stopped at each of stops[] in turn (each resumed from the
 * one before), then run to the end. */
static void stopped_run(fixture *f, const rcase *c, const stop_at *stops,
                        int nstops)
{
    advc_train_result res;
    for (int k = 0; k <= nstops; k++) {
        advc_train_config cfg = case_config(c, f);
        stop_at s = k < nstops ? stops[k] : (stop_at){ -1, -1, 0 };
        cfg.resume = k > 0;
        cfg.stop = stop_here;
        cfg.stop_ctx = &s;
        advc_status st = run(f, c, &cfg, &res);
        ck_assert_msg(st == ADVC_OK, "%s leg %d: %s", c->name, k,
                      advc_last_error());
        ck_assert_int_eq(res.interrupted, k < nstops);
        if (k == nstops) break;
        ck_assert_int_eq(s.asked, 1);
        ck_assert_int_eq(res.epochs_done, s.batch ? s.epoch - 1 : s.epoch);
        ck_assert_int_eq(res.at_batch, s.batch);
        /* A kill after the CSV line of the next epoch and before its
         * checkpoint leaves a line (and maybe half of one) too many. */
        if (k == 0) append(f->log, "99,0.1,1,1,,,,,0.1\n98,0.1");
    }
}

START_TEST(resume_bit_identical)
{
    const rcase *c = &cases[_i];
    fixture f;
    open_fixture(&f, "resume");
    name_run(&f, "ref");
    advc_train_config cfg = case_config(c, &f);
    advc_train_result res;
    ck_assert_msg(run(&f, c, &cfg, &res) == ADVC_OK, "%s", advc_last_error());
    advc_guard_point best = res.best;
    char ref[256], ref_best[256], ref_log[256], got_best[256];
    snprintf(ref, sizeof ref, "%s", f.out);
    snprintf(ref_log, sizeof ref_log, "%s", f.log);
    advc_train_best_path(ref, ref_best, sizeof ref_best);

    name_run(&f, "stopped");
    const stop_at stops[3] = {
        { 1, 0, 0 },     /* after epoch 1's checkpoints          */
        { 2, 2, 0 },     /* after batch 2 of epoch 2             */
        { 3, STEPS, 0 }, /* after the last batch of epoch 3      */
    };
    stopped_run(&f, c, stops, 3);
    same_file(ref, f.out, c->name);
    advc_train_best_path(f.out, got_best, sizeof got_best);
    same_file(ref_best, got_best, c->name);
    same_log(ref_log, f.log);
    printf("resume: %s: stopped 3 times and resumed: the same bits (best "
           "epoch %d, held-out PGD %.0f%%)\n", c->name, best.epoch,
           100.0 * best.pgd);
    close_fixture(&f);
}
END_TEST

/* --epochs grows: with a constant schedule, 2 epochs then 3 end as 3. */
START_TEST(resume_more_epochs)
{
    const rcase *c = &cases[1];
    fixture f;
    open_fixture(&f, "resume");
    name_run(&f, "three");
    advc_train_config cfg = case_config(c, &f);
    cfg.opt = advc_opt_defaults(ADVC_OPT_ADAM);
    advc_schedule_parse("constant", 2e-3f, &cfg.sched);
    advc_train_result res;
    ck_assert(run(&f, c, &cfg, &res) == ADVC_OK);
    char three[256];
    snprintf(three, sizeof three, "%s", f.out);
    name_run(&f, "grown");
    cfg.out_path = f.out;
    cfg.log_path = f.log;
    cfg.epochs = 2;
    ck_assert(run(&f, c, &cfg, &res) == ADVC_OK);
    cfg.epochs = 3;
    cfg.resume = true;
    ck_assert_msg(run(&f, c, &cfg, &res) == ADVC_OK, "%s", advc_last_error());
    same_file(three, f.out, "2 + 1 epochs");
    /* All epochs done: nothing to resume. */
    ck_assert_int_eq(run(&f, c, &cfg, &res), ADVC_ERR_ARG);
    ck_assert_msg(strstr(advc_last_error(), "larger --epochs"), "%s",
                  advc_last_error());
    close_fixture(&f);
}
END_TEST

/* Any other setting that differs is refused, naming its flag. */
START_TEST(resume_refuses_other_runs)
{
    const rcase *c = &cases[1];
    fixture f;
    open_fixture(&f, "resume");
    name_run(&f, "a");
    advc_train_config cfg = case_config(c, &f);
    advc_train_result res;
    stop_at s = { 1, 2, 0 };
    cfg.stop = stop_here;
    cfg.stop_ctx = &s;
    ck_assert(run(&f, c, &cfg, &res) == ADVC_OK && res.interrupted);
    cfg.stop = NULL;
    cfg.resume = true;
    static const char *const flags[] = { "--lr", "--seed", "--eps",
                                         "--augment", "--recipe",
                                         "--model" };
    for (int k = 0; k < 6; k++) {
        advc_train_config x = cfg;
        if (k == 0) x.sched.lr *= 2;
        if (k == 1) x.seed = 4;
        if (k == 2) x.rc.eps = 0.2f;
        if (k == 3) x.augment = ADVC_AUGMENT_NONE;
        if (k == 4) x.recipe = ADVC_RECIPE_N_FGSM;
        if (k == 5) x.spec = "cnn"; /* (the graph stays cnn-small) */
        ck_assert_int_eq(run(&f, c, &x, &res), ADVC_ERR_ARG);
        ck_assert_msg(strstr(advc_last_error(), flags[k]), "%s: %s",
                      flags[k], advc_last_error());
    }
    /* Other training data. */
    advc_dataset full = f.d;
    ck_assert(advc_dataset_slice(&full, 0, NIMG - 10, &f.d) == ADVC_OK);
    ck_assert_int_eq(run(&f, c, &cfg, &res), ADVC_ERR_ARG);
    ck_assert_msg(strstr(advc_last_error(), "--data"), "%s",
                  advc_last_error());
    advc_dataset_free(&f.d);
    f.d = full;
    /* The same settings go on. */
    ck_assert_msg(run(&f, c, &cfg, &res) == ADVC_OK, "%s", advc_last_error());
    /* No resume file: a bad file, named. */
    name_run(&f, "never");
    cfg.out_path = f.out;
    ck_assert_int_eq(run(&f, c, &cfg, &res), ADVC_ERR_IO);
    ck_assert_msg(strstr(advc_last_error(), "never.advc.resume"), "%s",
                  advc_last_error());
    close_fixture(&f);
}
END_TEST

/* Two suites, so that `advc-tests -j` runs the costly resumed runs (the
 * last recipes of `cases`: trades and me-fgsm) beside the others. */
#define NCASES ((int)(sizeof cases / sizeof *cases))
#define SPLIT_AT 3 /* cases[SPLIT_AT..] go to resume_more */

Suite *advc_suite_resume(void)
{
    Suite *s = suite_create("resume");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, resume_bit_identical, 0, SPLIT_AT);
    tcase_add_test(tc, resume_more_epochs);
    tcase_add_test(tc, resume_refuses_other_runs);
    suite_add_tcase(s, tc);
    return s;
}

Suite *advc_suite_resume_more(void)
{
    Suite *s = suite_create("resume_more");
    TCase *tc = tcase_create("resume");
    tcase_set_timeout(tc, 600);
    tcase_add_loop_test(tc, resume_bit_identical, SPLIT_AT, NCASES);
    suite_add_tcase(s, tc);
    return s;
}
