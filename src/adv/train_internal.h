/* train_internal.h: what the training loop (train.c) and the recipes
 * (recipes.c) share: the per-step context and the recipe table.  A recipe
 * is two steps the loop calls for every batch (and every replay of it):
 *   make_input  writes the training input s->xadv from the clean batch
 *               (NULL: the recipe trains on the clean batch);
 *   loss        runs the forward/backward passes of the recipe's loss on
 *               the training input(s), accumulates d(loss)/d(params) in
 *               the graph's gradient slab (zeroed by the step itself),
 *               writes the final exit's predictions and returns the loss.
 * The loop then steps the optimizer.  Nothing outside src/adv sees this.
 */
#ifndef ADVC_TRAIN_INTERNAL_H
#define ADVC_TRAIN_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "advc/attack.h"
#include "advc/train.h"
#include <stdio.h>
#include "advc/optim.h"

typedef struct {
    advc_graph *g;
    const advc_recipe_config *rc; /* resolved: no defaults left            */
    advc_mode adv_mode;     /* mode the training attacks run the model in  */
    bool split_rules;       /* ATTACK and UPDATE backward rules differ     */
    uint64_t seed;          /* the run's seed                              */
    /* This step. */
    const float *x;         /* (n, d) clean batch                          */
    const int *y;           /* (n)                                         */
    int n;
    size_t d;               /* floats per sample                          */
    long batch_index;       /* batches gathered so far (seeds the random
                               starts: one stream per batch and replay)    */
    int replay;             /* free: 0 .. replays-1; else 0                */
    int *pred;              /* (n) final-exit predictions, set by loss     */
    /* Set by make_input. */
    bool clean_live;        /* the graph holds a TRAIN forward of x        */
    /* Workspace, allocated once by recipe_ws_alloc. */
    float *xadv;            /* (B, d) the training input                   */
    float *start;           /* (B, d) the training attack's first iterate  */
    float *delta;           /* (B, d) free: perturbation kept across batches */
    advc_attack_config atk; /* the training attack (fgsm: FGSM; fgsm-rs,
                               me-fgsm: FGSM from start; pgd: PGD, highest
                               loss; trades: PGD on KL, last iterate)      */
    advc_attack_ws *atk_ws; /* its working memory                          */
    float *pts;             /* (3, B, d) elle: x_a, x_b, x_c               */
    float *per;             /* (8, B) elle: CE at x_a, x_b, x_c; the a_i;
                               the three points' gradient scales; scratch */
    float *zsave;           /* (exits, B, classes) trades: clean logits    */
    float *dsave;           /* (exits, B, classes) trades: clean dL/dz     */
    float *state;           /* (nstate) trades: BN statistics saved        */
    size_t nstate;
} recipe_ctx;

/* One recipe: the descriptor row in the file that implements it. */
typedef struct {
    advc_recipe_desc pub;   /* name, summary, paper, settings             */
    /* Its default rules: fills every setting left at "default" (0, or a
     * negative alpha/beta) for a model with `exits` exits. */
    void (*resolve)(advc_recipe_config *c, int exits);
    /* Its training attack (ADVC_ATK_COUNT: none) and the attack's
     * training choices beyond the common ones (recipe_ws_alloc). */
    advc_attack_kind attack;
    void (*setup_attack)(advc_attack_config *a);
    void (*make_input)(recipe_ctx *s);  /* NULL: trains on the clean batch */
    float (*loss)(recipe_ctx *s);
    bool replays;           /* each batch is replayed rc->replays times    */
    bool guard;             /* the guard is on by default (std: off)       */
} recipe_def;

/* The table entry for r (r < ADVC_RECIPE_COUNT). */
const recipe_def *recipe_get(advc_recipe r);

/* Allocates s's workspace for recipe r and batch B (zeroed), with the
 * recipe's training attack; frees it. */
advc_status recipe_ws_alloc(recipe_ctx *s, advc_recipe r, int B);
void recipe_ws_free(recipe_ctx *s);

/* ---- pieces the recipe files share (recipes.c) --------------------------- */

/* For the last forward: every exit's dlogits = mul * w_e dCE_e/dz / n;
 * returns sum_e w_e mean_i CE_ie. */
float recipe_xent_grad(recipe_ctx *s, float mul);
/* s->pred from the final exit of the last forward. */
void recipe_final_pred(recipe_ctx *s);
/* The recipe's training attack on this batch, s->x -> s->xadv, with the
 * recipe's current budget, step and mode. */
void recipe_run_attack(recipe_ctx *s);
/* One generator per (batch, replay, purpose): the same seed gives the same
 * starts whatever the thread count. */
void recipe_rng(const recipe_ctx *s, uint64_t purpose, advc_rng *r);
/* p = x + U(-eps, eps) for the batch, clipped to [0, 1] when clip. */
void recipe_uniform_start(const recipe_ctx *s, float *p, bool clip);
/* p = Pi(p + a sign(grad)): the projected sign step on the whole batch. */
void recipe_sign_step(const recipe_ctx *s, float *p, const float *grad,
                      float a);
/* Forward `in` in TRAIN mode, weighted CE backward (UPDATE pass,
 * gradients accumulated at weight mul, zeroed first if zero); returns
 * mul * CE. */
float recipe_ce_update(recipe_ctx *s, const float *in, float mul,
                       bool zero);
/* recipe_fgsm.c, shared with fast: FGSM from the unclipped uniform
 * start x + U(-eps, eps) into s->xadv; the training attack's gradient of
 * the batch-mean loss. */
void recipe_input_fgsm_rs(recipe_ctx *s);
void recipe_attack_batch_mean(advc_attack_config *a);
/* recipe_pgd.c, shared with fast: PGD from the clipped uniform start,
 * keeping each sample's highest-loss iterate; the batch-mean loss's
 * gradient. */
void recipe_input_pgd(recipe_ctx *s);
void recipe_attack_pgd(advc_attack_config *a);
/* steps = `steps` and step = 2.5 eps / steps unless given. */
void recipe_pgd_defaults(advc_recipe_config *c, int steps);
/* CE at the training input s->xadv (fgsm-rs, pgd, me-fgsm). */
float recipe_loss_adv(recipe_ctx *s);
static inline float recipe_clamp01(float v)
{
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

/* The common rows of the recipes' parameter tables, so a flag shared by
 * several recipes reads the same everywhere (offsets into
 * advc_recipe_config). */
#define RCP_ROW(flag, meta, type, field, lo, hi, open, def, help, eg)        \
    { flag, meta, type, offsetof(advc_recipe_config, field), lo, hi, open,   \
      def, help, eg, 0, 0, NULL, NULL }
#define RCP_ROW_EPS                                                          \
    RCP_ROW("eps", "X", ADVC_PARAM_REAL, eps, 0, 1, 1, "0.3",                \
            "L-inf budget of the training attacks (and of the guard)",      \
            "0.3 or 8/255")
#define RCP_ROW_STEP_SIZE(def)                                               \
    RCP_ROW("step-size", "X", ADVC_PARAM_REAL, step_size, 0, 100, 1, def,    \
            "step of the training attack", "0.01 or 2/255")
#define RCP_ROW_STEPS(def)                                                   \
    RCP_ROW("steps", "K", ADVC_PARAM_INT, steps, 1, 100000, 0, def,          \
            "iterations of the training attack", NULL)
#define RCP_ROW_ADV_MODE                                                     \
    { "adv-mode", "M", ADVC_PARAM_CHOICE,                                    \
      offsetof(advc_recipe_config, adv_mode), 0, 0, 0, "train",             \
      "model mode while making training attacks (train: batch statistics " \
      "and dropout on)", "default|train|eval", 0, 0, NULL, NULL }
#define RCP_ROW_ITERATE(def)                                                 \
    { "iterate", "I", ADVC_PARAM_CHOICE,                                     \
      offsetof(advc_recipe_config, iterate), 0, 0, 0, def,                  \
      "which PGD iterate the update trains on (max: each image's "          \
      "highest-loss one, one forward more; last: x_k)",                      \
      "default|max|last", 0, 0, NULL, NULL }
/* --attack-grad / --update-grad values (recipes.c): a backward rule for
 * ReLU, shown as "none" when unset. */
advc_status recipe_parse_rule(const char *text, void *dst);
void recipe_format_rule(const void *src, char *buf, size_t bufsz);
#define RCP_ROW_RULE(flag, field, help)                                      \
    { flag, "R", ADVC_PARAM_CUSTOM, offsetof(advc_recipe_config, field), 0, \
      0, 0, "none", help,                                                    \
      "a backward rule: psoftplus:A, softplus, silu, gelu, elu, sigmoid, "  \
      "tanh or relu", 0, 0, recipe_parse_rule, recipe_format_rule }
#define RCP_ROW_ATTACK_GRAD                                                  \
    RCP_ROW_RULE("attack-grad", attack_grad,                                 \
                 "SAT ablation: ReLU's derivative in the training attacks' " \
                 "backward passes (needs --act relu; not used when the "     \
                 "model is evaluated)")
#define RCP_ROW_UPDATE_GRAD                                                  \
    RCP_ROW_RULE("update-grad", update_grad,                                 \
                 "SAT ablation: ReLU's derivative in the parameter-update "  \
                 "backward passes (needs --act relu)")
#define RCP_ROW_EXIT_L2(def)                                                 \
    { "exit-l2", "LIST", ADVC_PARAM_REALS,                                   \
      offsetof(advc_recipe_config, exit_l2), 0, 100, 0, def,                 \
      "per-exit L2 on exit<i>.fc.w, one value per exit (multi-exit models)", \
      "0.1,0.1,0.1,0.15,0.15", ADVC_MAX_EXIT_L2,                             \
      offsetof(advc_recipe_config, n_exit_l2), NULL, NULL }

/* ---- the training run (train.c) and its steps ---------------------------- */

/* The held-out images the overfitting guard attacks (train_guard.c). */
typedef struct {
    const float *x;   /* (n, d) held-out images */
    const int *y;     /* (n) */
    int n;
    float *xadv;      /* (B, d) */
    int *pred;        /* (B) */
} guard_set;

/* Everything the loop and its named steps share. */
typedef struct {
    advc_graph *g;
    const advc_dataset *data;
    advc_train_config cfg;  /* resolved: lr, the guard's count          */
    advc_train_result *res;
    advc_recipe_config rc;  /* resolved: what the run is asked for       */
    advc_recipe_config rc_now; /* what the recipe sees this step (rc, or
                               rc with eps and steps ramped)             */
    const recipe_def *def;
    recipe_ctx sc;          /* the recipe's per-step context             */
    advc_optimizer *opt;
    int B, E, classes;      /* batch, exits, classes                     */
    size_t per;             /* floats per image                           */
    int ntrain;             /* images trained on: [0, ntrain)            */
    int steps, bsz;         /* batches per epoch and their size          */
    int epochs, replays;    /* epochs run (free: ceil(epochs / m))       */
    float *xb;              /* (B, per) the batch                        */
    int *yb, *pred, *perm;  /* (B), (B), (ntrain)                         */
    float *exit_acc;        /* (E) scratch for validation accuracies     */
    guard_set gs;
    uint64_t guard_seed;
    FILE *log;              /* the CSV log's text (a memory stream over
                               log_text), or NULL; after every epoch the
                               whole text is written to cfg.log_path
                               through the safe writer (advc/io.h)        */
    char *log_text;
    size_t log_len;
    bool log_failed;        /* a write failed (reported once)             */
    char best_path[4096];
    char data_train[32];    /* fingerprint of the data trained on        */
    bool rules_on;          /* the SAT backward rules are installed       */
    /* Where this run starts: epochs done, batches of the next one done
     * (a resumed run, train_resume.c; else 0, 0). */
    int start_epoch, start_batch;
    bool resumed;
    /* This epoch. */
    double loss_sum, sec;
    long correct, seen, nloss;
    float lr;
    advc_guard_point pt;
    bool is_best, chance, fgsm_only, stop;
    /* Per exit (multi-exit models, all but the final one): the best
     * held-out PGD accuracy so far, its epoch, and a fall this epoch. */
    float exit_best_pgd[ADVC_MAX_EXIT_L2];
    int exit_best_epoch[ADVC_MAX_EXIT_L2];
    bool exit_fell[ADVC_MAX_EXIT_L2];
} train_run;

/* train.c: the --eps-ramp factor at fractional epoch `when` (of `steps`
 * steps per epoch): min(1, (when + 1/steps) / ramp); 1 without a ramp. */
float train_ramp_factor(double when, int steps, float ramp);

/* train.c: installs (on) or removes the training-only backward rules
 * (--attack-grad, --update-grad). */
void train_set_rules(train_run *t, bool on);

/* train_guard.c: accuracy per exit over rows [0, n) of (x, y), eval mode;
 * the guard's held-out split and its evaluation, and the best/collapse
 * bookkeeping after each epoch. */
advc_status train_eval_rows(advc_graph *g, const float *x, const int *y,
                            int n, float *acc, float *loss);
advc_status guard_open(train_run *t);
void guard_close(train_run *t);
advc_status guard_epoch(train_run *t, int epoch);

/* train_log.c: what the run says and writes: the header, the live
 * progress line, the epoch line, the CSV log, the checkpoints. */
void log_header(const train_run *t);
void log_progress(const train_run *t, int epoch, int s, double t0,
                  double *last_draw);
void log_epoch(train_run *t, int epoch);
advc_status log_open_csv(train_run *t);
advc_status log_write_csv(train_run *t);
advc_status log_checkpoints(train_run *t, int epoch);

/* train.c: epoch e's order of the training images: the previous epoch's
 * shuffled by the stream (seed, 1000 + e). */
void train_shuffle(train_run *t, int epoch);

/* train_resume.c: the resumable state NAME.resume (after `epochs` epochs
 * and `batches` batches of the next), continuing from it (cfg.resume:
 * checks it is the same run, restores the state, replays the shuffles),
 * the line saying so, and the CSV log's lines of the epochs done, copied
 * into `into` (*keep: there were some: the header and whole rows). */
advc_status resume_save(train_run *t, int epochs, int batches);
advc_status resume_open(train_run *t);
void resume_note(const train_run *t);
advc_status resume_read_log(const train_run *t, const char *path, FILE *into,
                            bool *keep);

/* train_params.c: the run's settings as "key=value" joined by sep (the
 * recipe's rows, then the training rows). */
void train_settings(const advc_train_config *cfg,
                    const advc_recipe_config *rc, char sep, char *buf,
                    size_t bufsz);

/* The descriptors (one per recipe file), named by ADVC_RECIPE_TABLE. */
#define RCP_DECLARE(id, file_name) extern const recipe_def recipe_##file_name##_def;
ADVC_RECIPE_TABLE(RCP_DECLARE)
#undef RCP_DECLARE

#define RCP_NPARAMS(a) ((int)(sizeof(a) / sizeof *(a)))

#endif /* ADVC_TRAIN_INTERNAL_H */
