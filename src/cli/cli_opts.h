/* cli_opts.h: the one command-line parser.  A command describes itself
 * (cli_spec: name, synopsis, what it does) and its flags as groups of
 * parameter rows (advc/param.h): its own rows, the library's rows (the
 * training settings), and "deferred" groups whose values are kept as text
 * until the command knows which attacks or recipe they go to.  From that
 * one description come getopt_long's table, the parsing with the shared
 * value parsers, the one-line errors (exit 2), --help and the man page.
 */
#ifndef ADVC_CLI_OPTS_H
#define ADVC_CLI_OPTS_H

#include <stdbool.h>
#include <stdio.h>
#include "advc/param.h"

#define CLI_MAX_GROUPS 6
#define CLI_MAX_ROWS 64 /* per group */

typedef struct {
    const char *title;       /* help section title                         */
    const advc_param *rows;
    int nrows;
    void *base;              /* values go here; NULL: deferred (text only) */
} cli_group;

typedef struct cli_spec cli_spec;
struct cli_spec {
    const char *name;        /* "train"                                    */
    const char *synopsis;    /* "--data DIR --model SPEC [options]"        */
    const char *about;       /* what the command does, a paragraph         */
    int max_args;            /* positional arguments allowed (info: 1)     */
    const char *args_name;   /* how they are called: "FILE"                */
    /* Help text generated from other tables (models, attacks, recipes),
     * printed after the groups; NULL for none. */
    void (*more_help)(FILE *f);
    const char *epilog;      /* a last paragraph, or NULL                  */
};

typedef struct {
    int ngroups;
    cli_group groups[CLI_MAX_GROUPS];
    const char *given[CLI_MAX_GROUPS][CLI_MAX_ROWS]; /* text, or NULL     */
    int nargs;
    char **args;             /* positional arguments                       */
} cli_parsed;

/* Adds a group (at most CLI_MAX_GROUPS). */
void cli_add_group(cli_parsed *p, const char *title, const advc_param *rows,
                   int nrows, void *base);

/* Parses argv (argv[0] is the command name).  Returns -1 to go on, 0
 * after printing --help (exit 0), 2 after a one-line error on stderr
 * naming the flag or value.  A flag that appears in several groups (the
 * same --eps in every attack's rows) is one flag. */
int cli_parse(const cli_spec *spec, cli_parsed *p, int argc, char **argv);

/* The start of every command: zeroes p, adds the command's groups
 * (describe, over opts) and parses; returns as cli_parse. */
int cli_begin(const cli_spec *spec, void (*describe)(cli_parsed *, void *),
              void *opts, cli_parsed *p, int argc, char **argv);

/* The text given for --flag, or NULL if it was not given. */
const char *cli_given(const cli_parsed *p, const char *flag);

/* Applies the deferred values given for the rows of ps (an attack's or a
 * recipe's) to base; `used` (one per deferred flag of group gi, may be
 * NULL) marks the flags that applied.  Returns 0, or 2 after a one-line
 * error naming the flag and `whose` ("attack pgd"). */
int cli_apply(const char *cmd, const cli_parsed *p, int gi,
              const advc_param *ps, int n, void *base, bool *used,
              const char *whose);
/* Refuses, with one line and 2, a deferred flag of group gi given but not
 * used by any of `what` ("--attack pgd,fgsm"); 0 if all were used. */
int cli_refuse_unused(const char *cmd, const cli_parsed *p, int gi,
                      const bool *used, const char *what);

/* The flags help lists for rows ps: "  --steps K    iterations (default
 * 40)", wrapped at 79 columns with the text from column `col`. */
void cli_help_rows(FILE *f, const advc_param *ps, int n, int indent,
                   int col);
/* The whole --help of a command. */
void cli_help(FILE *f, const cli_spec *spec, const cli_parsed *p);
/* s with roff's special characters escaped ('\', '-', a leading '.'). */
void cli_roff(FILE *f, const char *s);
/* The command's section of the man page (roff). */
void cli_man(FILE *f, const cli_spec *spec, const cli_parsed *p);

/* Row helpers for flags several commands share: the type, range and
 * metavar live here once; the help line says what it means there. */
#define CLI_ROW(flag, meta, type, st, field, lo, hi, def, help)              \
    { flag, meta, type, offsetof(st, field), lo, hi, 0, def, help, NULL, 0, \
      0, NULL, NULL }
#define CLI_ROW_THREADS(st, field)                                           \
    { "threads", "T", ADVC_PARAM_CUSTOM, offsetof(st, field), 0, 0, 0,       \
      "ADVC_THREADS, else all CPUs", "worker threads",                       \
      "an integer from 1 to 1024", 0, 0, cli_parse_threads,                 \
      cli_format_threads }
#define CLI_ROW_SEED(st, field, help)                                        \
    CLI_ROW("seed", "S", ADVC_PARAM_U64, st, field, 0, 0, "1", help)
#define CLI_ROW_LIMIT(st, field, help)                                       \
    CLI_ROW("limit", "N", ADVC_PARAM_INT, st, field, 1, 100000000, "all",    \
            help)
/* (Not "--start": the attacks' --start S says where iteration starts.) */
#define CLI_ROW_FIRST(st, field)                                             \
    CLI_ROW("first", "I", ADVC_PARAM_INT, st, field, 0, 100000000, "0",      \
            "begin at test image I (random starts are keyed by each "        \
            "image's index in the whole test split, so --first and --limit " \
            "cut a run into shards that add up to the whole run)")
#define CLI_ROW_BATCH(st, field, def, help)                                  \
    CLI_ROW("batch", "B", ADVC_PARAM_INT, st, field, 1, 65536, def, help)
#define CLI_ROW_MODEL(st, field)                                             \
    CLI_ROW("model", "FILE", ADVC_PARAM_TEXT, st, field, 0, 0, NULL,         \
            "a checkpoint written by advc train")
#define CLI_ROW_DATA(st, field)                                              \
    CLI_ROW("data", "DIR", ADVC_PARAM_TEXT, st, field, 0, 0, NULL,           \
            "MNIST / Fashion-MNIST IDX files or CIFAR-10 batches")

#define CLI_ROW_ACT(st, field)                                               \
    { "act", "A", ADVC_PARAM_CUSTOM, offsetof(st, field), 0, 0, 0, "relu",   \
      "activation: relu, softplus, psoftplus:A, silu, gelu, elu, sigmoid, "  \
      "tanh", "an activation, e.g. relu or psoftplus:10", 0, 0,              \
      cli_parse_act, cli_format_act }

advc_status cli_parse_threads(const char *text, void *dst);
void cli_format_threads(const void *src, char *buf, size_t bufsz);
advc_status cli_parse_act(const char *text, void *dst);
void cli_format_act(const void *src, char *buf, size_t bufsz);

#define CLI_NROWS(a) ((int)(sizeof(a) / sizeof *(a)))

#endif /* ADVC_CLI_OPTS_H */
