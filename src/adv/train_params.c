/* train_params.c: the settings of a training run (advc_train_config)
 * described once, as parameter rows: `advc train`'s flags, its --help,
 * the training header and the checkpoint metadata all come from here and
 * from the recipe's own rows (recipe_*.c). */
#include "train_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* --schedule: the spec without its lr (--lr sets that), so the two flags
 * can come in any order. */
static advc_status parse_schedule(const char *text, void *dst)
{
    advc_schedule *s = dst, t;
    if (advc_schedule_parse(text, s->lr, &t) != ADVC_OK) return ADVC_ERR_ARG;
    *s = t;
    return ADVC_OK;
}

static void format_schedule(const void *src, char *buf, size_t bufsz)
{
    advc_schedule_format(src, buf, bufsz);
}

/* --augment: none or crop-flip ("default" is the rule's, not a choice). */
static advc_status parse_augment(const char *text, void *dst)
{
    advc_augment a = advc_augment_parse(text);
    if (a == ADVC_AUGMENT_COUNT)
        return advc_set_error(ADVC_ERR_ARG, "want none or crop-flip");
    *(advc_augment *)dst = a;
    return ADVC_OK;
}

static void format_augment(const void *src, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s", advc_augment_name(*(const advc_augment *)src));
}

#define TRN_ROW(flag, meta, type, field, lo, hi, open, def, help, eg)        \
    { flag, meta, type, offsetof(advc_train_config, field), lo, hi, open,    \
      def, help, eg, 0, 0, NULL, NULL }

static const advc_param train_rows[] = {
    TRN_ROW("epochs", "N", ADVC_PARAM_INT, epochs, 1, 100000, 0, "1",
            "passes over the training set", NULL),
    TRN_ROW("batch", "B", ADVC_PARAM_INT, batch, 1, 65536, 0, "128",
            "batch size", NULL),
    TRN_ROW("seed", "S", ADVC_PARAM_U64, seed, 0, 0, 0, "1",
            "seed for initialisation, shuffling, dropout, random starts",
            NULL),
    TRN_ROW("opt", "O", ADVC_PARAM_CHOICE, opt.kind, 0, 0, 0, "adam",
            "optimizer", "sgd|adam"),
    TRN_ROW("lr", "X", ADVC_PARAM_REAL, sched.lr, 0, 100, 1,
            "2e-3 (adam), 0.05 (sgd)", "(peak) learning rate", "5e-3"),
    TRN_ROW("momentum", "X", ADVC_PARAM_REAL, opt.momentum, 0, 1, 0, "0.9",
            "SGD momentum", NULL),
    TRN_ROW("nesterov", NULL, ADVC_PARAM_FLAG, opt.nesterov, 0, 0, 0, "off",
            "SGD with Nesterov momentum", NULL),
    TRN_ROW("wd", "X", ADVC_PARAM_REAL, opt.weight_decay, 0, 10, 0, "0",
            "L2 weight decay on weights", NULL),
    { "schedule", "S", ADVC_PARAM_CUSTOM, offsetof(advc_train_config, sched),
      0, 0, 0, "constant",
      "learning-rate schedule: constant, step:E1,E2[@G] (x G after each "
      "epoch Ei, G 0.1), cosine, cyclic[:F] (linear up to the peak at "
      "fraction F of training, 0.4, then down to 0)",
      "constant, step:E1,E2[@G], cosine or cyclic[:F]", 0, 0,
      parse_schedule, format_schedule },
    TRN_ROW("eps-ramp", "E", ADVC_PARAM_REAL, eps_ramp, 0, 100000, 0, "0",
            "grow the training eps and step linearly from 0 over the first E "
            "epochs (any recipe; 0: no ramp; the guard uses the full eps)",
            NULL),
    TRN_ROW("save-every", "N", ADVC_PARAM_INT, save_every, 0, 100000, 0,
            "0", "also keep epoch k as NAME.epoch<k>.advc every N epochs "
            "(0: never)", NULL),
    { "augment", "A", ADVC_PARAM_CUSTOM, offsetof(advc_train_config,
      augment), 0, 0, 0, "crop-flip for CIFAR-10 (colour) data, none for "
      "MNIST-like (greyscale) data", "training-image augmentation: none, "
      "or crop-flip (a random crop of the image zero-padded by 4 pixels, "
      "then a horizontal flip with probability 0.5; drawn from the seed "
      "per epoch and batch)", "none or crop-flip", 0, 0, parse_augment,
      format_augment },
    TRN_ROW("val", "N", ADVC_PARAM_INT, val_count, 0, 100000000, 0, "0",
            "hold out the last N training images for validation", NULL),
    TRN_ROW("guard-batch", "N", ADVC_PARAM_INT, guard.count, 0, 100000000,
            0, "512, at most a tenth of the training images; std: 0",
            "held-out images the overfitting guard attacks after each "
            "epoch (0: off); from the front of the --val split, else from "
            "the end of the training images, which are then not trained on",
            NULL),
    TRN_ROW("guard-steps", "K", ADVC_PARAM_INT, guard.steps, 1, 10000, 0,
            "10", "the guard's PGD-K, step 2.5 eps/K, one restart", NULL),
    TRN_ROW("co-threshold", "X", ADVC_PARAM_REAL, guard.co_threshold, 0, 1,
            0, "0.2", "stop when held-out PGD accuracy falls more than X "
            "below the best epoch's (0.2 = 20 points)", NULL),
    TRN_ROW("co-gap", "X", ADVC_PARAM_REAL, guard.co_gap, 0, 1, 0, "0.5",
            "an epoch with held-out FGSM accuracy of 50% or more and more "
            "than X above its PGD accuracy resists only the step it trains "
            "on: never the best epoch, and a run that ends so is reported",
            NULL),
    TRN_ROW("co-warn", NULL, ADVC_PARAM_FLAG, guard.co_warn, 0, 0, 0, "off",
            "warn and go on instead of stopping", NULL),
};

const advc_param *advc_train_params(int *n)
{
    *n = (int)(sizeof train_rows / sizeof *train_rows);
    return train_rows;
}

advc_train_config advc_train_resolve(const advc_train_config *cfg)
{
    advc_train_config c = *cfg;
    if (!(c.sched.lr > 0))
        c.sched.lr = c.opt.kind == ADVC_OPT_SGD ? 0.05f : 2e-3f;
    return c;
}

advc_status advc_train_recipe_defaults(advc_train_config *cfg,
                                       bool (*given)(void *ctx,
                                                     const char *flag),
                                       void *ctx)
{
    const advc_recipe_desc *d = advc_recipe_describe(cfg->recipe);
    if (!d || !d->train_defaults) return ADVC_OK;
    int n;
    const advc_param *rows = advc_train_params(&n);
    char buf[256], *save = NULL;
    if (strlen(d->train_defaults) >= sizeof buf)
        return advc_set_error(ADVC_ERR_ARG, "recipe %s: training defaults "
                              "longer than %zu characters", d->name,
                              sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", d->train_defaults);
    for (char *t = strtok_r(buf, " ", &save); t;
         t = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(t, '=');
        if (eq) *eq = '\0';
        int i = eq ? advc_param_find(rows, n, t) : -1;
        if (i < 0)
            return advc_set_error(ADVC_ERR_ARG, "recipe %s: bad training "
                                  "default '%s'", d->name, t);
        if (given && given(ctx, t)) continue;
        if (advc_param_set(&rows[i], cfg, eq + 1) != ADVC_OK)
            return ADVC_ERR_ARG;
    }
    return ADVC_OK;
}

/* A row shown for this run: SGD's own settings only with SGD. */
static bool row_applies(const advc_param *p, const advc_train_config *c)
{
    bool sgd_only = !strcmp(p->flag, "momentum") ||
                    !strcmp(p->flag, "nesterov");
    return !sgd_only || c->opt.kind == ADVC_OPT_SGD;
}

/* " key=value" for every row of ps (that applies) into buf at *k. */
static void append_rows(char *buf, size_t bufsz, size_t *k,
                        const advc_param *ps, int n, const void *base,
                        const advc_train_config *c, char sep)
{
    for (int i = 0; i < n && *k < bufsz; i++) {
        if (c && !row_applies(&ps[i], c)) continue;
        char key[48], val[128];
        advc_param_key(&ps[i], key, sizeof key);
        advc_param_format(&ps[i], base, val, sizeof val);
        int w = snprintf(buf + *k, bufsz - *k, "%s=%s%c", key, val, sep);
        if (w < 0) return;
        *k += (size_t)w;
    }
}

void train_settings(const advc_train_config *cfg,
                    const advc_recipe_config *rc, char sep, char *buf,
                    size_t bufsz)
{
    const advc_recipe_desc *d = advc_recipe_describe(cfg->recipe);
    advc_train_config c = advc_train_resolve(cfg);
    size_t k = 0;
    int w = snprintf(buf, bufsz, "recipe=%s%c", d->name, sep);
    if (w < 0) return;
    k = (size_t)w;
    append_rows(buf, bufsz, &k, d->params, d->nparams, rc, NULL, sep);
    int n;
    const advc_param *rows = advc_train_params(&n);
    append_rows(buf, bufsz, &k, rows, n, &c, &c, sep);
    if (k > 0 && k <= bufsz) buf[k - 1] = '\0'; /* no separator at the end */
}
