/* gradcheck.h: finite-difference checks of a graph's backward pass, in the
 * manner of kann's kad_check_grad.
 *
 * For a compiled graph with parameters set, an input x (n samples) and
 * fixed random weights r_e per exit, the scalar
 *     L = sum_e sum_i r_e[i] * logits_e[i]        (accumulated in double)
 * has an analytic gradient from one backward pass with dlogits_e = r_e.
 * Each checked coordinate is compared with the central difference
 * (L(p + h) - L(p - h)) / 2h.  The error measure is over the whole checked
 * vector, ||analytic - fd||_2 / max(||analytic||_2, ||fd||_2), which fp32
 * rounding keeps at 1e-6..3e-4 for a correct gradient while any mistake
 * (a missing term, a wrong index, a wrong scale) puts it near 1.
 * Non-smooth ops (relu, max) are only meaningful away from their kinks:
 * the callers choose inputs so that no step of size h crosses one.
 */
#ifndef ADVC_GRADCHECK_H
#define ADVC_GRADCHECK_H

/* The relative error every gradient check in the tests is held to: the
 * graph's ops (test_nn_grad.c) and the recipes' losses (test_recipes.c)
 * alike.  Central differences in float32 at h = 1e-2 reach about 1e-4 on
 * these small networks; 2e-3 leaves room for curvature. */
#define GC_TOL 2e-3

#include <check.h>
#include <stdbool.h>
#include <stdint.h>
#include "advc/nn.h"

typedef struct {
    double h;           /* central-difference step                     */
    int max_coords;     /* coordinates checked per vector; 0: all       */
    advc_mode mode;     /* forward mode of every evaluation             */
    uint64_t seed;      /* r and the coordinate sample                  */
    bool fix_dropout;   /* reset the graph's seed before every forward,
                           so train-mode dropout keeps one mask         */
} gc_opts;

typedef struct {
    double input_err, param_err; /* relative errors (0 if none checked) */
    int input_coords, param_coords;
    double input_norm, param_norm; /* ||analytic|| over checked coords  */
} gc_result;

/* Default options: h = 1e-2, 400 coordinates, eval mode, seed 1. */
gc_opts gc_defaults(void);
/* Checks dL/dx (every graph) and dL/dparams (if the graph has any). */
gc_result gc_check(advc_graph *g, int n, const float *x, const gc_opts *o);
/* Fills the whole parameter slab with U(-a, a) values (biases and BN
 * parameters too, so no term of a gradient is trivially zero) and BN
 * state with mean U(-0.5, 0.5), var U(0.5, 1.5). */
void gc_randomize(advc_graph *g, float a, uint64_t seed);

/* The gradient-check test case (test_nn_grad.c), part of the nn suite. */
TCase *nn_grad_tcase(void);

#endif
