/* model_spec.h (private to src/models): parsing "name[:key=value,...]"
 * specs, and the small building blocks (conv-BN-act, ...) that several
 * model builders share.
 *
 * Every getter takes a default used when the key is absent and reports a
 * bad value as ADVC_ERR_ARG with "model '<spec>': <key> must be ...".
 * Not here: the models themselves (simple.c, resnet.c, msdnet.c) and the
 * name -> builder table (registry.c).
 */
#ifndef ADVC_MODEL_SPEC_H
#define ADVC_MODEL_SPEC_H

#include <stdbool.h>
#include "advc/models.h"

#define MSPEC_MAX_KEYS 16
#define MSPEC_MAX_LIST 16

typedef struct {
    char key[32];
    char val[96];
} mspec_kv;

typedef struct {
    const char *spec;            /* the whole string, quoted in messages */
    char name[32];               /* the part before ':'                  */
    int nkeys;
    mspec_kv kv[MSPEC_MAX_KEYS];
} mspec;

/* Splits spec into its name and key=value pairs (syntax only).  Rejects
 * empty items, items without '=', empty keys/values and repeated keys. */
advc_status mspec_parse(const char *spec, mspec *s);
/* Rejects any key not in `allowed` (NULL-terminated), listing the valid
 * ones: "model 'cnn:foo=1': unknown key 'foo' (keys: none)". */
advc_status mspec_check_keys(const mspec *s, const char *const *allowed);
/* The value of key, or NULL if absent. */
const char *mspec_get(const mspec *s, const char *key);

/* Typed getters (key absent: *out = def). */
advc_status mspec_int(const mspec *s, const char *key, int def, int lo,
                      int hi, int *out);
advc_status mspec_float(const mspec *s, const char *key, float def,
                        float lo, float hi, float *out);
/* 0/1 (also accepts "off"/"on", "false"/"true"). */
advc_status mspec_bool(const mspec *s, const char *key, bool def,
                       bool *out);
/* Dash-separated ints "256-256", each in [lo, hi], between minn and maxn
 * of them (maxn <= MSPEC_MAX_LIST).  def/ndef is the default list. */
advc_status mspec_list(const mspec *s, const char *key, const int *def,
                       int ndef, int minn, int maxn, int lo, int hi,
                       int *out, int *n);
/* One of names[] (NULL-terminated); *out is its index. */
advc_status mspec_choice(const mspec *s, const char *key,
                         const char *const *names, int def, int *out);

/* Records "model '<spec>': <message>" and returns ADVC_ERR_ARG. */
advc_status mspec_error(const mspec *s, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ---- shared building blocks -------------------------------------------
 * A builder context: the graph under construction and what every model
 * needs to know.  Helpers return the new node id or -1; a -1 input gives
 * -1 without touching the graph, so a failure propagates to the exit and
 * the builder checks once at the end. */
typedef struct {
    advc_graph *g;
    const mspec *s;
    advc_shape in;
    int classes;
    advc_act_spec act;
} mctx;

/* conv k x k (no bias: BN follows) -> BN -> act (when act is true).
 * The nodes are named "<base>.conv<i>" and "<base>.bn<i>" ("<base>.conv",
 * "<base>.bn" when i = 0); the graph appends ".w", ".b", ... */
int mb_conv_bn(const mctx *m, const char *base, int i, int x, int cout,
               int k, int stride, int pad, bool act);
/* act(x) with the model's activation. */
int mb_act(const mctx *m, int x);
/* Marks x as an exit with weight 1; returns the exit index or -1. */
int mb_exit(const mctx *m, int x);
/* Output size of a k x k convolution / pooling window, or 0 if none. */
int mb_out_size(int in, int k, int stride, int pad);

/* The model builders (registry.c dispatches to them).  Each reads its
 * keys from m->s, adds nodes to m->g and marks the exits; it returns
 * ADVC_OK, or ADVC_ERR_ARG with a message naming the spec. */
advc_status advc_build_linear(const mctx *m);
advc_status advc_build_mlp(const mctx *m);
advc_status advc_build_maxout(const mctx *m);
advc_status advc_build_cnn_small(const mctx *m);
advc_status advc_build_cnn(const mctx *m);
advc_status advc_build_resnet(const mctx *m);
advc_status advc_build_msdnet(const mctx *m);

#endif /* ADVC_MODEL_SPEC_H */
