/* param.c: the one parser per value type, and parsing, checking and
 * formatting of parameter rows (advc/param.h).  Nothing here knows what
 * the settings mean; the tables that use the rows do.
 */
#include "advc/param.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- value parsers -------------------------------------------------------- */

/* strtod over the whole of s, finite; false on anything else. */
static bool whole_double(const char *s, const char *end_want, double *out)
{
    char *end;
    if (s == end_want || *s == '\0') return false;
    errno = 0;
    double v = strtod(s, &end);
    if (end != end_want || errno == ERANGE || !isfinite(v)) return false;
    *out = v;
    return true;
}

advc_status advc_parse_real(const char *s, double *out)
{
    if (!s || !*s) return advc_set_error(ADVC_ERR_ARG, "empty number");
    const char *slash = strchr(s, '/');
    const char *end = s + strlen(s);
    double a, b = 1.0;
    bool ok = slash ? whole_double(s, slash, &a) &&
                          whole_double(slash + 1, end, &b) && b != 0.0
                    : whole_double(s, end, &a);
    /* strtod takes leading spaces; a value must not have any. */
    if (!ok || s[0] == ' ' || (slash && slash[1] == ' ') ||
        !isfinite(a / b))
        return advc_set_error(ADVC_ERR_ARG, "'%s' is not a number", s);
    *out = a / b;
    return ADVC_OK;
}

advc_status advc_parse_int(const char *s, long *out)
{
    char *end;
    if (!s || !*s || *s == ' ')
        return advc_set_error(ADVC_ERR_ARG, "'%s' is not an integer",
                              s ? s : "");
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return advc_set_error(ADVC_ERR_ARG, "'%s' is not an integer", s);
    *out = v;
    return ADVC_OK;
}

advc_status advc_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return advc_set_error(ADVC_ERR_ARG,
                              "'%s' is not a non-negative integer",
                              s ? s : "");
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0' || errno == ERANGE)
        return advc_set_error(ADVC_ERR_ARG,
                              "'%s' is not a non-negative integer", s);
    *out = (uint64_t)v;
    return ADVC_OK;
}

advc_status advc_parse_list(const char *s, advc_list_item_fn item,
                            void *ctx)
{
    if (!s || !*s) return advc_set_error(ADVC_ERR_ARG, "empty list");
    for (const char *p = s;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0)
            return advc_set_error(ADVC_ERR_ARG, "empty item in list '%s'",
                                  s);
        advc_status st = item(p, len, ctx);
        if (st != ADVC_OK) return st;
        if (!comma) return ADVC_OK;
        p = comma + 1;
    }
}

advc_status advc_parse_threads(const char *s, int *out)
{
    long v;
    if (advc_parse_int(s, &v) != ADVC_OK || v < 1 || v > ADVC_MAX_THREADS)
        return advc_set_error(ADVC_ERR_ARG,
                              "'%s' is not a thread count (an integer "
                              "from 1 to %d)", s ? s : "",
                              ADVC_MAX_THREADS);
    *out = (int)v;
    return ADVC_OK;
}

/* ---- rows ----------------------------------------------------------------- */

static void *field(const advc_param *p, void *base)
{
    return (char *)base + p->offset;
}

static const void *cfield(const advc_param *p, const void *base)
{
    return (const char *)base + p->offset;
}

/* d as a float, +-inf past float's range (a plain cast would be
 * undefined there). */
static float to_float(double d)
{
    if (d > FLT_MAX) return INFINITY;
    if (d < -FLT_MAX) return -INFINITY;
    return (float)d;
}

/* Whether v, as the float the field stores, lies in the row's range.  The
 * test is on the float, as advc_param_check sees it: "1e-50" for a range
 * open at 0 stores 0 and is refused, and a bound as typed ("0.1" for hi
 * 0.1) is accepted although (float)0.1 > 0.1. */
static bool in_range(const advc_param *p, double v)
{
    float f = to_float(v), lo = to_float(p->lo), hi = to_float(p->hi);
    return isfinite(f) && (p->lo_open ? f > lo : f >= lo) && f <= hi;
}

/* "%g" but with enough digits to tell 8/255 from 0.0314. */
static void fmt_real(double v, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%.6g", v);
}

void advc_param_wants(const advc_param *p, char *buf, size_t bufsz)
{
    char lo[32], hi[32];
    fmt_real(p->lo, lo, sizeof lo);
    fmt_real(p->hi, hi, sizeof hi);
    const char *eg = p->choices && p->type != ADVC_PARAM_CHOICE
                         ? p->choices : NULL;
    switch (p->type) {
    case ADVC_PARAM_INT:
        snprintf(buf, bufsz, "an integer from %ld to %ld", (long)p->lo,
                 (long)p->hi);
        break;
    case ADVC_PARAM_U64:
        snprintf(buf, bufsz, "a non-negative integer");
        break;
    case ADVC_PARAM_REAL:
    case ADVC_PARAM_REALS:
        snprintf(buf, bufsz, "%s in %c%s, %s]%s%s",
                 p->type == ADVC_PARAM_REALS ? "comma-separated numbers"
                                             : "a number",
                 p->lo_open ? '(' : '[', lo, hi, eg ? ", e.g. " : "",
                 eg ? eg : "");
        break;
    case ADVC_PARAM_CHOICE: {
        /* "a|b|c" -> "a, b or c" */
        size_t k = 0;
        const char *c = p->choices;
        buf[0] = '\0';
        while (*c && k + 1 < bufsz) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            const char *sep = k == 0 ? "" : bar ? ", " : " or ";
            int w = snprintf(buf + k, bufsz - k, "%s%.*s", sep, (int)len, c);
            if (w < 0) break;
            k += (size_t)w;
            if (k >= bufsz) break;
            c += len + (bar ? 1 : 0);
        }
        break;
    }
    case ADVC_PARAM_CUSTOM:
        snprintf(buf, bufsz, "%s", p->choices ? p->choices : "a value");
        break;
    case ADVC_PARAM_TEXT:
    case ADVC_PARAM_FLAG:
    default:
        snprintf(buf, bufsz, "%s", p->metavar ? p->metavar : "a value");
        break;
    }
}

static advc_status bad_value(const advc_param *p, const char *text,
                             const char *why)
{
    char want[160];
    advc_param_wants(p, want, sizeof want);
    if (why)
        return advc_set_error(ADVC_ERR_ARG, "bad value '%s' for --%s: %s",
                              text, p->flag, why);
    return advc_set_error(ADVC_ERR_ARG, "bad value '%s' for --%s (want %s)",
                          text, p->flag, want);
}

/* The index of text among p->choices, or -1. */
static int choice_index(const advc_param *p, const char *text)
{
    size_t tl = strlen(text);
    int k = 0;
    for (const char *c = p->choices; c && *c; k++) {
        const char *bar = strchr(c, '|');
        size_t len = bar ? (size_t)(bar - c) : strlen(c);
        if (len == tl && strncmp(c, text, len) == 0) return k;
        if (!bar) break;
        c = bar + 1;
    }
    return -1;
}

typedef struct {
    const advc_param *p;
    float tmp[256];
    int n;
} reals_ctx;

static advc_status reals_item(const char *text, size_t len, void *vctx)
{
    reals_ctx *c = vctx;
    char buf[64];
    double v;
    if (len >= sizeof buf)
        return advc_set_error(ADVC_ERR_ARG, "item too long");
    memcpy(buf, text, len);
    buf[len] = '\0';
    if (advc_parse_real(buf, &v) != ADVC_OK || !in_range(c->p, v))
        return advc_set_error(ADVC_ERR_ARG, "item '%s'", buf);
    if (c->n >= c->p->max_items || c->n >= 256)
        return advc_set_error(ADVC_ERR_ARG, "more than %d items",
                              c->p->max_items);
    c->tmp[c->n++] = (float)v;
    return ADVC_OK;
}

advc_status advc_param_set(const advc_param *p, void *base,
                           const char *text)
{
    if (!text) text = "";
    void *dst = field(p, base);
    switch (p->type) {
    case ADVC_PARAM_INT: {
        long v;
        if (advc_parse_int(text, &v) != ADVC_OK || v < p->lo || v > p->hi)
            return bad_value(p, text, NULL);
        *(int *)dst = (int)v;
        return ADVC_OK;
    }
    case ADVC_PARAM_U64: {
        uint64_t v;
        if (advc_parse_u64(text, &v) != ADVC_OK)
            return bad_value(p, text, NULL);
        *(uint64_t *)dst = v;
        return ADVC_OK;
    }
    case ADVC_PARAM_REAL: {
        double v;
        if (advc_parse_real(text, &v) != ADVC_OK || !in_range(p, v))
            return bad_value(p, text, NULL);
        *(float *)dst = (float)v;
        return ADVC_OK;
    }
    case ADVC_PARAM_REALS: {
        reals_ctx c;
        c.p = p;
        c.n = 0;
        if (advc_parse_list(text, reals_item, &c) != ADVC_OK) {
            char why[320];
            char want[160];
            advc_param_wants(p, want, sizeof want);
            snprintf(why, sizeof why, "%s (want %s)", advc_last_error(),
                     want);
            return bad_value(p, text, why);
        }
        memcpy(dst, c.tmp, (size_t)c.n * sizeof(float));
        *(int *)((char *)base + p->count_offset) = c.n;
        return ADVC_OK;
    }
    case ADVC_PARAM_FLAG:
        *(bool *)dst = true;
        return ADVC_OK;
    case ADVC_PARAM_TEXT:
        if (!*text) return bad_value(p, text, "empty");
        *(const char **)dst = text;
        return ADVC_OK;
    case ADVC_PARAM_CHOICE: {
        int k = choice_index(p, text);
        if (k < 0) return bad_value(p, text, NULL);
        *(int *)dst = k;
        return ADVC_OK;
    }
    case ADVC_PARAM_CUSTOM:
        if (p->parse(text, dst) != ADVC_OK) {
            char why[256];
            snprintf(why, sizeof why, "%s", advc_last_error());
            return bad_value(p, text, why);
        }
        return ADVC_OK;
    }
    return advc_set_error(ADVC_ERR_ARG, "--%s: unknown parameter type",
                          p->flag);
}

advc_status advc_param_check(const advc_param *p, const void *base)
{
    const void *src = cfield(p, base);
    char text[64];
    double v;
    switch (p->type) {
    case ADVC_PARAM_INT:
        v = *(const int *)src;
        if (v >= p->lo && v <= p->hi) return ADVC_OK;
        break;
    case ADVC_PARAM_REAL:
        v = *(const float *)src;
        if (in_range(p, v)) return ADVC_OK;
        break;
    case ADVC_PARAM_REALS: {
        const float *a = src;
        int n = *(const int *)((const char *)base + p->count_offset);
        if (n < 0 || n > p->max_items) break;
        for (int i = 0; i < n; i++)
            if (!in_range(p, a[i])) {
                n = -1;
                break;
            }
        if (n >= 0) return ADVC_OK;
        break;
    }
    default:
        return ADVC_OK;
    }
    advc_param_format(p, base, text, sizeof text);
    return bad_value(p, text, NULL);
}

void advc_param_format(const advc_param *p, const void *base, char *buf,
                       size_t bufsz)
{
    const void *src = cfield(p, base);
    buf[0] = '\0';
    switch (p->type) {
    case ADVC_PARAM_INT:
        snprintf(buf, bufsz, "%d", *(const int *)src);
        break;
    case ADVC_PARAM_U64:
        snprintf(buf, bufsz, "%llu",
                 (unsigned long long)*(const uint64_t *)src);
        break;
    case ADVC_PARAM_REAL:
        fmt_real(*(const float *)src, buf, bufsz);
        break;
    case ADVC_PARAM_REALS: {
        const float *a = src;
        int n = *(const int *)((const char *)base + p->count_offset);
        size_t k = 0;
        if (n == 0) snprintf(buf, bufsz, "none");
        for (int i = 0; i < n && k < bufsz; i++) {
            int w = snprintf(buf + k, bufsz - k, "%s%.6g", i ? "," : "",
                             (double)a[i]);
            if (w < 0) break;
            k += (size_t)w;
        }
        break;
    }
    case ADVC_PARAM_FLAG:
        snprintf(buf, bufsz, "%d", *(const bool *)src ? 1 : 0);
        break;
    case ADVC_PARAM_TEXT: {
        const char *s = *(const char *const *)src;
        snprintf(buf, bufsz, "%s", s ? s : "");
        break;
    }
    case ADVC_PARAM_CHOICE: {
        int k = *(const int *)src, i = 0;
        for (const char *c = p->choices; c && *c; i++) {
            const char *bar = strchr(c, '|');
            size_t len = bar ? (size_t)(bar - c) : strlen(c);
            if (i == k) {
                snprintf(buf, bufsz, "%.*s", (int)len, c);
                break;
            }
            if (!bar) break;
            c = bar + 1;
        }
        break;
    }
    case ADVC_PARAM_CUSTOM:
        p->format(src, buf, bufsz);
        break;
    }
}

void advc_param_key(const advc_param *p, char *buf, size_t bufsz)
{
    snprintf(buf, bufsz, "%s", p->flag);
    for (char *c = buf; *c; c++)
        if (*c == '-') *c = '_';
}

int advc_param_find(const advc_param *ps, int n, const char *flag)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ps[i].flag, flag) == 0) return i;
    return -1;
}
