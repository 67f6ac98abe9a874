/* advc/param.h: settings described once, and one parser per value type.
 *
 * A parameter row (advc_param) says where one setting lives in a settings
 * struct, how its text is parsed and checked, its default and its help
 * line.  Attacks (src/adv/attack_*.c), training recipes (src/adv/
 * recipe_*.c) and the command line (src/cli/) describe their settings as
 * tables of such rows; command-line parsing, --help, the man page, the
 * settings line printed with every report, the JSON keys and the
 * checkpoint metadata are all produced from the tables.
 *
 * The value parsers below are the only ones: every flag, table and
 * environment variable (ADVC_THREADS) goes through them, so a flag means
 * the same thing, with the same range, everywhere.
 *   real    "0.3", "1e-3", or a fraction "8/255" (a / b, b != 0); finite
 *   int     decimal, no sign junk, no trailing characters
 *   u64     decimal, no sign (seeds)
 *   list    comma-separated items, none empty: "0,0.1,0.3"
 * Errors: ADVC_ERR_ARG with one line naming the flag and what it wants:
 *   "bad value '300' for --eps (want a number in (0, 1], e.g. 0.3 or 8/255)"
 */
#ifndef ADVC_PARAM_H
#define ADVC_PARAM_H

#include <stddef.h>
#include "advc/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    ADVC_PARAM_INT = 0, /* int in [lo, hi]                                */
    ADVC_PARAM_U64,     /* uint64_t, any value (seeds)                    */
    ADVC_PARAM_REAL,    /* float in [lo, hi] ((lo, hi] with lo_open); a
                           fraction a/b is accepted                       */
    ADVC_PARAM_FLAG,    /* bool, set by the bare flag (no value)          */
    ADVC_PARAM_TEXT,    /* const char *, kept as given (paths, specs)     */
    ADVC_PARAM_CHOICE,  /* int: index of the value in `choices`           */
    ADVC_PARAM_REALS,   /* comma list of reals in [lo, hi] (lo_open as
                           REAL) into float[max_items]; the count goes to
                           the int at count_offset                        */
    ADVC_PARAM_CUSTOM   /* parsed and formatted by the row's functions    */
} advc_param_type;

typedef struct advc_param advc_param;

/* CUSTOM rows: parse text into the field at dst (ADVC_ERR_ARG with a
 * message saying what is wanted, without the flag: the caller adds it),
 * and format the field back as text ("" when unset). */
typedef advc_status (*advc_param_parse_fn)(const char *text, void *dst);
typedef void (*advc_param_format_fn)(const void *src, char *buf,
                                     size_t bufsz);

struct advc_param {
    const char *flag;       /* long option without "--", also the key in
                               reports, JSON and checkpoint metadata     */
    const char *metavar;    /* shown in help: "K", "X", "FILE" (NULL for
                               FLAG rows)                                 */
    advc_param_type type;
    size_t offset;          /* of the field in the settings struct        */
    double lo, hi;          /* INT, REAL, REALS: the accepted range       */
    int lo_open;            /* REAL, REALS: lo itself is refused          */
    const char *def;        /* the default as shown in help ("40",
                               "2.5*eps/steps"); NULL: no default         */
    const char *help;       /* one line, lower case, no final period      */
    const char *choices;    /* CHOICE: "train|eval"; REAL/INT: optional
                               example shown in errors ("0.3 or 8/255")   */
    int max_items;          /* REALS: capacity of the float array         */
    size_t count_offset;    /* REALS: offset of the int item count        */
    advc_param_parse_fn parse;   /* CUSTOM */
    advc_param_format_fn format; /* CUSTOM */
};

/* ---- the value parsers --------------------------------------------------- */

advc_status advc_parse_real(const char *s, double *out);
advc_status advc_parse_int(const char *s, long *out);
advc_status advc_parse_u64(const char *s, uint64_t *out);
/* Splits a comma list in place-free fashion: calls item(text, len, ctx)
 * for each item; an empty list or an empty item is an error.  item returns
 * ADVC_OK or an error (its message is kept). */
typedef advc_status (*advc_list_item_fn)(const char *text, size_t len,
                                         void *ctx);
advc_status advc_parse_list(const char *s, advc_list_item_fn item,
                            void *ctx);

/* Thread counts, for --threads and ADVC_THREADS alike: 1 to
 * ADVC_MAX_THREADS. */
#define ADVC_MAX_THREADS 1024
advc_status advc_parse_threads(const char *s, int *out);

/* ---- rows ----------------------------------------------------------------- */

/* Parses text for row p, checks its range and stores it into base +
 * p->offset.  On error nothing is stored and the message names --flag. */
advc_status advc_param_set(const advc_param *p, void *base,
                           const char *text);
/* Checks the value already stored (a default rule's result, or a value
 * set by a library caller) against the row's range; the message names
 * --flag and the value. */
advc_status advc_param_check(const advc_param *p, const void *base);
/* The stored value as text, as a report, JSON or metadata shows it:
 * reals with %g, choices by name, flags as 0/1, lists comma-separated
 * ("none" when empty). */
void advc_param_format(const advc_param *p, const void *base, char *buf,
                       size_t bufsz);
/* What the row accepts, for help and errors: "an integer from 1 to
 * 10000", "a number in (0, 1], e.g. 0.3 or 8/255", "train or eval". */
void advc_param_wants(const advc_param *p, char *buf, size_t bufsz);
/* The row's key in reports, JSON and checkpoint metadata: the flag with
 * '_' for '-' ("step-size" -> "step_size"). */
void advc_param_key(const advc_param *p, char *buf, size_t bufsz);
/* Index of the row named flag in ps[0..n), or -1. */
int advc_param_find(const advc_param *ps, int n, const char *flag);

#ifdef __cplusplus
}
#endif

#endif /* ADVC_PARAM_H */
