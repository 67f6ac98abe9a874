/* suites.h: every Check suite of the test binary, one line each.  Each
 * tests/test_<name>.c defines Suite *advc_suite_<name>(void) (a file may
 * define two, to split a slow one).  The number beside each is its rough
 * run time in seconds under qemu (NEON build, 2 workers, idle 2-vCPU
 * machine, 2026-12-07), used only to hand the slowest suites out first
 * with `advc-tests -j N`; a wrong one costs wall time, never a result. */
#ifndef ADVC_SUITES_H
#define ADVC_SUITES_H
#include <check.h>

#define ADVC_SUITES(X)     \
    X(core, 2)             \
    X(param, 1)            \
    X(gemm, 6)            \
    X(im2col, 4)          \
    X(conv, 1)             \
    X(act, 7)             \
    X(vec, 1)              \
    X(data, 1)             \
    X(io, 1)               \
    X(deflate, 1)          \
    X(augment, 1)          \
    X(loss, 1)             \
    X(optim, 1)            \
    X(checkpoint, 1)      \
    X(models, 60)         \
    X(nn, 44)              \
    X(attack, 24)          \
    X(patch, 156)           \
    X(aa, 102)             \
    X(eval, 1)             \
    X(pictures, 1)         \
    X(recipes, 1)         \
    X(recipes_train, 160)  \
    X(recipes_runs, 164)   \
    X(npz, 1)              \
    X(interop, 11)         \
    X(resume, 112)         \
    X(resume_more, 94)    \
    X(npy, 1)

#define ADVC_DECLARE_SUITE(name, weight) Suite *advc_suite_##name(void);
ADVC_SUITES(ADVC_DECLARE_SUITE)
#undef ADVC_DECLARE_SUITE
#endif
