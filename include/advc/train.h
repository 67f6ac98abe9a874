/* advc/train.h: the training loop and clean evaluation.
 *
 * One loop for every recipe: each step gathers a shuffled batch, lets the
 * recipe make the training input and accumulate the gradient of its loss,
 * then the optimizer steps at the scheduled learning rate.  At the end of
 * each epoch the model is evaluated on the held-out split, a CSV line is
 * logged and the checkpoint is written (temporary file + rename).  A NaN
 * or inf loss stops training with ADVC_ERR_NAN and leaves the last good
 * checkpoint in place.
 */
#ifndef ADVC_TRAIN_H
#define ADVC_TRAIN_H

#include "advc/nn.h"
#include "advc/optim.h"
#include "advc/data.h"

typedef enum {
    ADVC_PROGRESS_NONE = 0, /* silent                                      */
    ADVC_PROGRESS_EPOCH,    /* one line per epoch on stderr (not a tty)   */
    ADVC_PROGRESS_LIVE      /* a live line on stderr, redrawn (a tty)     */
} advc_progress;

typedef enum { ADVC_RECIPE_STD = 0, ADVC_RECIPE_COUNT } advc_recipe;

typedef struct {
    int epochs;               /* passes over the training split          */
    int batch;                /* must equal the graph's compiled batch   */
    advc_opt_config opt;
    advc_schedule sched;
    uint64_t seed;            /* shuffling, dropout (init is the caller's) */
    int val_count;            /* last val_count training samples held out */
    advc_recipe recipe;
    /* Outputs (each may be NULL). */
    const char *out_path;     /* checkpoint, rewritten every epoch        */
    const char *log_path;     /* CSV, one line per epoch                  */
    const char *spec;         /* stored in the checkpoint                 */
    advc_act_spec act;        /* stored in the checkpoint                 */
    advc_progress progress;
} advc_train_config;

/* Defaults: 1 epoch, batch 128, Adam lr 1e-3 constant, seed 1, no
 * validation, std recipe, progress per epoch. */
advc_train_config advc_train_defaults(void);
const char *advc_recipe_name(advc_recipe r);
advc_recipe advc_recipe_parse(const char *s); /* ADVC_RECIPE_COUNT if unknown */

typedef struct {
    int epochs_done;
    long steps;
    double seconds;       /* training time, excluding evaluation */
    float loss;           /* mean training loss of the last epoch */
    float train_acc;      /* final-exit accuracy on the last epoch's batches */
    float val_acc;        /* final exit on the held-out split (-1 if none) */
} advc_train_result;

/* g must be compiled for cfg->batch and initialised. */
advc_status advc_train(advc_graph *g, const advc_dataset *data,
                       const advc_train_config *cfg, advc_train_result *res);

/* Clean accuracy of every exit on the first `limit` samples of d (all if
 * limit <= 0), in eval mode, batch by batch: acc[e] for e < exits.  loss
 * (may be NULL) gets the final exit's mean cross-entropy. */
advc_status advc_eval_clean(advc_graph *g, const advc_dataset *d, int limit,
                            float *acc, float *loss);

#endif /* ADVC_TRAIN_H */
