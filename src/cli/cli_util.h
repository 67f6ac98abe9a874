/* cli_util.h: flag parsing and error reporting shared by the subcommands.
 * Every parse error prints one line naming the command and the flag and
 * makes the command exit with status 2. */
#ifndef ADVC_CLI_UTIL_H
#define ADVC_CLI_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include "advc/advc.h"

/* Integer in [lo, hi]; false (after printing the error) otherwise. */
bool cli_int(const char *cmd, const char *flag, const char *s, long lo,
             long hi, int *out);
bool cli_u64(const char *cmd, const char *flag, const char *s,
             uint64_t *out);
/* Finite float in [lo, hi]. */
bool cli_float(const char *cmd, const char *flag, const char *s, double lo,
               double hi, float *out);
/* "advc CMD: <advc_last_error()>" on stderr; returns 2 when the error is
 * a bad argument (ADVC_ERR_ARG: a bad value on the command line), else 1. */
int cli_fail(const char *cmd);
/* "advc CMD: unknown option ... (see advc CMD --help)"; returns 2. */
int cli_usage_error(const char *cmd, const char *what);
/* getopt_long returned ':' (a flag without its value) or '?' (unknown
 * flag): prints "advc CMD: ..." naming it; returns 2. */
int cli_bad_option(const char *cmd, int c, char **argv);
/* A stray argument at argv[optind]: prints the error; returns 2. */
int cli_extra_arg(const char *cmd, char **argv);
/* A pool of `threads` threads (0: the default), or exits with an error. */
advc_pool *cli_pool(const char *cmd, int threads);

#endif
