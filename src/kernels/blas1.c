/* blas1.c: the public BLAS-1 kernels and optimizer updates, forwarded to
 * this build's ISA (see dispatch.h).  Element-wise kernels (axpy, scale,
 * SGD, Adam) round exactly as scalar/blas1_ref.c does and match it bit for
 * bit; sum and dot add in a different order (several vector accumulators),
 * within the error bound stated in tests/test_vec.c.
 * Arrays may be the same array (in place) but not partly overlap.
 */
#include <assert.h>
#include "dispatch.h"

void advc_axpy(size_t n, float a, const float *x, float *y) /* y += a x */
{
    isa_axpy(n, a, x, y);
}

void advc_scale(size_t n, float a, float *x) /* x *= a */
{
    isa_scale(n, a, x);
}

float advc_sum(size_t n, const float *x) /* sum_i x_i */
{
    return isa_sum(n, x);
}

float advc_max(size_t n, const float *x) /* max_i x_i, -inf if n = 0 */
{
    return isa_max(n, x);
}

float advc_dot(size_t n, const float *x, const float *y) /* sum x_i y_i */
{
    return isa_dot(n, x, y);
}

/* g' = g + wd w;  v = mu v + g';  w -= lr (nesterov ? g' + mu v : v) */
void advc_sgd_update(size_t n, float *w, const float *g, float *v, float lr,
                     float mu, float wd, bool nesterov)
{
    isa_sgd_update(n, w, g, v, lr, mu, wd, nesterov);
}

/* g' = g + wd w;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2;
 * w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps),  t >= 1 */
void advc_adam_update(size_t n, float *w, const float *g, float *m, float *v,
                      float lr, float b1, float b2, float eps, float wd,
                      int t)
{
    assert(t >= 1);
    isa_adam_update(n, w, g, m, v, lr, b1, b2, eps, wd, t);
}
