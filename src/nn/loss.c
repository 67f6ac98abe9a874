/* loss.c: the losses of advc/loss.h (cross-entropy, CW margin, DLR, KL and
 * FAB-T's logit difference) on logits, each with its gradient ADDED into
 * dz as scale * dl_i/dz_i.
 * Each row is computed in double from the float logits (c is small, so this
 * costs nothing next to the network), with the row maximum subtracted
 * before any exp, so logits of +-1e4 give finite losses and gradients.
 * Not here: softmax kernels (kernels/xent.c), reductions over exits.
 */
#include "advc/loss.h"

#include <assert.h>
#include <math.h>
#include <stddef.h>

/* DLR's guard against a zero denominator (Croce & Hein 2020). */
#define DLR_EPS 1e-12

/* dz_j += scale * g, rounded once to float. */
static inline void add_grad(float *dz, int j, double scale, double g)
{
    dz[j] = (float)((double)dz[j] + scale * g);
}

/* Index of the first maximum of z over j != skip (skip = -1: all j). */
static int argmax_except(int c, const float *z, int skip)
{
    int best = -1;
    for (int j = 0; j < c; j++) {
        if (j == skip) continue;
        if (best < 0 || z[j] > z[best]) best = j;
    }
    return best;
}

/* lse = m + log(sum_j exp(z_j - m)), m = max_j z_j; every exp is in (0, 1]
 * and one is 1, so the sum is in [1, c] and never overflows. */
static double row_logsumexp(int c, const float *z)
{
    double m = z[0];
    for (int j = 1; j < c; j++)
        if (z[j] > m) m = z[j];
    double s = 0.0;
    for (int j = 0; j < c; j++)
        s += exp((double)z[j] - m);
    return m + log(s);
}

/* ---- cross-entropy ------------------------------------------------------ */

/* l_i = logsumexp(z_i) - z_i[y_i];  dl/dz_ij = softmax(z_i)_j - [j == y_i] */
float advc_loss_xent(int n, int c, const float *z, const int *y,
                     float *losses, float *dz, float scale)
{
    assert(n >= 0 && c >= 1);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        int yi = y[i];
        assert(yi >= 0 && yi < c);
        double lse = row_logsumexp(c, zi);
        /* lse - z_y >= 0 mathematically; rounding can leave -tiny */
        double li = fmax(lse - (double)zi[yi], 0.0);
        if (losses) losses[i] = (float)li;
        total += li;
        if (dz) {
            float *di = dz + (size_t)i * (size_t)c;
            for (int j = 0; j < c; j++) {
                double pj = exp((double)zi[j] - lse); /* softmax_j */
                add_grad(di, j, scale, j == yi ? pj - 1.0 : pj);
            }
        }
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* ---- Carlini-Wagner margin ---------------------------------------------- */

/* untargeted: l = z_a - z_y, a = argmax_{j != y} z_j
 * targeted:   l = z_t - z_a, a = argmax_{j != t} z_j
 * dl/dz = +1 at the positive term, -1 at the negative one. */
float advc_loss_cw(int n, int c, const float *z, const int *y,
                   const int *target, float *losses, float *dz, float scale)
{
    assert(n >= 0 && c >= 2);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        int pos, neg; /* l = z_pos - z_neg */
        if (target) {
            assert(target[i] >= 0 && target[i] < c);
            pos = target[i];
            neg = argmax_except(c, zi, pos);
        } else {
            assert(y[i] >= 0 && y[i] < c);
            neg = y[i];
            pos = argmax_except(c, zi, neg);
        }
        /* the difference of two floats is exact in double */
        double li = (double)zi[pos] - (double)zi[neg];
        if (losses) losses[i] = (float)li;
        total += li;
        if (dz) {
            float *di = dz + (size_t)i * (size_t)c;
            add_grad(di, pos, scale, 1.0);
            add_grad(di, neg, scale, -1.0);
        }
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* ---- difference of logits ratio ----------------------------------------- */

/* The indices of the k largest logits, decreasing, ties to the lower
 * index (k <= 4 <= c): a partial selection sort, O(k c). */
static void top_k(int c, const float *z, int k, int *idx)
{
    for (int r = 0; r < k; r++) {
        int best = -1;
        for (int j = 0; j < c; j++) {
            int taken = 0;
            for (int q = 0; q < r; q++) taken |= idx[q] == j;
            if (taken) continue;
            if (best < 0 || z[j] > z[best]) best = j;
        }
        idx[r] = best;
    }
}

/* untargeted: l = -(z_y - z_a) / D,  a = argmax_{j != y}, D = z_p1 - z_p3
 *   dl/dz_y = -1/D, dl/dz_a = +1/D, dl/dz_p1 = +N/D^2, dl/dz_p3 = -N/D^2
 * targeted:   l = -(z_y - z_t) / D,  D = z_p1 - (z_p3 + z_p4)/2
 *   dl/dz_y = -1/D, dl/dz_t = +1/D, dl/dz_p1 = +N/D^2,
 *   dl/dz_p3 = dl/dz_p4 = -N/(2 D^2)
 * with N the numerator (z_y - z_a or z_y - z_t), D including + 1e-12.
 * Contributions to the same index add (p1 is often y or a). */
float advc_loss_dlr(int n, int c, const float *z, const int *y,
                    const int *target, float *losses, float *dz, float scale)
{
    assert(n >= 0 && c >= (target ? 4 : 3));
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        int yi = y[i];
        assert(yi >= 0 && yi < c);
        int p[4];
        top_k(c, zi, target ? 4 : 3, p);
        int other; /* the logit subtracted from z_y */
        double d;  /* the denominator D */
        if (target) {
            other = target[i];
            assert(other >= 0 && other < c);
            d = (double)zi[p[0]] - 0.5 * ((double)zi[p[2]] + zi[p[3]]);
        } else {
            other = argmax_except(c, zi, yi);
            d = (double)zi[p[0]] - (double)zi[p[2]];
        }
        d += DLR_EPS;
        double num = (double)zi[yi] - (double)zi[other];
        double li = -num / d;
        if (losses) losses[i] = (float)li;
        total += li;
        if (dz) {
            float *di = dz + (size_t)i * (size_t)c;
            double nd2 = num / (d * d);
            add_grad(di, yi, scale, -1.0 / d);
            add_grad(di, other, scale, 1.0 / d);
            add_grad(di, p[0], scale, nd2);
            if (target) {
                add_grad(di, p[2], scale, -0.5 * nd2);
                add_grad(di, p[3], scale, -0.5 * nd2);
            } else {
                add_grad(di, p[2], scale, -nd2);
            }
        }
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* ---- difference of two logits (FAB-T) ---------------------------------- */

/* l = z_t - z_y;  dl/dz_t = +1, dl/dz_y = -1 */
float advc_loss_logit_diff(int n, int c, const float *z, const int *y,
                           const int *target, float *losses, float *dz,
                           float scale)
{
    assert(n >= 0 && c >= 2 && target);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *zi = z + (size_t)i * (size_t)c;
        int t = target[i], yi = y[i];
        assert(t >= 0 && t < c && yi >= 0 && yi < c && t != yi);
        double li = (double)zi[t] - (double)zi[yi]; /* exact in double */
        if (losses) losses[i] = (float)li;
        total += li;
        if (dz) {
            float *di = dz + (size_t)i * (size_t)c;
            add_grad(di, t, scale, 1.0);
            add_grad(di, yi, scale, -1.0);
        }
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* ---- KL divergence ------------------------------------------------------ */

/* l = sum_j p_j (lp_j - lq_j), lp = log softmax(zp), lq = log softmax(zq)
 *   dl/dzq_j = q_j - p_j
 *   dl/dzp_j = p_j ((lp_j - lq_j) - l)
 * Log-probabilities come straight from the logits (z_j - lse), never from
 * log(p), so a p_j that underflows to 0 contributes 0, not 0 * -inf. */
float advc_loss_kl(int n, int c, const float *zp, const float *zq,
                   float *losses, float *dzp, float *dzq, float scale)
{
    assert(n >= 0 && c >= 1);
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        const float *pi = zp + (size_t)i * (size_t)c;
        const float *qi = zq + (size_t)i * (size_t)c;
        double lsep = row_logsumexp(c, pi), lseq = row_logsumexp(c, qi);
        double kl = 0.0;
        for (int j = 0; j < c; j++) {
            double lp = (double)pi[j] - lsep, lq = (double)qi[j] - lseq;
            kl += exp(lp) * (lp - lq);
        }
        /* KL >= 0 (Gibbs); rounding can leave -tiny.  The gradients below
         * use the unclamped sum so they stay exact adjoints. */
        double li = fmax(kl, 0.0);
        if (losses) losses[i] = (float)li;
        total += li;
        if (!dzp && !dzq) continue;
        for (int j = 0; j < c; j++) {
            double lp = (double)pi[j] - lsep, lq = (double)qi[j] - lseq;
            double pj = exp(lp), qj = exp(lq);
            if (dzq) add_grad(dzq + (size_t)i * (size_t)c, j, scale, qj - pj);
            if (dzp)
                add_grad(dzp + (size_t)i * (size_t)c, j, scale,
                         pj * ((lp - lq) - kl));
        }
    }
    return n > 0 ? (float)(total / n) : 0.0f;
}

/* pred_i = the first j with z_ij = max_k z_ik */
void advc_argmax_rows(int n, int c, const float *z, int *pred)
{
    assert(n >= 0 && c >= 1);
    for (int i = 0; i < n; i++)
        pred[i] = argmax_except(c, z + (size_t)i * (size_t)c, -1);
}
