/* train_log.c: what a training run says and writes, each a named step of
 * the loop in train.c: the header (every setting that shapes the run, from
 * the parameter rows), the live progress line, the line per epoch, the CSV
 * log, and the checkpoints (the last epoch at out_path, the best one by
 * held-out PGD accuracy beside it) with the run's settings and results as
 * metadata.
 */
#include <stdio.h>
#include <string.h>
#include "advc/checkpoint.h"
#include "advc/io.h"
#include "advc/models.h"
#include "train_internal.h"

/* ---- the header ----------------------------------------------------------- */

/* Settings joined by spaces, wrapped before `width` columns. */
static void print_wrapped(const char *lead, char *s, int width)
{
    int col = fprintf(stderr, "%s", lead);
    for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) {
        int len = (int)strlen(tok);
        if (col + 1 + len > width) {
            fprintf(stderr, "\n%*s", (int)strlen(lead), "");
            col = (int)strlen(lead);
        }
        col += fprintf(stderr, " %s", tok);
    }
    fputc('\n', stderr);
}

void log_header(const train_run *t)
{
    if (t->cfg.progress == ADVC_PROGRESS_NONE) return;
    char buf[2048];
    const advc_recipe_desc *d = advc_recipe_describe(t->cfg.recipe);
    train_settings(&t->cfg, &t->rc, ' ', buf, sizeof buf);
    fprintf(stderr, "advc train: recipe %s (%s): %s\n", d->name, d->paper,
            d->summary);
    print_wrapped("advc train: settings", buf, 79);
    if (t->gs.n > 0)
        fprintf(stderr, "advc train: guard: %d held-out images (%s), FGSM and "
                "PGD-%d at eps %g after each epoch; %d training images\n",
                t->gs.n, t->cfg.val_count > 0
                             ? "the front of the --val split"
                             : "the end of the training images, not trained "
                               "on", t->cfg.guard.steps, (double)t->rc.eps,
                t->ntrain);
    else
        fprintf(stderr, "advc train: guard: off%s; %d training images\n",
                t->def->guard ? "" : " (standard training: --guard-batch N "
                                     "turns it on)", t->ntrain);
}

/* ---- progress and the epoch line ------------------------------------------ */

static void format_eta(double s, char *out, size_t outsz)
{
    if (!(s >= 0) || s > 359999) s = 0;
    int sec = (int)(s + 0.5);
    snprintf(out, outsz, "%d:%02d:%02d", sec / 3600, sec / 60 % 60, sec % 60);
}

void log_progress(const train_run *t, int epoch, int s, double t0,
                  double *last_draw)
{
    double now = advc_now();
    if (t->cfg.progress != ADVC_PROGRESS_LIVE ||
        (now - *last_draw <= 0.2 && s != t->steps - 1))
        return;
    *last_draw = now;
    double el = now - t0, bps = (s + 1) / (el > 0 ? el : 1e-9);
    char eta[32];
    format_eta(((double)(t->steps - s - 1) +
                (double)(t->epochs - epoch - 1) * t->steps) / bps,
               eta, sizeof eta);
    fprintf(stderr, "\repoch %d/%d  batch %d/%d  %.0f img/s  loss %.4f  "
            "acc %.2f%%  ETA %s ", epoch + 1, t->epochs, s + 1, t->steps,
            bps * t->bsz, t->loss_sum / t->nloss,
            100.0 * t->correct / t->seen, eta);
    fflush(stderr);
}

static void print_epoch(const train_run *t, int epoch)
{
    const advc_train_result *res = t->res;
    const advc_guard_point *pt = &t->pt;
    if (t->cfg.progress == ADVC_PROGRESS_LIVE) fputc('\n', stderr);
    fprintf(stderr, "epoch %d/%d: loss %.4f  train_acc %.2f%%", epoch + 1,
            t->epochs, res->loss, 100.0 * res->train_acc);
    if (res->val_acc >= 0)
        fprintf(stderr, "  val_acc %.2f%%", 100.0 * res->val_acc);
    if (t->gs.n > 0)
        fprintf(stderr, "  held-out clean %.1f%% fgsm %.1f%% pgd %.1f%%%s",
                100.0 * pt->clean, 100.0 * pt->fgsm, 100.0 * pt->pgd,
                t->is_best ? " (best)" : "");
    fprintf(stderr, "  lr %.3g  %.0f img/s  %.1fs\n", (double)t->lr,
            t->seen / t->sec, t->sec);
}

/* The warnings an epoch can raise: a collapse, and chance-level accuracy
 * (the model has learned nothing: say so instead of calling it best). */
static void print_warnings(const train_run *t, int epoch)
{
    const advc_train_result *res = t->res;
    if (t->chance)
        fprintf(stderr, "advc train: warning: accuracy at chance level after "
                "epoch %d (%s %.1f%%, %d classes): the model is not "
                "learning\n", epoch + 1, t->gs.n > 0 ? "held-out clean"
                : res->val_acc >= 0 ? "validation" : "training",
                100.0 * (t->gs.n > 0 ? t->pt.clean
                         : res->val_acc >= 0 ? res->val_acc
                                             : res->train_acc),
                t->classes);
    for (int e = 0; e < t->E - 1 && e < ADVC_MAX_EXIT_L2; e++)
        if (t->exit_fell[e])
            fprintf(stderr, "advc train: exit %d: held-out PGD accuracy "
                    "%.1f%%, best %.1f%% at epoch %d (this exit overfits; "
                    "the final exit decides when training stops)\n", e,
                    100.0 * t->pt.exit_pgd[e], 100.0 * t->exit_best_pgd[e],
                    t->exit_best_epoch[e]);
    if (t->gs.n > 0 && t->fgsm_only)
        fprintf(stderr, "advc train: epoch %d resists FGSM (held-out %.1f%%) "
                "but not PGD (%.1f%%): robust only to the step it trains on; "
                "not a best epoch\n", epoch + 1, 100.0 * t->pt.fgsm,
                100.0 * t->pt.pgd);
    if (t->gs.n == 0 || res->co.epoch != epoch + 1) return;
    const char *then = !t->stop ? "; going on (--co-warn)"
                       : epoch > 0 ? "; stopping (the last checkpoint keeps "
                                     "the epoch before)"
                                   : "; stopping";
    fprintf(stderr, "advc train: catastrophic overfitting at epoch %d: "
            "held-out PGD accuracy %.1f%%, best %.1f%% at epoch %d%s\n",
            epoch + 1, 100.0 * t->pt.pgd, 100.0 * res->best.pgd,
            res->best.epoch, then);
}

/* ---- the CSV log ----------------------------------------------------------- */

advc_status log_open_csv(train_run *t)
{
    const char *path = t->cfg.log_path;
    t->log = NULL;
    if (!path) return ADVC_OK;
    FILE *f = open_memstream(&t->log_text, &t->log_len);
    if (!f) return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory for the "
                                  "log", path);
    t->log = f;
    bool keep = false; /* a resumed run continues its log */
    if (t->resumed) {
        advc_status st = resume_read_log(t, path, f, &keep);
        if (st != ADVC_OK) return st;
    }
    if (!keep) {
        fprintf(f, "epoch,lr,loss,train_acc,val_acc,clean_acc,fgsm_acc,"
                   "pgd_acc,seconds");
        /* Multi-exit models: every exit's guard accuracies and FC norm. */
        for (int e = 0; t->E > 1 && e < t->E && e < ADVC_MAX_EXIT_L2; e++)
            fprintf(f, ",exit%d_clean,exit%d_fgsm,exit%d_pgd,exit%d_fc_norm",
                    e, e, e, e);
        fputc('\n', f);
    }
    return log_write_csv(t);
}

/* The whole log so far to cfg.log_path through the safe writer: the file
 * is always the old log or the new one, never a torn line. */
advc_status log_write_csv(train_run *t)
{
    if (!t->log) return ADVC_OK;
    if (fflush(t->log) != 0)
        return advc_set_error(ADVC_ERR_NOMEM, "%s: no memory for the log",
                              t->cfg.log_path);
    return advc_write_file(t->cfg.log_path, t->log_text, t->log_len);
}

/* "%.6f" of v, or "" when v < 0 (not measured). */
static const char *opt_num(float v, char *buf, size_t bufsz)
{
    if (v < 0) buf[0] = '\0';
    else snprintf(buf, bufsz, "%.6f", (double)v);
    return buf;
}

static void csv_line(const train_run *t, int epoch)
{
    const advc_train_result *res = t->res;
    const advc_guard_point *pt = &t->pt;
    char b[4][32];
    fprintf(t->log, "%d,%.6g,%.6f,%.6f,%s,%s,%s,%s,%.3f", epoch + 1,
            (double)t->lr, res->loss, res->train_acc,
            opt_num(res->val_acc, b[0], 32), opt_num(pt->clean, b[1], 32),
            opt_num(pt->fgsm, b[2], 32), opt_num(pt->pgd, b[3], 32), t->sec);
    bool measured = t->gs.n > 0;
    for (int e = 0; t->E > 1 && e < t->E && e < ADVC_MAX_EXIT_L2; e++)
        fprintf(t->log, ",%s,%s,%s,%s",
                opt_num(measured ? pt->exit_clean[e] : -1, b[0], 32),
                opt_num(measured ? pt->exit_fgsm[e] : -1, b[1], 32),
                opt_num(measured ? pt->exit_pgd[e] : -1, b[2], 32),
                opt_num(measured ? pt->exit_fc_norm[e] : -1, b[3], 32));
    fputc('\n', t->log);
}

void log_epoch(train_run *t, int epoch)
{
    if (t->cfg.progress != ADVC_PROGRESS_NONE) {
        print_epoch(t, epoch);
        print_warnings(t, epoch);
    }
    if (!t->log) return;
    csv_line(t, epoch);
    /* A log that cannot be written is said once; training goes on (the
     * checkpoints are what must not be lost). */
    if (log_write_csv(t) != ADVC_OK && !t->log_failed) {
        fprintf(stderr, "advc train: warning: %s\n", advc_last_error());
        t->log_failed = true;
    }
}

/* ---- checkpoints ----------------------------------------------------------- */

static void meta_num(char *meta, size_t sz, const char *key, double v)
{
    char b[48];
    snprintf(b, sizeof b, "%.4f", v);
    advc_meta_set(meta, sz, key, b);
}

static void meta_int(char *meta, size_t sz, const char *key, long v)
{
    char b[32];
    snprintf(b, sizeof b, "%ld", v);
    advc_meta_set(meta, sz, key, b);
}

/* The run's settings (the recipe's and the training rows), the data it
 * was trained on, and this epoch's results. */
static void build_meta(const train_run *t, int epoch, char *meta, size_t sz)
{
    const advc_train_config *cfg = &t->cfg;
    const advc_train_result *res = t->res;
    const advc_dataset *d = t->data;
    train_settings(cfg, &t->rc, '\n', meta, sz);
    meta_int(meta, sz, "epoch", epoch + 1);
    if (cfg->init < ADVC_INIT_COUNT)
        advc_meta_set(meta, sz, "init", advc_init_name(cfg->init));
    if (cfg->data_name) advc_meta_set(meta, sz, "data", cfg->data_name);
    char v[64];
    snprintf(v, sizeof v, "%dx%dx%d", d->c, d->h, d->w);
    advc_meta_set(meta, sz, "data_shape", v);
    advc_meta_set(meta, sz, "data_train", t->data_train);
    if (cfg->data_test) advc_meta_set(meta, sz, "data_test", cfg->data_test);
    meta_num(meta, sz, "val_acc", res->val_acc);
    meta_num(meta, sz, "train_acc", res->train_acc);
    if (res->guard_n > 0) {
        meta_int(meta, sz, "guard_n", res->guard_n);
        meta_num(meta, sz, "guard_clean_acc", t->pt.clean);
        meta_num(meta, sz, "guard_fgsm_acc", t->pt.fgsm);
        meta_num(meta, sz, "guard_pgd_acc", t->pt.pgd);
        meta_int(meta, sz, "best_epoch", res->best.epoch);
        meta_num(meta, sz, "best_pgd_acc", res->best.pgd);
    }
}

advc_status log_checkpoints(train_run *t, int epoch)
{
    const advc_train_config *cfg = &t->cfg;
    if (cfg->out_path) {
        char meta[2048];
        build_meta(t, epoch, meta, sizeof meta);
        const char *spec = cfg->spec ? cfg->spec : "?";
        advc_status st = advc_model_save(cfg->out_path, t->g, spec, cfg->act,
                                         meta);
        if (st == ADVC_OK && t->is_best)
            st = advc_model_save(t->best_path, t->g, spec, cfg->act, meta);
        if (st == ADVC_OK && cfg->save_every > 0 &&
            (epoch + 1) % cfg->save_every == 0) {
            char path[4200];
            advc_train_epoch_path(cfg->out_path, epoch + 1, path, sizeof path);
            st = advc_model_save(path, t->g, spec, cfg->act, meta);
        }
        if (st != ADVC_OK) return st;
    }
    t->res->last = t->pt;
    t->res->fgsm_only = t->fgsm_only;
    return ADVC_OK;
}
