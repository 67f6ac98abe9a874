/* advc/attack.h: adversarial attacks on a compiled graph.
 *
 * Every attack reads clean inputs x (n, c, h, w) in [lo, hi] with labels y
 * and writes adversarial inputs x_adv of the same shape, inside the budget
 * (L-inf: |x_adv - x|_inf <= eps; L2: |x_adv - x|_2 <= eps per sample) and
 * inside [lo, hi].  Attacks run the model in EVAL mode, use logits (never
 * softmax), are seeded and deterministic (same seed and thread count =>
 * same bits), and never change parameters, gradients-as-parameters or
 * batch-norm statistics.  n must be <= the graph's compiled batch.
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
 * is highest.  "Fooled" on a multi-exit model means the final exit's
 * prediction is wrong (under ADVC_EXITS_ONE: the attacked exit's).
 */
#ifndef ADVC_ATTACK_H
#define ADVC_ATTACK_H

#include "advc/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ADVC_ATK_FGSM = 0,   /* x + eps sign(grad), one step (random start opt.) */
    ADVC_ATK_PGD,        /* L-inf PGD-k, random start, restarts            */
    ADVC_ATK_PGD_L2,     /* L2 PGD-k: normalised gradient steps, L2 ball    */
    ADVC_ATK_CW,         /* PGD on the CW margin loss ("CW-inf")          */
    ADVC_ATK_APGD_CE,    /* AutoAttack's APGD on cross-entropy            */
    ADVC_ATK_APGD_DLR,   /* APGD on the DLR loss                          */
    ADVC_ATK_APGD_T,     /* targeted APGD-DLR over the top-k other classes */
    ADVC_ATK_NOISE,      /* uniform random noise in the ball (a baseline) */
    ADVC_ATK_COUNT
} advc_attack_kind;

typedef enum {
    ADVC_LOSS_XENT = 0,
    ADVC_LOSS_CW,
    ADVC_LOSS_DLR
} advc_attack_loss;

typedef enum {
    ADVC_EXITS_SUM = 0,  /* attack sum_e loss_e                         */
    ADVC_EXITS_ONE,      /* attack exit `exit` alone                    */
    ADVC_EXITS_MAXAVG    /* max-average attack over exits               */
} advc_exit_mode;

typedef struct {
    advc_attack_kind kind;
    float eps;            /* budget (L-inf, or L2 for PGD_L2)                */
    int steps;            /* iterations (FGSM: 1)                           */
    float step_size;      /* per-step size; 0 = the attack's default        */
    int restarts;         /* >= 1; per sample the best restart is kept      */
    bool random_start;    /* FGSM/PGD: start uniformly in the ball          */
    advc_attack_loss loss;/* PGD's loss (CW and APGD fix their own)         */
    const int *targets;   /* (n) target labels for a targeted attack, or NULL */
    int target_classes;   /* APGD_T: how many top classes to target (9)     */
    uint64_t seed;
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
} advc_attack_config;

/* Defaults for a kind (documented in src/adv/attack.c): eps 0.3, [0, 1],
 * one restart; PGD/CW: 40 steps of 0.01 with a random start; PGD_L2: eps
 * 2.0, 40 steps of 2.5 eps / 40; APGD: 100 steps; FGSM: one step of eps,
 * no random start.  step_size 0 means the attack's own rule. */
advc_attack_config advc_attack_defaults(advc_attack_kind kind);
const char *advc_attack_name(advc_attack_kind k);
advc_attack_kind advc_attack_parse(const char *s); /* COUNT if unknown */

advc_status advc_attack_run(advc_graph *g, const advc_attack_config *cfg,
                            const float *x, const int *y, int n,
                            float *x_adv);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_ATTACK_H */
