/* advc/train.h: the training loop, the adversarial-training recipes and
 * clean evaluation.
 *
 * One loop for every recipe: each step gathers a shuffled batch (each
 * image augmented as cfg->augment says, advc/data.h), lets the
 * recipe make the training input (clean, FGSM, FGSM-RS, PGD, free replay,
 * TRADES' KL-PGD) and accumulate the gradient of its loss, then the
 * optimizer steps at the scheduled learning rate.  At the end of each epoch
 * the model is evaluated on the held-out split, the catastrophic-
 * overfitting guard attacks a held-out batch (FGSM and PGD), a CSV line is
 * logged and the checkpoints are written (temporary file + rename): the
 * last one at out_path and the best one by held-out PGD accuracy at
 * advc_train_best_path(out_path), and beside them the state a run resumes
 * from (advc_train_resume_path; cfg->resume, cfg->stop).  A NaN or inf
 * loss stops training with ADVC_ERR_NAN and leaves the last good
 * checkpoint in place.
 * The recipes, their papers and defaults: src/adv/recipes.c.
 */
#ifndef ADVC_TRAIN_H
#define ADVC_TRAIN_H

#include "advc/nn.h"
#include "advc/optim.h"
#include "advc/data.h"
#include "advc/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ADVC_PROGRESS_NONE = 0, /* silent                                      */
    ADVC_PROGRESS_EPOCH,    /* one line per epoch on stderr (not a tty)   */
    ADVC_PROGRESS_LIVE      /* a live line on stderr, redrawn (a tty)     */
} advc_progress;

/* Every training recipe advc has, one line each: X(ID, file_name).  ID
 * names it (ADVC_RECIPE_<ID>), file_name its descriptor
 * recipe_<file_name>_def in src/adv/recipe_*.c.  Adding a recipe is a file
 * with its descriptor and one line here (README: "Adding a recipe"). */
#define ADVC_RECIPE_TABLE(X)                                                 \
    X(STD, std)          /* CE(x)                                         */ \
    X(FGSM, fgsm)        /* Goodfellow: a CE(x) + (1-a) CE(x_fgsm)        */ \
    X(FGSM_RS, fgsm_rs)  /* Wong et al.: FGSM from U(-eps, eps)           */ \
    X(PGD, pgd)          /* Madry et al.: CE(x_pgd), PGD-k               */ \
    X(FREE, free)        /* Shafahi et al.: m replays, delta carried over */ \
    X(TRADES, trades)    /* Zhang et al.: CE(x) + beta KL(f(x)||f(x'))    */ \
    X(ME_FGSM, me_fgsm)  /* Chen et al.: multi-exit FGSM-RS + exit L2     */ \
    X(N_FGSM, n_fgsm)    /* de Jorge et al.: FGSM from U(-2eps,2eps), no
                            projection                                    */ \
    X(ELLE, elle)        /* Abad Rocamora et al.: FGSM + local-linearity
                            error of the loss                             */ \
    X(FAST, fast)        /* advc's recommendation: FGSM-RS, smooth ReLU
                            derivative in both passes, eps ramp           */

typedef enum {
#define ADVC_RECIPE_ENUM(id, file_name) ADVC_RECIPE_##id,
    ADVC_RECIPE_TABLE(ADVC_RECIPE_ENUM)
#undef ADVC_RECIPE_ENUM
    ADVC_RECIPE_COUNT
} advc_recipe;

/* A recipe as the user sees it: name, what it trains on, the paper, the
 * settings of advc_recipe_config it reads (rows into that struct), and
 * the training settings it recommends in place of the general defaults. */
typedef struct {
    const char *name;
    const char *summary;
    const char *paper;
    const advc_param *params;
    int nparams;
    /* "flag=value ..." over advc_train_params' rows (e.g. "epochs=10
     * lr=5e-3 schedule=cyclic eps-ramp=3"), applied by
     * advc_train_recipe_defaults to every setting the caller did not
     * choose; NULL: the general defaults. */
    const char *train_defaults;
} advc_recipe_desc;

/* Which mode the training attacks run the model in (BatchNorm batch
 * statistics and dropout on, or running statistics and dropout off). */
typedef enum {
    ADVC_ADV_MODE_DEFAULT = 0, /* (the order is --adv-mode's choices)      */ /* the reference implementation's choice:
                                  TRAIN for fgsm, fgsm-rs, pgd, free,
                                  me-fgsm (Wong et al.'s and Madry et al.'s
                                  code); EVAL for trades (its code)        */
    ADVC_ADV_MODE_TRAIN,
    ADVC_ADV_MODE_EVAL
} advc_adv_mode;

/* Which PGD iterate a pgd or fast training step trains on. */
typedef enum {
    ADVC_ITERATE_DEFAULT = 0, /* (the order is --iterate's choices) the
                                 recipe's: max for pgd, last for fast     */
    ADVC_ITERATE_MAX,         /* each sample's highest-loss x_0 .. x_k
                                 (one forward more than last)             */
    ADVC_ITERATE_LAST         /* x_k, as Madry et al.'s code trains       */
} advc_iterate;

#define ADVC_MAX_EXIT_L2 16

/* The recipe's settings.  0 (or ADVC_ACT_COUNT for the rules) means "the
 * recipe's default", listed in src/adv/recipes.c and `advc train --help`. */
typedef struct {
    float eps;          /* L-inf budget on [0,1] pixels (default 0.3)       */
    float step_size;    /* attack step (fgsm: eps; fgsm-rs, me-fgsm: 1.25
                           eps; pgd, trades: 2.5 eps / steps; free: eps)  */
    int steps;          /* pgd (7), trades (10)                            */
    float alpha;        /* fgsm: weight of the clean loss (0.5); negative:
                           default; 0 trains on FGSM examples only        */
    float beta;         /* trades: KL weight (6); negative: default        */
    int replays;        /* free: m (8)                                     */
    float noise;        /* n-fgsm: noise from U(-k eps, k eps), k (2)       */
    float lambda;       /* elle: weight of the local-linearity error (see
                           recipe_elle.c for its default)                 */
    float attack_eps;   /* the training attack's projection radius, when a
                           recipe's rule widens it (n-fgsm); 0: eps        */
    bool no_random_start; /* me-fgsm: plain FGSM (step eps) instead of
                             FGSM-RS                                       */
    advc_adv_mode adv_mode;
    advc_iterate iterate; /* pgd, fast: which iterate is trained on       */
    /* SAT ablation (src/adv/METHODS.md section 4): the derivative used for
     * ReLU in ATTACK passes (attacks made during training) and in UPDATE
     * passes (parameter gradients).  f = ADVC_ACT_COUNT: ReLU's own.
     * Applied for the training run only; removed before the guard attacks
     * the model and when advc_train returns. */
    advc_act_spec attack_grad, update_grad;
    /* Per-exit L2 on exit<i>.fc.w (Chen et al.): n_exit_l2 = 0 none (for
     * me-fgsm: the default list), else one value per exit. */
    int n_exit_l2;
    float exit_l2[ADVC_MAX_EXIT_L2];
} advc_recipe_config;

/* The catastrophic-overfitting guard (src/adv/METHODS.md section 3): each epoch
 * the held-out guard batch is attacked with FGSM and PGD (eval mode, the
 * real backward rules, eps = the recipe's eps, step 2.5 eps / steps, one
 * restart, a fixed seed).  The best epoch by PGD accuracy is kept; a drop
 * of more than co_threshold below the best stops training (or warns); an
 * epoch robust to FGSM but not to PGD (co_gap) is never the best. */
typedef struct {
    int count;          /* images; -1: min(512, a tenth of the training
                           images); 0: no guard.  Taken from the front of
                           the validation split if there is one, else from
                           the end of the training split, which are then
                           held out of training                           */
    int steps;          /* PGD steps (10)                                   */
    float co_threshold; /* 0.2 = 20 points                                  */
    float co_gap;       /* an epoch whose held-out FGSM accuracy is >= 50%
                           and more than co_gap above its PGD accuracy is
                           robust only to the one step it trains on: never
                           a best epoch; a run that ends so never became
                           robust and says so (0.5 = 50 points)           */
    bool co_warn;       /* warn and go on instead of stopping              */
} advc_guard_config;

/* Called after each epoch's training steps, before evaluation (tests use
 * it to force a collapse).  May change the parameters. */
typedef void (*advc_epoch_hook)(advc_graph *g, int epoch, void *ctx);

/* Asked after every batch (epoch and batch counted from 1) and after each
 * epoch's checkpoints are written (batch 0): true ends training there,
 * after writing the resumable state (advc train: on SIGINT or SIGTERM). */
typedef bool (*advc_stop_fn)(void *ctx, int epoch, int batch);

typedef struct {
    float eps_ramp;           /* eps (and the attack's step) grow linearly
                                 from 0 to their value over this many
                                 epochs (0: no ramp); the guard always
                                 uses the full eps                        */
    int save_every;           /* also save epoch k as NAME.epoch<k>.advc
                                 every save_every epochs (0: never)      */
    int epochs;               /* passes over the training split (free: the
                                 loop makes ceil(epochs / replays))        */
    int batch;                /* must equal the graph's compiled batch   */
    advc_opt_config opt;
    advc_schedule sched;
    uint64_t seed;            /* shuffling, dropout, random starts (init
                                 is the caller's)                         */
    int val_count;            /* last val_count training samples held out */
    advc_augment augment;     /* what each training image goes through as
                                 its batch is gathered (advc/data.h);
                                 DEFAULT: advc_augment_default(data)     */
    advc_recipe recipe;
    advc_recipe_config rc;
    advc_guard_config guard;
    /* Outputs (each may be NULL). */
    const char *out_path;     /* checkpoint, rewritten every epoch        */
    const char *log_path;     /* CSV, one line per epoch, rewritten whole
                                 through the safe writer each epoch      */
    const char *spec;         /* stored in the checkpoint                 */
    const char *data_name;    /* the data set's name, stored (or NULL)    */
    const char *data_test;    /* the test split's fingerprint "n:crc32"
                                 (advc_dataset_fingerprint), stored so
                                 advc eval can tell other data; or NULL   */
    advc_act_spec act;        /* stored in the checkpoint                 */
    advc_init init;           /* how the caller initialised the weights,
                                 stored in the metadata (COUNT: not)      */
    advc_progress progress;
    advc_epoch_hook hook;     /* NULL normally */
    void *hook_ctx;
    /* Resuming (src/adv/train_resume.c).  Every epoch, and where stop
     * ends training, the run writes advc_train_resume_path(out_path):
     * the model, the optimizer's state and the run's position.  With
     * resume set, training goes on from that file: g (built from the same
     * spec) gets its weights, and the run ends bit-identical to one never
     * interrupted.  Every setting must match the recorded run's
     * (ADVC_ERR_ARG naming the first flag that differs) except epochs,
     * which may grow. */
    bool resume;
    advc_stop_fn stop;        /* NULL, or asked after every batch         */
    void *stop_ctx;
} advc_train_config;

/* The rows of advc_train_config's settings (epochs, batch, seed,
 * optimizer, learning rate and schedule, validation, the guard): flags,
 * ranges, defaults and help, for the command line and the metadata. */
const advc_param *advc_train_params(int *n);
/* cfg with its default rules applied (lr 0: the optimizer's default). */
advc_train_config advc_train_resolve(const advc_train_config *cfg);
/* The recipe cfg->recipe's recommended training settings (its
 * train_defaults) onto cfg, except the flags for which given(ctx, flag)
 * is true (given NULL: none was chosen).  A no-op for recipes without
 * recommendations. */
advc_status advc_train_recipe_defaults(advc_train_config *cfg,
                                       bool (*given)(void *ctx,
                                                     const char *flag),
                                       void *ctx);

/* Defaults: 1 epoch, batch 128, Adam lr 2e-3 constant, seed 1, no
 * validation, augmentation by the data's default rule, std recipe with
 * every recipe setting at its default, the guard on (count -1, PGD-10,
 * threshold 0.2, stop), progress per epoch, a fresh run (no resume). */
advc_train_config advc_train_defaults(void);
const char *advc_recipe_name(advc_recipe r);
advc_recipe advc_recipe_parse(const char *s); /* ADVC_RECIPE_COUNT if unknown */
/* The descriptor of r (NULL if r is not a recipe). */
const advc_recipe_desc *advc_recipe_describe(advc_recipe r);

/* The recipe settings with every default filled in for recipe r on a
 * model with `exits` exits (exit_l2 stays empty unless r is me-fgsm). */
advc_recipe_config advc_recipe_resolve(advc_recipe r,
                                       const advc_recipe_config *rc,
                                       int exits);

/* Checks cfg against g without training: recipe, eps in (0, 1], steps,
 * step size, alpha in [0, 1], beta >= 0, replays, the backward rules
 * (need a ReLU model: cfg->act), the exit-L2 list (needs a multi-exit
 * model, one value per exit, each >= 0), the guard.  ADVC_ERR_ARG with a
 * one-line message naming the flag.  advc_train calls it first. */
advc_status advc_train_check(const advc_graph *g,
                             const advc_train_config *cfg);

/* A backward rule for --attack-grad / --update-grad: an activation spec
 * (advc_act_spec_parse) that is differentiable: psoftplus:A, softplus,
 * silu, gelu, elu, sigmoid, tanh, or relu (= no change). */
advc_status advc_grad_rule_parse(const char *s, advc_act_spec *out);

/* Where a run's resumable state goes: out with ".resume" appended
 * ("m.advc" -> "m.advc.resume"). */
void advc_train_resume_path(const char *out, char *buf, size_t bufsz);

/* Where the best checkpoint goes: out with ".best" before the extension
 * ("m.advc" -> "m.best.advc", "m" -> "m.best"). */
void advc_train_best_path(const char *out, char *buf, size_t bufsz);
/* Where --save-every puts epoch k: "m.advc" -> "m.epoch7.advc". */
void advc_train_epoch_path(const char *out, int epoch, char *buf,
                           size_t bufsz);

typedef struct {
    int epoch;            /* 1-based; 0: not measured                    */
    float clean, fgsm, pgd; /* guard-batch accuracies in [0,1]          */
    /* Multi-exit models: every exit's accuracies on the same (summed-
     * loss) adversarial examples, and the L2 norm of its classifier's
     * weights (exit<e>.fc.w; -1 if the model has none by that name). */
    float exit_clean[ADVC_MAX_EXIT_L2], exit_fgsm[ADVC_MAX_EXIT_L2];
    float exit_pgd[ADVC_MAX_EXIT_L2], exit_fc_norm[ADVC_MAX_EXIT_L2];
} advc_guard_point;

typedef struct {
    int epochs_done;
    long steps;           /* optimizer steps                              */
    double seconds;       /* training time, excluding evaluation */
    float loss;           /* mean training loss of the last epoch */
    float train_acc;      /* final-exit accuracy on the last epoch's batches */
    float val_acc;        /* final exit on the held-out split (-1 if none) */
    int guard_n;          /* guard images (0: no guard)                   */
    /* The guard at the epoch in out_path (the last one saved), at the
     * best epoch (in the best path) and at the first epoch whose PGD
     * accuracy fell more than the threshold below the best (co.epoch 0:
     * none).  When training stops there, out_path keeps the epoch before. */
    advc_guard_point last, best, co;
    bool stopped;         /* training stopped at co.epoch                 */
    bool fgsm_only;       /* the last guard point resists FGSM but not
                             PGD: the model never became robust (co_gap) */
    /* cfg->stop ended training after at_batch batches of the epoch after
     * epochs_done (at_batch 0: right after epoch epochs_done); the state
     * to resume from is in the resume file. */
    bool interrupted;
    int at_batch;
} advc_train_result;

/* Whether cfg->resume can go on from the resume file, without training:
 * the file reads, the run is the same, epochs are left.  advc_train
 * makes the same checks; this lets a caller refuse before it prints
 * anything.  Loads the file's weights into g. */
advc_status advc_train_resume_check(advc_graph *g, const advc_dataset *data,
                                    const advc_train_config *cfg);

/* g must be compiled for cfg->batch and initialised. */
advc_status advc_train(advc_graph *g, const advc_dataset *data,
                       const advc_train_config *cfg, advc_train_result *res);

/* Clean accuracy of every exit on the first `limit` samples of d (all if
 * limit <= 0), in eval mode, batch by batch: acc[e] for e < exits.  loss
 * (may be NULL) gets the final exit's mean cross-entropy. */
advc_status advc_eval_clean(advc_graph *g, const advc_dataset *d, int limit,
                            float *acc, float *loss);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_TRAIN_H */
