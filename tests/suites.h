/* suites.h: every Check suite of the test binary, one line each.  Each
 * tests/test_<name>.c defines Suite *advc_suite_<name>(void). */
#ifndef ADVC_SUITES_H
#define ADVC_SUITES_H
#include <check.h>

#define ADVC_SUITES(X) \
    X(core)            \
    X(param)           \
    X(gemm)            \
    X(im2col)          \
    X(conv)            \
    X(act)             \
    X(vec)             \
    X(data)            \
    X(io)              \
    X(deflate)         \
    X(augment)         \
    X(loss)            \
    X(optim)           \
    X(checkpoint)      \
    X(models)          \
    X(nn)              \
    X(attack)          \
    X(aa)              \
    X(patch)           \
    X(eval)            \
    X(pictures)        \
    X(recipes)         \
    X(npz)             \
    X(interop)         \
    X(resume)          \
    X(npy)

#define ADVC_DECLARE_SUITE(name) Suite *advc_suite_##name(void);
ADVC_SUITES(ADVC_DECLARE_SUITE)
#undef ADVC_DECLARE_SUITE
#endif
