/* schedule.c: learning-rate schedules: the --schedule spec parser and the
 * rate at a fractional epoch t of T.  The grammar is the one optim.h
 * documents: constant | step:E1,E2,...[@G] | cosine | cyclic[:F].  A bad
 * spec gives ADVC_ERR_ARG with a message quoting the spec and the bad part.
 * Not here: the optimizers that use the rate (optim.c).
 */
#include "advc/optim.h"
#include "advc/param.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846
#define STEP_DEFAULT_GAMMA 0.1f   /* step: lr x 0.1 at each milestone     */
#define CYCLIC_DEFAULT_PEAK 0.4f  /* cyclic: peak at 2/5 (Wong et al.)    */
#define SCHED_HELP "expected constant, step:E1,E2,...[@G], cosine or " \
                   "cyclic[:F]"

/* The whole of s[0, len) as a float (advc_parse_real: a number or a
 * fraction); false if it is empty, too long or not a finite float. */
static bool parse_float(const char *s, size_t len, float *out)
{
    char buf[64];
    double v;
    if (len == 0 || len >= sizeof buf) return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    if (advc_parse_real(buf, &v) != ADVC_OK || fabs(v) > 3.0e38) return false;
    *out = (float)v;
    return true;
}

/* "E1,E2,...": strictly increasing positive epochs. */
static advc_status parse_milestones(const char *spec, const char *s,
                                    size_t len, advc_schedule *out)
{
    if (len == 0)
        return advc_set_error(ADVC_ERR_ARG,
                              "schedule '%s': step needs at least one "
                              "milestone epoch (step:E1,E2,...[@G])", spec);
    size_t i = 0;
    while (i <= len) {
        size_t j = i;
        while (j < len && s[j] != ',') j++;
        float e;
        if (!parse_float(s + i, j - i, &e))
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': milestone '%.*s' is not "
                                  "a number", spec, (int)(j - i), s + i);
        if (!(e > 0.0f))
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': milestone '%.*s' must be "
                                  "> 0", spec, (int)(j - i), s + i);
        if (out->nmilestones > 0 &&
            !(e > out->milestones[out->nmilestones - 1]))
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': milestone '%.*s' is not "
                                  "after the one before it (milestones "
                                  "must increase)", spec, (int)(j - i),
                                  s + i);
        if (out->nmilestones == ADVC_SCHED_MAX_MILESTONES)
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': more than %d milestones",
                                  spec, ADVC_SCHED_MAX_MILESTONES);
        out->milestones[out->nmilestones++] = e;
        i = j + 1;
    }
    return ADVC_OK;
}

/* step:E1,E2,...[@G] -- `arg` is what follows "step:" */
static advc_status parse_step(const char *spec, const char *arg,
                              advc_schedule *out)
{
    const char *at = strchr(arg, '@');
    size_t mlen = at ? (size_t)(at - arg) : strlen(arg);
    advc_status s = parse_milestones(spec, arg, mlen, out);
    if (s != ADVC_OK) return s;
    if (!at) return ADVC_OK;
    const char *g = at + 1;
    if (!parse_float(g, strlen(g), &out->gamma) || !(out->gamma > 0.0f))
        return advc_set_error(ADVC_ERR_ARG,
                              "schedule '%s': factor '@%s' must be a number "
                              "> 0", spec, g);
    return ADVC_OK;
}

advc_status advc_schedule_parse(const char *spec, float lr,
                                advc_schedule *out)
{
    if (!spec || !out)
        return advc_set_error(ADVC_ERR_ARG, "schedule: spec or output NULL");
    memset(out, 0, sizeof *out);
    if (!(isfinite(lr) && lr >= 0.0f))
        return advc_set_error(ADVC_ERR_ARG,
                              "schedule '%s': learning rate %g must be "
                              "finite and >= 0", spec, (double)lr);
    out->lr = lr;
    out->gamma = STEP_DEFAULT_GAMMA;
    out->peak_frac = CYCLIC_DEFAULT_PEAK;

    const char *colon = strchr(spec, ':');
    size_t klen = colon ? (size_t)(colon - spec) : strlen(spec);
    const char *arg = colon ? colon + 1 : NULL;
#define KIND_IS(w) (klen == strlen(w) && strncmp(spec, (w), klen) == 0)
    if (KIND_IS("constant") || KIND_IS("cosine")) {
        out->kind = KIND_IS("constant") ? ADVC_SCHED_CONSTANT
                                        : ADVC_SCHED_COSINE;
        if (arg)
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': '%.*s' takes no "
                                  "parameters, got ':%s'", spec, (int)klen,
                                  spec, arg);
        return ADVC_OK;
    }
    if (KIND_IS("step")) {
        out->kind = ADVC_SCHED_STEP;
        if (!arg)
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': step needs milestones, "
                                  "e.g. step:50,75 or step:50,75@0.2", spec);
        return parse_step(spec, arg, out);
    }
    if (KIND_IS("cyclic")) {
        out->kind = ADVC_SCHED_CYCLIC;
        if (!arg) return ADVC_OK;
        if (!parse_float(arg, strlen(arg), &out->peak_frac) ||
            !(out->peak_frac > 0.0f && out->peak_frac < 1.0f))
            return advc_set_error(ADVC_ERR_ARG,
                                  "schedule '%s': peak fraction '%s' must "
                                  "be a number in (0, 1)", spec, arg);
        return ADVC_OK;
    }
#undef KIND_IS
    return advc_set_error(ADVC_ERR_ARG, "schedule '%s': unknown kind '%.*s' "
                          "(" SCHED_HELP ")", spec, (int)klen, spec);
}

/* The rate at fractional epoch t of total T; t is clamped to [0, T] for
 * the kinds that need T (cosine, cyclic), and those give lr for T <= 0. */
float advc_schedule_lr(const advc_schedule *s, double t, double total)
{
    double lr = s->lr;
    if (!(t >= 0.0)) t = 0.0; /* also maps NaN to 0 */
    double u = total > 0.0 ? fmin(t, total) / total : 0.0; /* in [0, 1] */
    switch (s->kind) {
    case ADVC_SCHED_CONSTANT:
        return s->lr;
    case ADVC_SCHED_STEP: { /* lr G^(number of milestones passed) */
        for (int i = 0; i < s->nmilestones; i++)
            if (t >= s->milestones[i]) lr *= s->gamma;
        return (float)lr;
    }
    case ADVC_SCHED_COSINE: /* lr (1 + cos(pi t/T)) / 2 */
        if (!(total > 0.0)) return s->lr;
        return (float)(lr * 0.5 * (1.0 + cos(PI * u)));
    case ADVC_SCHED_CYCLIC: { /* up to lr at F, back to 0 at 1 */
        if (!(total > 0.0)) return s->lr;
        double f = s->peak_frac;
        double r = u <= f ? u / f : (1.0 - u) / (1.0 - f);
        return (float)(lr * r);
    }
    }
    return s->lr;
}

void advc_schedule_format(const advc_schedule *s, char *buf, size_t bufsz)
{
    switch (s->kind) {
    case ADVC_SCHED_STEP: {
        size_t k = (size_t)snprintf(buf, bufsz, "step:");
        for (int i = 0; i < s->nmilestones && k < bufsz; i++)
            k += (size_t)snprintf(buf + k, bufsz - k, "%s%g", i ? "," : "",
                                  (double)s->milestones[i]);
        if (k < bufsz) snprintf(buf + k, bufsz - k, "@%g", (double)s->gamma);
        break;
    }
    case ADVC_SCHED_COSINE: snprintf(buf, bufsz, "cosine"); break;
    case ADVC_SCHED_CYCLIC:
        snprintf(buf, bufsz, "cyclic:%g", (double)s->peak_frac);
        break;
    case ADVC_SCHED_CONSTANT:
    default: snprintf(buf, bufsz, "constant"); break;
    }
}
