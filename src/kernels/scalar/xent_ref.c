/* xent_ref.c: softmax cross-entropy in double precision, the oracle for
 * src/kernels/xent.c.  Each row's maximum is subtracted before exp, so
 * logits of +-1e4 give finite, exact-to-double results; everything is
 * rounded to float once at the end.
 */
#include <assert.h>
#include <math.h>
#include "advc/kernels.h"

/* max_j z_j; logsumexp(z) = m + log(sum_j exp(z_j - m)) with it. */
static double row_max(int c, const float *z)
{
    double m = -INFINITY;
    for (int j = 0; j < c; j++)
        m = z[j] > m ? z[j] : m;
    return m;
}

/* sum_j exp(z_j - m), in [1, c] when m is the max */
static double row_sumexp(int c, const float *z, double m)
{
    double s = 0.0;
    for (int j = 0; j < c; j++)
        s += exp((double)z[j] - m);
    return s;
}

/* loss_i = (m_i - z_i[y_i]) + log(sum_j exp(z_ij - m_i)); returns the mean
 * (0 for n = 0). */
float advc_softmax_xent_ref(int n, int c, const float *z, const int *y,
                            float *losses)
{
    assert(n >= 0 && c >= 1);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        assert(y[i] >= 0 && y[i] < c);
        double m = row_max(c, zi);
        double li = (m - zi[y[i]]) + log(row_sumexp(c, zi, m));
        if (losses)
            losses[i] = (float)li;
        total += li;
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* dz_ij = scale * (exp(z_ij - m_i) / s_i - [j == y_i]) */
void advc_softmax_xent_grad_ref(int n, int c, const float *z, const int *y,
                                float scale, float *dz)
{
    assert(n >= 0 && c >= 1);
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        float *di = dz + (size_t)i * (size_t)c;
        assert(y[i] >= 0 && y[i] < c);
        double m = row_max(c, zi);
        double s = row_sumexp(c, zi, m);
        for (int j = 0; j < c; j++) {
            double p = exp((double)zi[j] - m) / s;
            di[j] = (float)((double)scale * (p - (j == y[i] ? 1.0 : 0.0)));
        }
    }
}
