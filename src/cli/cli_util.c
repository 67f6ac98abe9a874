/* cli_util.c: strict number parsing for flags (the whole string must be a
 * number in range), and the one-line error formats of the CLI. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include "cli_util.h"

bool cli_int(const char *cmd, const char *flag, const char *s, long lo,
             long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || errno || v < lo || v > hi) {
        fprintf(stderr,
                "advc %s: bad value '%s' for --%s (an integer from %ld to "
                "%ld)\n", cmd, s, flag, lo, hi);
        return false;
    }
    *out = (int)v;
    return true;
}

bool cli_u64(const char *cmd, const char *flag, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '\0' || *s == '-' || *end != '\0' || errno) {
        fprintf(stderr,
                "advc %s: bad value '%s' for --%s (a non-negative integer)\n",
                cmd, s, flag);
        return false;
    }
    *out = (uint64_t)v;
    return true;
}

bool cli_float(const char *cmd, const char *flag, const char *s, double lo,
               double hi, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || errno || !isfinite(v) || v < lo ||
        v > hi) {
        fprintf(stderr,
                "advc %s: bad value '%s' for --%s (a number from %g to %g)\n",
                cmd, s, flag, lo, hi);
        return false;
    }
    *out = (float)v;
    return true;
}

int cli_fail(const char *cmd)
{
    fprintf(stderr, "advc %s: %s\n", cmd, advc_last_error());
    /* A bad value given on the command line (a model spec, say) is a
     * usage error like a bad flag: 2.  Bad files and the rest: 1. */
    return advc_last_status() == ADVC_ERR_ARG ? 2 : 1;
}

int cli_usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "advc %s: %s (see advc %s --help)\n", cmd, what, cmd);
    return 2;
}

int cli_bad_option(const char *cmd, int c, char **argv)
{
    char m[160];
    snprintf(m, sizeof m,
             c == ':' ? "option %s needs a value" : "unknown option '%s'",
             argv[optind - 1]);
    return cli_usage_error(cmd, m);
}

int cli_extra_arg(const char *cmd, char **argv)
{
    char m[160];
    snprintf(m, sizeof m, "unexpected argument '%s'", argv[optind]);
    return cli_usage_error(cmd, m);
}

advc_pool *cli_pool(const char *cmd, int threads)
{
    advc_pool *p = advc_pool_create(threads);
    if (!p) {
        cli_fail(cmd);
        exit(1);
    }
    return p;
}
