/* advc/optim.h: optimizers over a graph's parameter slab, and learning-
 * rate schedules.
 *
 * Weight decay is L2 added to the gradient (g + wd w), applied to WEIGHT
 * tensors only (not biases, not batch-norm gamma/beta), with a per-tensor
 * strength that can be overridden by name prefix: that is how each exit's
 * fully-connected weights get their own lambda.
 */
#ifndef ADVC_OPTIM_H
#define ADVC_OPTIM_H

#include "advc/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { ADVC_OPT_SGD = 0, ADVC_OPT_ADAM } advc_opt_kind;

typedef struct {
    advc_opt_kind kind;
    float momentum;      /* SGD momentum mu (0 = plain SGD); e.g. 0.9    */
    bool nesterov;       /* SGD: Nesterov momentum                       */
    float beta1, beta2;  /* Adam: 0.9, 0.999                             */
    float eps;           /* Adam: 1e-8                                   */
    float weight_decay;  /* default L2 strength for WEIGHT tensors       */
} advc_opt_config;

/* The usual defaults for a kind (SGD: mu 0.9; Adam: 0.9/0.999/1e-8),
 * weight decay 0. */
advc_opt_config advc_opt_defaults(advc_opt_kind kind);

typedef struct advc_optimizer advc_optimizer;

/* Allocates the optimizer state (momentum / Adam moments) for g's
 * parameter slab.  g must be compiled. */
advc_optimizer *advc_optimizer_new(advc_graph *g, const advc_opt_config *c);
void advc_optimizer_free(advc_optimizer *o);
/* Every tensor whose name starts with prefix gets L2 strength wd (also a
 * BIAS tensor, if the prefix names it).  Returns ADVC_ERR_ARG if no tensor
 * matches. */
advc_status advc_optimizer_set_wd(advc_optimizer *o, const char *prefix,
                                  float wd);
/* One update from the graph's gradient slab at learning rate lr. */
void advc_optimizer_step(advc_optimizer *o, float lr);
long advc_optimizer_steps(const advc_optimizer *o);
/* The optimizer's state, for saving and resuming a run: slab 0 is SGD's
 * velocity or Adam's first moment, slab 1 Adam's second moment (NULL for
 * SGD); each has *count floats (the graph's parameter count).  The slabs
 * are the optimizer's own, writable; set_steps sets the number of updates
 * made so far (Adam's bias correction depends on it). */
float *advc_optimizer_state(advc_optimizer *o, int slab, size_t *count);
void advc_optimizer_set_steps(advc_optimizer *o, long steps);

/* ---- learning-rate schedules -------------------------------------------
 * Spec strings (--schedule):
 *   constant                lr
 *   step:E1,E2,...[@G]      lr times G (default 0.1) after each epoch Ei
 *   cosine                  lr (1 + cos(pi t / T)) / 2
 *   cyclic[:F]              linear 0 -> lr over the first F of training
 *                           (default 0.4), then linear lr -> 0 (the
 *                           one-cycle schedule of fast adversarial training)
 * t is the fractional epoch (e.g. 2.5 = halfway through the third epoch),
 * T the total number of epochs. */
typedef enum {
    ADVC_SCHED_CONSTANT = 0,
    ADVC_SCHED_STEP,
    ADVC_SCHED_COSINE,
    ADVC_SCHED_CYCLIC
} advc_sched_kind;

#define ADVC_SCHED_MAX_MILESTONES 16
typedef struct {
    advc_sched_kind kind;
    float lr;                                   /* base / peak rate */
    float gamma;                                /* step: factor      */
    int nmilestones;
    float milestones[ADVC_SCHED_MAX_MILESTONES]; /* step: epochs     */
    float peak_frac;                            /* cyclic: where the peak is */
} advc_schedule;

advc_status advc_schedule_parse(const char *spec, float lr,
                                advc_schedule *out);
float advc_schedule_lr(const advc_schedule *s, double t, double total);
/* The spec string of s, without its lr ("cyclic:0.4", "step:50,75@0.1");
 * advc_schedule_parse reads it back. */
void advc_schedule_format(const advc_schedule *s, char *buf, size_t bufsz);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_OPTIM_H */
