/* train_resume.c: a training run saved so that it can go on later, and
 * going on (advc train --resume), a named step of the loop in train.c.
 *
 * After every epoch's checkpoints, and where a stop is asked for (SIGINT
 * or SIGTERM in advc train, mid-epoch after the current batch), the run
 * writes NAME.resume beside its checkpoint NAME (advc_train_resume_path),
 * in the checkpoint format (src/io/checkpoint.c) with one rename, so the
 * file is always one consistent moment of the run:
 *   tensors   the model's (as in NAME), then resume.opt.m and resume.opt.v
 *             (the optimizer's slabs: SGD velocity, Adam moments) and, for
 *             free training, resume.free.delta (the perturbation carried
 *             from batch to batch);
 *   metadata  the run's settings (the same rows as NAME's), init and the
 *             training data's fingerprint, and the position: epochs done,
 *             batches of the next epoch done, the recipes' batch counter
 *             (their random starts are keyed by it), the graph's dropout
 *             stream (seed and step), the optimizer's step count, the
 *             epoch's running loss and accuracy sums, and the guard's
 *             last, best and collapse points.  Floating-point state is
 *             written as hexadecimal floats ("%a"), so it reads back to
 *             the same bits; the last batch's learning rate is kept for
 *             the epoch's log line.
 * The shuffle is not stored: each epoch's order is the previous one
 * shuffled by the stream (seed, 1000 + epoch), replayed on resume.  The
 * augmentation and the recipes' streams are keyed by position, the
 * schedule is a function of it.  So a resumed run takes exactly the steps
 * the uninterrupted run would have, and ends with the same checkpoint.
 *
 * Resuming checks first that it goes on with the same run: every setting
 * row, the model spec, activation, init and training data must match
 * those recorded (a one-line error naming the first flag that differs),
 * except --epochs, which may grow (a schedule that depends on the total,
 * cosine or cyclic, then bends from there on).  A different thread count
 * is only warned about: the bits may differ, the run is still sound.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "advc/checkpoint.h"
#include "advc/models.h"
#include "train_internal.h"

#define TENSOR_PREFIX "resume."

void advc_train_resume_path(const char *out, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s.resume", out);
}

/* ---- writing ---------------------------------------------------------------- */

typedef struct {
    char *meta;
    size_t sz;
    advc_status st; /* the first failure */
} meta_out;

static void put(meta_out *m, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void put(meta_out *m, const char *key, const char *fmt, ...)
{
    char v[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v, sizeof v, fmt, ap);
    va_end(ap);
    if (m->st == ADVC_OK) m->st = advc_meta_set(m->meta, m->sz, key, v);
}

static void put_point(meta_out *m, const char *key, const advc_guard_point *p)
{
    put(m, key, "%d,%a,%a,%a", p->epoch, (double)p->clean, (double)p->fgsm,
        (double)p->pgd);
}

/* The settings, what the run was made from, and its position. */
static advc_status resume_meta(const train_run *t, int epochs, int batches,
                               char *meta, size_t sz)
{
    const advc_train_result *res = t->res;
    meta_out m = { meta, sz, ADVC_OK };
    uint64_t gseed, gstep;
    advc_graph_rng_state(t->g, &gseed, &gstep);
    train_settings(&t->cfg, &t->rc, '\n', meta, sz);
    if (t->cfg.init < ADVC_INIT_COUNT)
        put(&m, "init", "%s", advc_init_name(t->cfg.init));
    put(&m, "data_train", "%s", t->data_train);
    put(&m, "resume_threads", "%d", advc_pool_threads(advc_graph_pool(t->g)));
    put(&m, "resume_epoch", "%d", epochs);
    put(&m, "resume_batch", "%d", batches);
    put(&m, "resume_batch_index", "%ld", t->sc.batch_index);
    put(&m, "resume_graph_seed", "%llu", (unsigned long long)gseed);
    put(&m, "resume_graph_step", "%llu", (unsigned long long)gstep);
    put(&m, "resume_opt_steps", "%ld", advc_optimizer_steps(t->opt));
    put(&m, "resume_steps", "%ld", res->steps);
    put(&m, "resume_seconds", "%a", res->seconds);
    put(&m, "resume_epoch_seconds", "%a", batches > 0 ? t->sec : 0.0);
    put(&m, "resume_lr", "%a", (double)t->lr); /* the last batch's */
    put(&m, "resume_loss_sum", "%a", batches > 0 ? t->loss_sum : 0.0);
    put(&m, "resume_nloss", "%ld", batches > 0 ? t->nloss : 0);
    put(&m, "resume_correct", "%ld", batches > 0 ? t->correct : 0);
    put(&m, "resume_seen", "%ld", batches > 0 ? t->seen : 0);
    put_point(&m, "resume_last", &res->last);
    put_point(&m, "resume_best", &res->best);
    put_point(&m, "resume_co", &res->co);
    put(&m, "resume_stopped", "%d", res->stopped ? 1 : 0);
    if (m.st == ADVC_OK) return ADVC_OK;
    char why[256]; /* copied: the message is rewritten below */
    snprintf(why, sizeof why, "%s", advc_last_error());
    return advc_set_error(ADVC_ERR_ARG, "the resume state does not fit the "
                          "checkpoint's metadata: %s", why);
}

/* A 1-D state tensor named "resume.<name>" over data (count floats). */
static void add_tensor(advc_checkpoint *ck, const char *name, float *data,
                       size_t count)
{
    advc_ckpt_tensor *t = &ck->tensors[ck->ntensors++];
    snprintf(t->name, sizeof t->name, TENSOR_PREFIX "%s", name);
    t->kind = ADVC_TENSOR_STATE;
    t->ndim = 1;
    t->dims[0] = (int)count;
    t->count = count;
    t->data = data;
}

advc_status resume_save(train_run *t, int epochs, int batches)
{
    const advc_train_config *cfg = &t->cfg;
    if (!cfg->out_path) return ADVC_OK;
    char path[4096 + 8];
    advc_train_resume_path(cfg->out_path, path, sizeof path);
    advc_checkpoint ck;
    char meta[sizeof ck.meta];
    advc_status st = resume_meta(t, epochs, batches, meta, sizeof meta);
    if (st == ADVC_OK)
        st = advc_model_checkpoint(path, t->g, cfg->spec ? cfg->spec : "?",
                                   cfg->act, meta, 3, &ck);
    if (st != ADVC_OK) return st;
    size_t n;
    for (int slab = 0; slab < 2; slab++) {
        float *p = advc_optimizer_state(t->opt, slab, &n);
        if (p) add_tensor(&ck, slab ? "opt.v" : "opt.m", p, n);
    }
    if (t->def->replays) add_tensor(&ck, "free.delta", t->sc.delta,
                                    (size_t)t->B * t->per);
    st = advc_checkpoint_write(path, &ck);
    free(ck.tensors); /* the data belong to the graph and the optimizer */
    return st;
}

/* ---- reading: the same run? ------------------------------------------------- */

/* "--step-size" from the metadata key "step_size". */
static void key_flag(const char *key, char *flag, size_t sz)
{
    snprintf(flag, sz, "%s", key);
    for (char *c = flag; *c; c++)
        if (*c == '_') *c = '-';
}

static advc_status differs(const char *path, const char *flag,
                           const char *here, const char *there)
{
    return advc_set_error(ADVC_ERR_ARG, "--resume: --%s %s differs from "
                          "the interrupted run's %s (%s)", flag, here, there,
                          path);
}

/* Every setting row, against the recorded one; --epochs may grow. */
static advc_status same_settings(const train_run *t, const char *meta,
                                 const char *path)
{
    char now[2048], there[256];
    train_settings(&t->cfg, &t->rc, '\n', now, sizeof now);
    for (char *line = strtok(now, "\n"); line; line = strtok(NULL, "\n")) {
        char *eq = strchr(line, '=');
        if (!eq) continue;
        *eq = '\0';
        if (strcmp(line, "epochs") == 0) continue;
        if (!advc_meta_get(meta, line, there, sizeof there))
            snprintf(there, sizeof there, "(not set)");
        if (strcmp(eq + 1, there) != 0) {
            char flag[64];
            key_flag(line, flag, sizeof flag);
            return differs(path, flag, eq + 1, there);
        }
    }
    return ADVC_OK;
}

/* The model, its activation and init, the training data. */
static advc_status same_origin(const train_run *t, const advc_checkpoint *ck,
                               const char *path)
{
    const advc_train_config *cfg = &t->cfg;
    char v[256];
    if (cfg->spec && strcmp(cfg->spec, ck->spec) != 0)
        return differs(path, "model", cfg->spec, ck->spec);
    advc_act_spec_format(cfg->act, v, sizeof v);
    if (strcmp(v, ck->act) != 0) return differs(path, "act", v, ck->act);
    if (cfg->init < ADVC_INIT_COUNT &&
        advc_meta_get(ck->meta, "init", v, sizeof v) &&
        strcmp(v, advc_init_name(cfg->init)) != 0)
        return differs(path, "init", advc_init_name(cfg->init), v);
    if (advc_meta_get(ck->meta, "data_train", v, sizeof v) &&
        strcmp(v, t->data_train) != 0)
        return advc_set_error(ADVC_ERR_ARG, "--resume: the training images "
                              "(--data, --limit) differ from the interrupted "
                              "run's (fingerprint %s here, %s there; %s)",
                              t->data_train, v, path);
    return ADVC_OK;
}

/* ---- reading: the position -------------------------------------------------- */

typedef struct {
    const char *meta, *path;
    advc_status st;
} meta_in;

static const char *get(meta_in *m, const char *key, char *buf, size_t sz)
{
    if (m->st == ADVC_OK && !advc_meta_get(m->meta, key, buf, sz))
        m->st = advc_set_error(ADVC_ERR_FORMAT, "%s: not a resume file (no "
                               "%s)", m->path, key);
    return m->st == ADVC_OK ? buf : NULL;
}

/* Records that key's value s is malformed (ok false) and returns v. */
static double checked(meta_in *m, const char *key, const char *s, bool ok,
                      double v)
{
    if (s && !ok)
        m->st = advc_set_error(ADVC_ERR_FORMAT, "%s: bad %s '%s'", m->path,
                               key, s);
    return v;
}

static long get_long(meta_in *m, const char *key, long lo)
{
    char b[64];
    long v = 0;
    const char *s = get(m, key, b, sizeof b);
    checked(m, key, s, s && advc_parse_int(s, &v) == ADVC_OK && v >= lo, 0);
    return v;
}

static uint64_t get_u64(meta_in *m, const char *key)
{
    char b[64];
    uint64_t v = 0;
    const char *s = get(m, key, b, sizeof b);
    checked(m, key, s, s && advc_parse_u64(s, &v) == ADVC_OK, 0);
    return v;
}

static double get_real(meta_in *m, const char *key)
{
    char b[64];
    double v = 0;
    const char *s = get(m, key, b, sizeof b);
    bool ok = s && advc_parse_real(s, &v) == ADVC_OK;
    return checked(m, key, s, ok, v);
}

static advc_guard_point get_point(meta_in *m, const char *key)
{
    char b[160];
    advc_guard_point p;
    memset(&p, 0, sizeof p);
    p.clean = p.fgsm = p.pgd = -1;
    const char *s = get(m, key, b, sizeof b);
    if (!s) return p;
    char *end;
    errno = 0;
    p.epoch = (int)strtol(s, &end, 10);
    float *v[3] = { &p.clean, &p.fgsm, &p.pgd };
    for (int k = 0; k < 3 && *end == ','; k++)
        *v[k] = (float)strtod(end + 1, &end);
    checked(m, key, s, *end == '\0' && errno == 0, 0);
    return p;
}

/* The counters and sums of the position into t. */
static advc_status restore_counters(train_run *t, const char *meta,
                                    const char *path)
{
    meta_in m = { meta, path, ADVC_OK };
    advc_train_result *res = t->res;
    t->start_epoch = (int)get_long(&m, "resume_epoch", 0);
    t->start_batch = (int)get_long(&m, "resume_batch", 0);
    t->sc.batch_index = get_long(&m, "resume_batch_index", 0);
    uint64_t gseed = get_u64(&m, "resume_graph_seed");
    uint64_t gstep = get_u64(&m, "resume_graph_step");
    long opt_steps = get_long(&m, "resume_opt_steps", 0);
    res->steps = get_long(&m, "resume_steps", 0);
    res->seconds = get_real(&m, "resume_seconds");
    t->sec = get_real(&m, "resume_epoch_seconds");
    t->lr = (float)get_real(&m, "resume_lr");
    t->loss_sum = get_real(&m, "resume_loss_sum");
    t->nloss = get_long(&m, "resume_nloss", 0);
    t->correct = get_long(&m, "resume_correct", 0);
    t->seen = get_long(&m, "resume_seen", 0);
    res->last = get_point(&m, "resume_last");
    res->best = get_point(&m, "resume_best");
    res->co = get_point(&m, "resume_co");
    res->stopped = get_long(&m, "resume_stopped", 0) != 0;
    if (m.st != ADVC_OK) return m.st;
    if (t->start_batch > t->steps)
        return advc_set_error(ADVC_ERR_FORMAT, "%s: batch %d is past the "
                              "epoch's %d", path, t->start_batch, t->steps);
    advc_graph_set_rng_state(t->g, gseed, gstep);
    advc_optimizer_set_steps(t->opt, opt_steps);
    res->epochs_done = t->start_epoch;
    return ADVC_OK;
}

/* Where the run stands against --epochs: something left to do. */
static advc_status check_position(const train_run *t, const char *path)
{
    int done = t->start_epoch * t->replays; /* in --epochs units */
    if (t->start_epoch < t->epochs) return ADVC_OK;
    if (t->start_batch == 0)
        return advc_set_error(ADVC_ERR_ARG, "--resume: the run in %s has "
                              "done %d epochs, --epochs %d; a larger "
                              "--epochs trains on", path, done,
                              t->cfg.epochs);
    return advc_set_error(ADVC_ERR_ARG, "--epochs %d: the run in %s is past "
                          "it (%d epochs and %d batches done)",
                          t->cfg.epochs, path, done, t->start_batch);
}

/* ---- reading: the tensors ------------------------------------------------- */

/* The extra tensor named "resume.<name>" of count floats into dst. */
static advc_status take_tensor(const advc_checkpoint *ck, const char *path,
                               const char *name, float *dst, size_t count)
{
    char full[64];
    snprintf(full, sizeof full, TENSOR_PREFIX "%s", name);
    for (int i = 0; i < ck->ntensors; i++)
        if (strcmp(ck->tensors[i].name, full) == 0) {
            if (ck->tensors[i].count != count)
                return advc_set_error(ADVC_ERR_FORMAT, "%s: %s has %zu "
                                      "values, the run needs %zu", path,
                                      full, ck->tensors[i].count, count);
            memcpy(dst, ck->tensors[i].data, count * sizeof *dst);
            return ADVC_OK;
        }
    return advc_set_error(ADVC_ERR_FORMAT, "%s: no tensor %s", path, full);
}

/* The model's tensors into the graph, the optimizer's and the recipe's
 * state into theirs. */
static advc_status restore_tensors(train_run *t, advc_checkpoint *ck,
                                   const char *path)
{
    int all = ck->ntensors, model = 0;
    while (model < all &&
           strncmp(ck->tensors[model].name, TENSOR_PREFIX,
                   strlen(TENSOR_PREFIX)) != 0)
        model++;
    ck->ntensors = model; /* the model's come first */
    advc_status st = advc_model_load_tensors(path, ck, t->g);
    ck->ntensors = all;
    size_t n;
    for (int slab = 0; slab < 2 && st == ADVC_OK; slab++) {
        float *p = advc_optimizer_state(t->opt, slab, &n);
        if (p) st = take_tensor(ck, path, slab ? "opt.v" : "opt.m", p, n);
    }
    if (st == ADVC_OK && t->def->replays)
        st = take_tensor(ck, path, "free.delta", t->sc.delta,
                         (size_t)t->B * t->per);
    return st;
}

static void warn_threads(const train_run *t, const char *meta)
{
    char v[32];
    int now = advc_pool_threads(advc_graph_pool(t->g));
    if (t->cfg.progress == ADVC_PROGRESS_NONE ||
        !advc_meta_get(meta, "resume_threads", v, sizeof v) ||
        atoi(v) == now)
        return;
    fprintf(stderr, "advc train: warning: resuming with %d threads, the run "
            "had %s: the last bits may differ from an uninterrupted run "
            "(--threads %s keeps them)\n", now, v, v);
}

advc_status resume_open(train_run *t)
{
    char path[4096 + 8];
    if (!t->cfg.out_path)
        return advc_set_error(ADVC_ERR_ARG, "--resume needs the run's --out");
    advc_train_resume_path(t->cfg.out_path, path, sizeof path);
    advc_checkpoint ck;
    advc_status st = advc_checkpoint_read(path, &ck);
    if (st != ADVC_OK) return st;
    ck.meta[sizeof ck.meta - 1] = '\0';
    st = same_origin(t, &ck, path);
    if (st == ADVC_OK) st = same_settings(t, ck.meta, path);
    if (st == ADVC_OK) st = restore_counters(t, ck.meta, path);
    if (st == ADVC_OK) st = check_position(t, path);
    if (st == ADVC_OK) st = restore_tensors(t, &ck, path);
    if (st == ADVC_OK) {
        for (int e = 0; e < t->start_epoch; e++) train_shuffle(t, e);
        warn_threads(t, ck.meta);
        t->resumed = true;
    }
    advc_checkpoint_free(&ck);
    return st;
}

void resume_note(const train_run *t)
{
    if (!t->resumed || t->cfg.progress == ADVC_PROGRESS_NONE) return;
    char path[4096 + 8];
    advc_train_resume_path(t->cfg.out_path, path, sizeof path);
    if (t->start_batch == 0)
        fprintf(stderr, "advc train: resuming %s after epoch %d of %d\n",
                path, t->start_epoch, t->epochs);
    else
        fprintf(stderr, "advc train: resuming %s in epoch %d of %d, after "
                "batch %d of %d\n", path, t->start_epoch + 1, t->epochs,
                t->start_batch, t->steps);
}

/* ---- the CSV log ------------------------------------------------------------ */

advc_status resume_read_log(const train_run *t, const char *path, FILE *into,
                            bool *keep)
{
    *keep = false;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return ADVC_OK; /* a new log */
        return advc_set_error(ADVC_ERR_IO, "%s: cannot open the log: %s",
                              path, strerror(errno));
    }
    /* The header, then whole lines of the epochs done; not the rest (an
     * epoch logged after the resume file was written, a torn line). */
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    for (int row = 0; (len = getline(&line, &cap, f)) > 0; row++) {
        if (line[len - 1] != '\n') break;
        if (row > 0 && atol(line) > t->start_epoch) break;
        fwrite(line, 1, (size_t)len, into);
        *keep = true;
    }
    bool bad = ferror(f);
    free(line);
    fclose(f);
    if (bad)
        return advc_set_error(ADVC_ERR_IO, "%s: cannot read the log: %s",
                              path, strerror(errno));
    return ADVC_OK;
}
