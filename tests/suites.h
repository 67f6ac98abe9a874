/* suites.h: every Check suite of the test binary, one line each.  Each
 * tests/test_<name>.c defines Suite *advc_suite_<name>(void) (a file may
 * define two, to split a slow one).  The number beside each is its rough
 * run time in seconds under qemu (NEON build, 2 workers, loaded machine),
 * used only to hand the slowest suites out first with `advc-tests -j N`;
 * a wrong one costs wall time, never a result. */
#ifndef ADVC_SUITES_H
#define ADVC_SUITES_H
#include <check.h>

#define ADVC_SUITES(X)     \
    X(core, 5)             \
    X(param, 1)            \
    X(gemm, 11)            \
    X(im2col, 10)          \
    X(conv, 3)             \
    X(act, 18)             \
    X(vec, 3)              \
    X(data, 1)             \
    X(io, 1)               \
    X(deflate, 2)          \
    X(augment, 1)          \
    X(loss, 1)             \
    X(optim, 1)            \
    X(checkpoint, 11)      \
    X(models, 237)         \
    X(nn, 70)              \
    X(attack, 46)          \
    X(patch, 30)           \
    X(aa, 213)             \
    X(eval, 1)             \
    X(pictures, 2)         \
    X(recipes, 40)         \
    X(recipes_train, 270)  \
    X(recipes_runs, 260)   \
    X(npz, 1)              \
    X(interop, 23)         \
    X(resume, 180)         \
    X(resume_more, 180)    \
    X(npy, 1)

#define ADVC_DECLARE_SUITE(name, weight) Suite *advc_suite_##name(void);
ADVC_SUITES(ADVC_DECLARE_SUITE)
#undef ADVC_DECLARE_SUITE
#endif
