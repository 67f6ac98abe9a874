/* model_spec.c: parsing model specs "name[:key=value,...]" (ints, floats,
 * booleans, choices, dash-separated lists such as "hidden=512-256"), and
 * the building blocks shared by the model builders (conv-BN-act, exits).
 *
 * Messages always start with "model '<the whole spec>': " and name the
 * key and what was expected, so a user can fix a typo from one line.
 * Not here: any particular model.
 */
#include "model_spec.h"
#include "advc/param.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

advc_status mspec_error(const mspec *s, const char *fmt, ...)
{
    char msg[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return advc_set_error(ADVC_ERR_ARG, "model '%s': %s", s->spec, msg);
}

/* Copies [b, e) into out (size outsz); false if it does not fit. */
static bool copy_span(const char *b, const char *e, char *out, size_t outsz)
{
    size_t n = (size_t)(e - b);
    if (n >= outsz) return false;
    memcpy(out, b, n);
    out[n] = '\0';
    return true;
}

advc_status mspec_parse(const char *spec, mspec *s)
{
    memset(s, 0, sizeof *s);
    s->spec = spec ? spec : "";
    if (!spec || !*spec)
        return advc_set_error(ADVC_ERR_ARG, "model '': empty model spec");
    const char *colon = strchr(spec, ':');
    const char *name_end = colon ? colon : spec + strlen(spec);
    if (name_end == spec) return mspec_error(s, "missing model name");
    if (!copy_span(spec, name_end, s->name, sizeof s->name))
        return mspec_error(s, "model name too long");
    if (!colon) return ADVC_OK;

    const char *p = colon + 1;
    for (;;) {
        const char *end = strchr(p, ',');
        if (!end) end = p + strlen(p);
        if (end == p) return mspec_error(s, "empty key=value item");
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (!eq) {
            return mspec_error(s, "'%.*s' is not key=value", (int)(end - p),
                               p);
        }
        if (eq == p) return mspec_error(s, "missing key before '='");
        if (eq + 1 == end) {
            return mspec_error(s, "missing value for key '%.*s'",
                               (int)(eq - p), p);
        }
        if (s->nkeys == MSPEC_MAX_KEYS)
            return mspec_error(s, "too many keys (at most %d)",
                               MSPEC_MAX_KEYS);
        mspec_kv *kv = &s->kv[s->nkeys];
        if (!copy_span(p, eq, kv->key, sizeof kv->key))
            return mspec_error(s, "key '%.*s' too long", (int)(eq - p), p);
        if (!copy_span(eq + 1, end, kv->val, sizeof kv->val))
            return mspec_error(s, "value of '%s' too long", kv->key);
        for (int i = 0; i < s->nkeys; i++)
            if (strcmp(s->kv[i].key, kv->key) == 0)
                return mspec_error(s, "key '%s' given twice", kv->key);
        s->nkeys++;
        if (!*end) break;
        p = end + 1;
    }
    return ADVC_OK;
}

advc_status mspec_check_keys(const mspec *s, const char *const *allowed)
{
    for (int i = 0; i < s->nkeys; i++) {
        bool ok = false;
        for (const char *const *a = allowed; a && *a; a++)
            if (strcmp(*a, s->kv[i].key) == 0) ok = true;
        if (ok) continue;
        char list[256] = "";
        size_t len = 0;
        for (const char *const *a = allowed; a && *a; a++) {
            int w = snprintf(list + len, sizeof list - len, "%s%s",
                             len ? ", " : "", *a);
            if (w < 0 || (size_t)w >= sizeof list - len) break;
            len += (size_t)w;
        }
        return mspec_error(s, "unknown key '%s' (keys: %s)", s->kv[i].key,
                           len ? list : "none");
    }
    return ADVC_OK;
}

const char *mspec_get(const mspec *s, const char *key)
{
    for (int i = 0; i < s->nkeys; i++)
        if (strcmp(s->kv[i].key, key) == 0) return s->kv[i].val;
    return NULL;
}

/* Whole-string decimal integer (advc_parse_int); false on junk. */
static bool parse_int(const char *v, long *out)
{
    return advc_parse_int(v, out) == ADVC_OK;
}

advc_status mspec_int(const mspec *s, const char *key, int def, int lo,
                      int hi, int *out)
{
    const char *v = mspec_get(s, key);
    if (!v) {
        *out = def;
        return ADVC_OK;
    }
    long x;
    if (!parse_int(v, &x) || x < lo || x > hi)
        return mspec_error(s, "%s must be an integer in [%d, %d] (got '%s')",
                           key, lo, hi, v);
    *out = (int)x;
    return ADVC_OK;
}

advc_status mspec_float(const mspec *s, const char *key, float def,
                        float lo, float hi, float *out)
{
    const char *v = mspec_get(s, key);
    if (!v) {
        *out = def;
        return ADVC_OK;
    }
    char *end;
    errno = 0;
    float x = strtof(v, &end);
    if (errno || *end || end == v || !isfinite(x) || x < lo || x > hi)
        return mspec_error(s, "%s must be a number in [%g, %g] (got '%s')",
                           key, (double)lo, (double)hi, v);
    *out = x;
    return ADVC_OK;
}

advc_status mspec_bool(const mspec *s, const char *key, bool def, bool *out)
{
    static const char *const names[] = {"0", "1", "off", "on", "false",
                                        "true", NULL};
    int i;
    advc_status st = mspec_choice(s, key, names, def ? 1 : 0, &i);
    if (st != ADVC_OK) return st;
    *out = (i % 2) == 1;
    return ADVC_OK;
}

advc_status mspec_list(const mspec *s, const char *key, const int *def,
                       int ndef, int minn, int maxn, int lo, int hi,
                       int *out, int *n)
{
    const char *v = mspec_get(s, key);
    if (maxn > MSPEC_MAX_LIST) maxn = MSPEC_MAX_LIST;
    if (!v) {
        for (int i = 0; i < ndef; i++) out[i] = def[i];
        *n = ndef;
        return ADVC_OK;
    }
    int count = 0;
    const char *p = v;
    for (;;) {
        const char *end = strchr(p, '-');
        if (!end) end = p + strlen(p);
        char item[24];
        long x;
        if (count == maxn || !copy_span(p, end, item, sizeof item) ||
            !parse_int(item, &x) || x < lo || x > hi)
            goto bad;
        out[count++] = (int)x;
        if (!*end) break;
        p = end + 1;
    }
    if (count < minn) goto bad;
    *n = count;
    return ADVC_OK;
bad:
    if (minn == maxn)
        return mspec_error(s, "%s must be %d dash-separated integers in "
                              "[%d, %d], e.g. 1-2-4 (got '%s')",
                           key, minn, lo, hi, v);
    return mspec_error(s, "%s must be %d to %d dash-separated integers in "
                          "[%d, %d] (got '%s')",
                       key, minn, maxn, lo, hi, v);
}

advc_status mspec_choice(const mspec *s, const char *key,
                         const char *const *names, int def, int *out)
{
    const char *v = mspec_get(s, key);
    if (!v) {
        *out = def;
        return ADVC_OK;
    }
    for (int i = 0; names[i]; i++) {
        if (strcmp(names[i], v) == 0) {
            *out = i;
            return ADVC_OK;
        }
    }
    char list[192] = "";
    size_t len = 0;
    for (int i = 0; names[i]; i++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s",
                         i ? "|" : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof list - len) break;
        len += (size_t)w;
    }
    return mspec_error(s, "%s must be one of %s (got '%s')", key, list, v);
}

/* ---- building blocks ----------------------------------------------------- */

int mb_out_size(int in, int k, int stride, int pad)
{
    if (in <= 0 || k <= 0 || stride <= 0 || pad < 0) return 0;
    int span = in + 2 * pad - k;
    return span < 0 ? 0 : span / stride + 1;
}

int mb_act(const mctx *m, int x)
{
    if (x < 0) return -1;
    return advc_activation(m->g, x, m->act);
}

int mb_conv_bn(const mctx *m, const char *base, int i, int x, int cout,
               int k, int stride, int pad, bool act)
{
    if (x < 0) return -1;
    char cname[64], bname[64];
    if (i > 0) {
        snprintf(cname, sizeof cname, "%s.conv%d", base, i);
        snprintf(bname, sizeof bname, "%s.bn%d", base, i);
    } else {
        snprintf(cname, sizeof cname, "%s.conv", base);
        snprintf(bname, sizeof bname, "%s.bn", base);
    }
    int y = advc_conv2d(m->g, cname, x, cout, k, stride, pad, false);
    if (y < 0) return -1;
    y = advc_batchnorm(m->g, bname, y);
    return act ? mb_act(m, y) : y;
}

int mb_exit(const mctx *m, int x)
{
    if (x < 0) return -1;
    return advc_graph_add_exit(m->g, x, 1.0f);
}
