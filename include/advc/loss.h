/* advc/loss.h: losses on logits, with their gradients.
 *
 * Every loss takes logits z (n, c) and labels y (n), returns the mean over
 * the n samples, writes per-sample losses to `losses` if not NULL, and, if
 * dz is not NULL, ADDS scale * d(loss_i)/d(z_i) into dz (so losses compose:
 * zero dz once, then add CE and beta*KL, or several exits).  Typical
 * scale: weight / n.  Always computed on logits, never on probabilities
 * (softmax saturates and masks gradients).
 */
#ifndef ADVC_LOSS_H
#define ADVC_LOSS_H

#ifdef __cplusplus
extern "C" {
#endif

/* l_i = logsumexp(z_i) - z_i[y_i] */
float advc_loss_xent(int n, int c, const float *z, const int *y,
                     float *losses, float *dz, float scale);

/* Carlini-Wagner margin, the quantity an attacker MAXIMISES:
 *   untargeted (target NULL): l_i = max_{j != y_i} z_ij - z_i[y_i]
 *   targeted to t_i:          l_i = z_i[t_i] - max_{j != t_i} z_ij
 * l_i > 0 means the attack succeeded.  Subgradient at ties: the first
 * maximiser. */
float advc_loss_cw(int n, int c, const float *z, const int *y,
                   const int *target, float *losses, float *dz, float scale);

/* Difference of logits ratio (Croce & Hein 2020), also maximised; z_pi
 * are the logits sorted decreasingly (needs c >= 3; targeted c >= 4):
 *   untargeted: l_i = -(z_y - max_{j != y} z_j) / (z_pi1 - z_pi3 + 1e-12)
 *   targeted:   l_i = -(z_y - z_t) / (z_pi1 - (z_pi3 + z_pi4)/2 + 1e-12) */
float advc_loss_dlr(int n, int c, const float *z, const int *y,
                    const int *target, float *losses, float *dz, float scale);

/* Difference of two logits, maximised (FAB-T's objective: its zero set is
 * the boundary between y and the target t):
 *   l_i = z_i[t_i] - z_i[y_i];  dl/dz_t = +1, dl/dz_y = -1.  t_i != y_i. */
float advc_loss_logit_diff(int n, int c, const float *z, const int *y,
                           const int *target, float *losses, float *dz,
                           float scale);

/* KL(p || q) = sum_j p_j (log p_j - log q_j), p = softmax(zp),
 * q = softmax(zq) (TRADES: p clean, q adversarial).  dzp and dzq may each
 * be NULL. */
float advc_loss_kl(int n, int c, const float *zp, const float *zq,
                   float *losses, float *dzp, float *dzq, float scale);

/* argmax per row: pred (n). */
void advc_argmax_rows(int n, int c, const float *z, int *pred);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_LOSS_H */
