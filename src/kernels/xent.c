/* xent.c: softmax and softmax cross-entropy over rows of logits, in float.
 * One implementation for every ISA: the class count is small (10 for
 * MNIST), so the cost is a few expf per sample, far below the GEMMs.  Each
 * row's maximum is subtracted before expf, so logits of +-1e4 are fine.
 * Accuracy (u = 2^-24, held by tests/test_vec.c against the double oracle
 * scalar/xent_ref.c): p_j within (|z_j - max| + c + 2) u relatively, loss
 * within (c u + 2e-6)(1 + loss), gradient within (c + 4) u |scale|.
 */
#include <assert.h>
#include <math.h>
#include "advc/kernels.h"

/* max_j z_j (z has c >= 1 entries) */
static float row_max(int c, const float *z)
{
    float m = z[0];
    for (int j = 1; j < c; j++)
        m = z[j] > m ? z[j] : m;
    return m;
}

/* e_j = exp(z_j - m) into e (which may be z itself); returns sum_j e_j.
 * Every e_j is in [0, 1] and the max's is 1, so the sum is in [1, c]: no
 * overflow, and no division by zero later. */
static float row_exp(int c, const float *z, float m, float *e)
{
    float s = 0.0f;
    for (int j = 0; j < c; j++) {
        e[j] = expf(z[j] - m);
        s += e[j];
    }
    return s;
}

/* loss_i = (m_i - z_i[y_i]) + log(sum_j exp(z_ij - m_i)), the two terms
 * kept apart so neither is ever large-minus-large; mean over rows in
 * double (0 for n = 0). */
float advc_softmax_xent(int n, int c, const float *z, const int *y,
                        float *losses)
{
    assert(n >= 0 && c >= 1);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        assert(y[i] >= 0 && y[i] < c);
        float m = row_max(c, zi), s = 0.0f;
        for (int j = 0; j < c; j++)
            s += expf(zi[j] - m);
        float li = (m - zi[y[i]]) + logf(s);
        if (losses)
            losses[i] = li;
        total += li;
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* dz_ij = scale * (softmax(z_i)_j - [j == y_i]) */
void advc_softmax_xent_grad(int n, int c, const float *z, const int *y,
                            float scale, float *dz)
{
    assert(n >= 0 && c >= 1);
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        float *di = dz + (size_t)i * (size_t)c;
        assert(y[i] >= 0 && y[i] < c);
        float s = row_exp(c, zi, row_max(c, zi), di);
        for (int j = 0; j < c; j++) {
            float pj = di[j] / s;
            /* p - 1 is exact for p in [0.5, 1] (Sterbenz), so a confident
             * correct class still gets an accurate, tiny gradient. */
            di[j] = scale * (j == y[i] ? pj - 1.0f : pj);
        }
    }
}

/* p_ij = exp(z_ij - m_i) / sum_k exp(z_ik - m_i); p may alias z */
void advc_softmax(int n, int c, const float *z, float *p)
{
    assert(n >= 0 && c >= 1);
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        float *pi = p + (size_t)i * (size_t)c;
        float s = row_exp(c, zi, row_max(c, zi), pi);
        for (int j = 0; j < c; j++)
            pi[j] /= s;
    }
}
