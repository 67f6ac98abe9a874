/* cli_util.h: error reporting and small file-system checks shared by the
 * subcommands.  Usage errors print one line naming the command and the
 * flag and make the command exit with status 2; bad files exit 1. */
#ifndef ADVC_CLI_UTIL_H
#define ADVC_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "advc/advc.h"

/* "advc CMD: <advc_last_error()>" on stderr; returns 2 when the error is
 * a bad argument (ADVC_ERR_ARG: a bad value on the command line), else 1. */
int cli_fail(const char *cmd);
/* "advc CMD: WHAT (see advc CMD --help)"; returns 2. */
int cli_usage_error(const char *cmd, const char *what);
/* A pool of `threads` threads (0: ADVC_THREADS, else all CPUs), or exits
 * with the one-line error (status 2 for a bad ADVC_THREADS). */
advc_pool *cli_pool(const char *cmd, int threads);
/* mkdir -p: creates every missing directory along path; 0, or -1 with
 * the error set (naming the directory). */
int cli_make_dirs(const char *path);
/* path names an existing directory. */
bool cli_is_dir(const char *path);
/* The last component of a directory path, without trailing slashes:
 * "data/mnist/" -> "mnist". */
void cli_dir_name(const char *path, char *buf, size_t bufsz);

/* What eval, attack and probe work on: a pool, a model and the test
 * split.  cli_open makes the pool, loads the test split of dir and the
 * model at path for batches of `batch`, checks the image shape (exit 1,
 * one line) and warns on stderr when the checkpoint was trained with
 * another test split (its recorded fingerprint differs).  Returns 0, or
 * the exit code after the error; cli_close frees all of it either way. */
typedef struct {
    advc_pool *pool;
    advc_graph *g;
    advc_checkpoint head;
    advc_dataset test;
} cli_session;
int cli_open(cli_session *s, const char *cmd, const char *path,
             const char *dir, int batch, int threads);
void cli_close(cli_session *s);
/* --first I must fall inside the test split of n images: 0, or the
 * one-line error naming the flag and the data directory and 2. */
int cli_check_first(const char *cmd, int first, const char *data, int n);
/* Writes s as a JSON string literal (quotes, backslashes, control chars). */
void cli_json_string(FILE *f, const char *s);

#endif
