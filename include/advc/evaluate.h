/* advc/evaluate.h: honest robustness evaluation.
 *
 * Runs a list of attacks over a data set batch by batch and reports, for
 * every exit: clean accuracy, accuracy under each attack, and the
 * per-sample worst case (a sample counts as robust only if it is right
 * clean and under every attack).  Alongside, the gradient-masking checks of
 * src/adv/METHODS.md section 7, each flagged when it fails:
 *   - large-eps: PGD at a huge budget must bring accuracy near 0;
 *   - pgd>=fgsm: PGD must not be weaker than FGSM;
 *   - fgsm<=clean: FGSM must not raise accuracy (label leaking, a sign
 *     of FGSM training that overfit catastrophically);
 *   - noise: random noise in the ball must not beat PGD;
 *   - zero-grad: the share of samples whose input gradient is all zeros;
 *   - fgsm-only: FGSM accuracy of 50% or more, more than 50 points above
 *     PGD's (a single-step-trained model that learned to defeat its one
 *     step: FGSM-trained maxout at 71.6% FGSM, 0.8% PGD).
 * Attacks are run against the final exit's "fooled" criterion and the
 * multi-exit mode in each config; every setting is echoed in the report.
 */
#ifndef ADVC_EVALUATE_H
#define ADVC_EVALUATE_H

#include "advc/attack.h"
#include "advc/data.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ADVC_EVAL_MAX_ATTACKS 16
#define ADVC_EVAL_MAX_EXITS 16
/* FGSM accuracy this far above PGD's (with FGSM >= 50%) means the model
 * resists the single step and nothing stronger: flagged by the masking
 * checks, and the guard's default --co-gap. */
#define ADVC_FGSM_ONLY_GAP 0.5f
/* The reference AutoAttack warns when Square lowers robust accuracy by
 * more than 0.2 points after the gradient attacks. */
#define ADVC_SQUARE_GAIN_WARN 0.002f

typedef struct {
    int n;                                   /* samples evaluated          */
    int exits, nattacks;
    bool cascade;        /* advc_eval_cascade: robust_acc[e][a] is after
                            attacks 0..a, not attack a alone               */
    int judge;           /* cascade: the exit that decides "robust"        */
    advc_attack_config attacks[ADVC_EVAL_MAX_ATTACKS];
    /* Accuracies in [0,1]: [exit] and [exit][attack]. */
    float clean_acc[ADVC_EVAL_MAX_EXITS];
    float robust_acc[ADVC_EVAL_MAX_EXITS][ADVC_EVAL_MAX_ATTACKS];
    float worst_acc[ADVC_EVAL_MAX_EXITS];    /* right clean and under all   */
    /* [exit][attack]: the mean softmax confidence of the wrong prediction
     * over the samples the attack fooled (Goodfellow et al.'s "mean
     * confidence on the adversarial examples"; in a cascade, over the
     * samples this attack turned); -1 if none was fooled. */
    float fooled_conf[ADVC_EVAL_MAX_EXITS][ADVC_EVAL_MAX_ATTACKS];
    double seconds[ADVC_EVAL_MAX_ATTACKS];   /* attack time                 */
    /* cascade: robust accuracy (judged exit) that a final Square took from
     * what the gradient attacks before it left; AutoAttack reads more
     * than ADVC_SQUARE_GAIN_WARN as a sign of gradient masking.  0 when
     * the list does not end with Square. */
    float square_gain;
} advc_robust_report;

/* The final exit's prediction for rows [0, n) of x, batch by batch in
 * eval mode: pred[i] = argmax_j z_ij and, if conf is not NULL, conf[i] =
 * its softmax probability. */
advc_status advc_predict(advc_graph *g, const float *x, int n, int *pred,
                         float *conf);

/* Attacks rows [0, n) of x (labels y) batch by batch (the graph's batch)
 * into x_adv (n rows).  Sample i's random start is keyed by its index
 * (cfg->first_index + i) as in advc_eval_robust, so the same settings give
 * the same points here and there, whatever the batch size. */
advc_status advc_attack_rows(advc_graph *g, const advc_attack_config *cfg,
                             const float *x, const int *y, int n,
                             float *x_adv);

/* Evaluates the first `limit` samples (all if <= 0) of d. */
advc_status advc_eval_robust(advc_graph *g, const advc_dataset *d, int limit,
                             const advc_attack_config *attacks, int nattacks,
                             advc_robust_report *rep);
/* The same with the adversarial examples made against another model, src
 * (transfer: Goodfellow et al.'s examples made on one network and shown to
 * another); src = g is advc_eval_robust.  src's batch must be >= g's. */
advc_status advc_eval_transfer(advc_graph *g, advc_graph *src,
                               const advc_dataset *d, int limit,
                               const advc_attack_config *attacks,
                               int nattacks, advc_robust_report *rep);

/* AutoAttack's evaluation (Croce & Hein 2020): the attacks in order, each
 * only on the samples every earlier one left robust.  A sample is robust
 * while the judged exit (the final one, or the attacked one under
 * ADVC_EXITS_ONE, as set in attacks[0]) is right on the clean input and
 * on every point the attacks produced for it.  Then, at the judged exit,
 * robust_acc[judge][a] is "robust accuracy after attack a" and worst_acc
 * the final figure; other exits report the same test over the points
 * produced (which aimed at the judged exit).  Each sample's random streams
 * are keyed by attacks[0].first_index plus its index in d, so results do
 * not depend on the batch size or on which other samples are still being
 * attacked, and d may be a shard of a larger set whose first row has
 * index first_index: the shards' counts add up to the whole set's.
 * seconds[a] is attack a's own time.  Every config must use the same exit
 * mode. */
advc_status advc_eval_cascade(advc_graph *g, const advc_dataset *d,
                              int limit, const advc_attack_config *attacks,
                              int nattacks, advc_robust_report *rep);

/* AutoAttack's standard L-inf list at budget eps ("version standard" of
 * the reference): APGD-CE (100 steps, 1 restart), APGD-T (the 9 most
 * likely other classes, 100 steps each), FAB-T (9 classes, 100 steps
 * each, 1 restart), Square (5000 queries, p_init 0.8); all with `seed`.
 * Fills list[0..ADVC_AA_ATTACKS) and returns ADVC_AA_ATTACKS. */
#define ADVC_AA_ATTACKS 4
int advc_autoattack_list(float eps, uint64_t seed, advc_attack_config *list);

typedef struct {
    int n;                 /* samples the checks ran on                     */
    float eps;             /* the budget under test                         */
    float large_eps;       /* the large budget used                         */
    float acc_large_eps;   /* PGD accuracy at large_eps (want ~0)           */
    float acc_clean, acc_fgsm, acc_pgd, acc_noise;
    float zero_grad_share; /* samples with an all-zero input gradient       */
    bool large_eps_ok, pgd_vs_fgsm_ok, fgsm_vs_clean_ok, noise_ok;
    bool zero_grad_ok;
    bool fgsm_only_ok;     /* not: FGSM accuracy >= 50% and more than
                              ADVC_FGSM_ONLY_GAP above PGD's (a single-step
                              model robust only to that step)            */
} advc_masking_report;

/* The verdicts (every *_ok) from the accuracies and the zero-gradient
 * share already in rep; advc_masking_checks measures, then calls this. */
void advc_masking_judge(advc_masking_report *rep);

/* Runs the checks on the first `limit` samples of d (all if <= 0)
 * at budget eps with PGD of `steps` steps; large_eps is typically 1.0 for
 * L-inf on [0, 1] images (anything is reachable). */
advc_status advc_masking_checks(advc_graph *g, const advc_dataset *d,
                                int limit, float eps, int steps,
                                float large_eps, uint64_t seed,
                                advc_masking_report *rep);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_EVALUATE_H */
