/* advc/attack.h: adversarial attacks on a compiled graph.
 *
 * Every attack reads clean inputs x (n, c, h, w) in [lo, hi] with labels y
 * and writes adversarial inputs x_adv of the same shape, inside the budget
 * (L-inf: |x_adv - x|_inf <= eps; L2: |x_adv - x|_2 <= eps per sample) and
 * inside [lo, hi].  By default attacks run the model in EVAL mode, use
 * logits (never softmax), are seeded and deterministic (same seed and
 * thread count => same bits), and never change parameters or batch-norm
 * statistics.  n must be <= the graph's compiled batch.
 *
 * The result per sample is the first point found that fools the model
 * (prediction != y, or == the target when targets are given), else the
 * point with the highest loss; restarts only re-run samples not fooled yet.
 * With max_loss it is the highest-loss point, fooled or not.
 *
 * Multi-exit models: the attacked loss is the sum over exits (default),
 * one exit alone, or the max-average attack (Hu et al., ICLR 2020): run
 * the attack against each exit alone and against the mean of the exits'
 * losses, then keep per sample the candidate whose mean loss over exits
 * is highest.  advc runs the summed attack first and keeps the points it
 * fools, so max-average is never weaker than the summed attack and pays
 * for the per-exit runs on the robust samples only.  "Fooled" on a multi-exit model means the final exit's
 * prediction is wrong (under ADVC_EXITS_ONE: the attacked exit's).
 *
 * Every attack is described once, by a descriptor (advc_attack_desc) in
 * the file that implements it: its name, a one-line summary, the paper,
 * and its settings as parameter rows (advc/param.h).  The command line,
 * --help, the settings line of every report, the JSON keys and the
 * validation all come from the descriptors.  The methods, in words:
 * src/adv/METHODS.md.
 */
#ifndef ADVC_ATTACK_H
#define ADVC_ATTACK_H

#include "advc/nn.h"
#include "advc/param.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every attack advc has, one line each: X(ID, file_name).  ID names the
 * kind (ADVC_ATK_<ID>), file_name its descriptor atk_<file_name>_def in
 * src/adv/attack_*.c.  Adding an attack is a file with its descriptor and
 * one line here (README: "Adding an attack"). */
#define ADVC_ATTACK_TABLE(X)                                                 \
    X(FGSM, fgsm)         /* x + eps sign(grad), one step                 */ \
    X(PGD, pgd)           /* L-inf PGD-k, random start, restarts          */ \
    X(PGD_L2, pgd_l2)     /* L2 PGD-k: normalised gradient steps          */ \
    X(CW, cw)             /* PGD on the CW margin loss ("CW-inf")         */ \
    X(APGD_CE, apgd_ce)   /* AutoAttack's APGD on cross-entropy           */ \
    X(APGD_DLR, apgd_dlr) /* APGD on the DLR loss                         */ \
    X(APGD_T, apgd_t)     /* targeted APGD-DLR, top-k other classes       */ \
    X(NOISE, noise)       /* uniform random noise in the ball (baseline)  */

typedef enum {
#define ADVC_ATK_ENUM(id, file_name) ADVC_ATK_##id,
    ADVC_ATTACK_TABLE(ADVC_ATK_ENUM)
#undef ADVC_ATK_ENUM
    ADVC_ATK_COUNT
} advc_attack_kind;

typedef enum {
    ADVC_LOSS_XENT = 0,
    ADVC_LOSS_CW,
    ADVC_LOSS_DLR,
    ADVC_LOSS_KL         /* KL(f(x) || f(x')), f(x) taken at the run's start
                            (TRADES' inner maximisation)                  */
} advc_attack_loss;

typedef enum {
    ADVC_EXITS_SUM = 0,  /* attack sum_e loss_e                         */
    ADVC_EXITS_ONE,      /* attack exit `exit` alone                    */
    ADVC_EXITS_MAXAVG    /* max-average attack over exits               */
} advc_exit_mode;

typedef enum {
    ADVC_NORM_LINF = 0,  /* eps in (0, 1] on [0, 1] pixels              */
    ADVC_NORM_L2         /* eps in (0, sqrt(c h w)]                     */
} advc_norm;

typedef struct {
    advc_attack_kind kind;
    float eps;            /* budget (L-inf, or L2 for PGD_L2)                */
    int steps;            /* iterations (FGSM: 1)                           */
    float step_size;      /* per-step size; 0 = the attack's default rule   */
    int restarts;         /* >= 1; per sample the best restart is kept      */
    int random_start;     /* 1: start uniformly in the ball; 0: at x        */
    advc_attack_loss loss;/* PGD's loss (CW and APGD fix their own)         */
    const int *targets;   /* (n) target labels for a targeted attack, or NULL */
    int target_classes;   /* APGD_T: how many top classes to target (9)     */
    uint64_t seed;
    uint64_t first_index; /* the data set index of x's first row: random
                             starts are keyed by (seed, index), so a
                             sample's result does not depend on the batch
                             it was attacked in                          */
    advc_exit_mode exits;
    int exit;             /* for ADVC_EXITS_ONE                             */
    float lo, hi;         /* valid pixel range, normally [0, 1]             */
    bool early_stop;      /* stop iterating samples already fooled (must
                             not change the result)                        */
    bool max_loss;        /* result per sample: false (default) = the first
                             point that fools the model, else the highest-
                             loss point (evaluation); true = the highest-
                             loss point, fooled or not (adversarial
                             training, loss comparisons; early_stop has no
                             effect)                                       */
    /* The choices adversarial training makes differently from evaluation
     * (src/adv/recipe_*.c set them; evaluation keeps the defaults): */
    advc_mode mode;       /* mode of the attack's forward passes (EVAL)     */
    const float *start;   /* (n, c, h, w) the first iterate, used as given
                             (it may lie outside [lo, hi]: FGSM-RS takes its
                             gradient at the unclipped random start), or
                             NULL: x, or a random start                    */
    bool last_iterate;    /* the result is the last iterate (TRADES)        */
    bool batch_mean;      /* dJ/dlogits / n: the gradient of the batch-mean
                             loss, as the training loss has it             */
    bool exit_weights;    /* weight each exit's loss by the graph's exit
                             weight, as the training loss does             */
} advc_attack_config;

/* An attack as the user sees it: what it is, where it comes from, which
 * settings of advc_attack_config it reads (the rows' offsets point into
 * advc_attack_config) and its defaults. */
typedef struct {
    const char *name;       /* "pgd": --attack pgd                         */
    const char *summary;    /* one line: what it computes                  */
    const char *paper;      /* "Madry et al., ICLR 2018"                   */
    advc_norm norm;         /* the budget's norm                            */
    const advc_param *params; /* the settings it reads (flags)             */
    int nparams;
} advc_attack_desc;

/* Named combinations: "aa-lite" = apgd-ce,apgd-dlr,apgd-t; "all". */
typedef struct {
    const char *name;
    const char *summary;
    int nkinds;
    advc_attack_kind kinds[8];
} advc_attack_suite;

/* The descriptor of kind k (NULL if k is not an attack). */
const advc_attack_desc *advc_attack_describe(advc_attack_kind k);
/* Suites, terminated by a row with name NULL. */
const advc_attack_suite *advc_attack_suites(void);

/* Defaults for a kind: common ones (eps 0.3 or the norm's, [0, 1], one
 * restart, cross-entropy, seed 0, the sum over exits, early_stop on,
 * EVAL mode) and then the attack's own (its descriptor's rows show them).
 * step_size 0 means the attack's own rule, applied by advc_attack_resolve. */
advc_attack_config advc_attack_defaults(advc_attack_kind kind);
/* cfg with every default rule applied (step_size from eps and steps ...),
 * as the attack will run it and as reports print it. */
advc_attack_config advc_attack_resolve(const advc_attack_config *cfg);
const char *advc_attack_name(advc_attack_kind k);
advc_attack_kind advc_attack_parse(const char *s); /* COUNT if unknown */

/* "pgd eps=0.3 steps=40 step_size=0.01875 restarts=1 random_start=1":
 * the resolved settings of cfg, every row of its descriptor, keys as in
 * JSON and checkpoint metadata (the flag with '_' for '-'). */
void advc_attack_settings(const advc_attack_config *cfg, char *buf,
                          size_t bufsz);

/* Checks cfg (every row's range, the budget against the input size for
 * L2, targets, exits) against g without attacking; ADVC_ERR_ARG naming
 * the setting. */
advc_status advc_attack_check(const advc_graph *g,
                              const advc_attack_config *cfg);

advc_status advc_attack_run(advc_graph *g, const advc_attack_config *cfg,
                            const float *x, const int *y, int n,
                            float *x_adv);

/* Working memory for repeated runs of one attack kind (and exit mode) on
 * batches of up to n samples, so a loop of attacks allocates nothing.
 * advc_attack_run is ws_new + run_ws + ws_free. */
typedef struct advc_attack_ws advc_attack_ws;
advc_attack_ws *advc_attack_ws_new(const advc_graph *g,
                                   const advc_attack_config *cfg, int n);
void advc_attack_ws_free(advc_attack_ws *w);
/* cfg must have the kind and exit mode ws was made for, n <= its n. */
advc_status advc_attack_run_ws(advc_graph *g, const advc_attack_config *cfg,
                               advc_attack_ws *ws, const float *x,
                               const int *y, int n, float *x_adv);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_ATTACK_H */
