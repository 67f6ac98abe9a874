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
    float *zsave;           /* (exits, B, classes) trades: clean logits    */
    float *dsave;           /* (exits, B, classes) trades: clean dL/dz     */
    float *state;           /* (nstate) trades: BN statistics saved        */
    size_t nstate;
} recipe_ctx;

typedef struct {
    const char *name;
    void (*make_input)(recipe_ctx *s);
    float (*loss)(recipe_ctx *s);
} recipe_def;

/* The table entry for r (r < ADVC_RECIPE_COUNT). */
const recipe_def *recipe_get(advc_recipe r);

/* Allocates s's workspace for recipe r and batch B (zeroed), with the
 * recipe's training attack; frees it. */
advc_status recipe_ws_alloc(recipe_ctx *s, advc_recipe r, int B);
void recipe_ws_free(recipe_ctx *s);


#endif /* ADVC_TRAIN_INTERNAL_H */
