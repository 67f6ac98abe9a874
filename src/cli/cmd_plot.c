/* cmd_plot.c: `advc plot`: SVG line plots from the CSV files advc writes.
 *   --log FILE.csv    training log (advc train --log): x = the "epoch"
 *                     column; panels for loss ("loss" and "*_loss"
 *                     columns), accuracy ("*_acc" columns, negative values
 *                     such as val_acc = -1 meaning "none" are left out)
 *                     and learning rate ("lr"), each when present; other
 *                     columns (seconds, ...) are ignored.
 *   --sweep FILE.csv  accuracy against eps (advc eval --sweep-csv):
 *                     header "eps,<attack>,...", accuracies in [0, 1] (or
 *                     percent); one series per attack.
 * Columns are found by their header names, so new columns need no change
 * here.  Not here: reading any other CSV dialect (quoted commas, escapes).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "advc/image.h"
#include "cli.h"
#include "cli_util.h"

typedef struct {
    const char *log, *sweep, *out, *title, *panels;
} plot_opts;

#define PL_ROW(flag, meta, field, def, help)                                 \
    CLI_ROW(flag, meta, ADVC_PARAM_TEXT, plot_opts, field, 0, 0, def, help)

static const advc_param plot_rows[] = {
    PL_ROW("log", "FILE.csv", log, NULL,
           "a training log (advc train --log): x is the epoch column; one "
           "panel for loss, one for every *_acc column (negative values = "
           "none, left out), one for the learning rate"),
    PL_ROW("sweep", "FILE.csv", sweep, NULL,
           "accuracy against eps (advc eval --sweep-csv): the header is "
           "eps,<attack>,...; one series per attack"),
    PL_ROW("out", "FILE.svg", out, NULL, "the plot"),
    PL_ROW("title", "T", title, "from the input", "the title"),
    PL_ROW("panels", "LIST", panels, NULL,
           "--log: one more panel per comma-separated suffix, with every "
           "column ending in it (multi-exit logs: _pgd, _fgsm, _clean for "
           "each exit's guard accuracies, _fc_norm for its FC norm)"),
};

static void describe(cli_parsed *p, void *vo)
{
    cli_add_group(p, "Options", plot_rows, CLI_NROWS(plot_rows), vo);
}

const cli_spec cmd_plot_spec = {
    "plot", "(--log FILE.csv | --sweep FILE.csv) --out FILE.svg",
    "SVG line plots of the CSV files advc writes.", 0, NULL, NULL,
    "CSV: comma-separated, the first line names the columns, one number "
    "per field; empty fields and 'nan' are gaps; lines starting with '#' "
    "are skipped."
};

#define CSV_MAX_BYTES (64u << 20) /* a training log is a few KiB */
#define CSV_MAX_COLS 64

typedef struct {
    int ncols, nrows;
    char *names[CSV_MAX_COLS]; /* pointers into text */
    double *col[CSV_MAX_COLS]; /* (nrows) each; NaN for a gap */
    char *text;                /* the file, modified in place */
} csv_table;

static void csv_free(csv_table *t)
{
    for (int c = 0; c < t->ncols; c++) free(t->col[c]);
    free(t->text);
    memset(t, 0, sizeof *t);
}

/* Strips spaces, tabs and '\r' at both ends, then one pair of quotes. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
        s[--n] = '\0';
    if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
        s[n - 1] = '\0';
        s++;
    }
    return s;
}

/* Splits line at commas in place into fields[0..max); returns the number
 * of fields in the line, which may exceed max (the rest are not stored). */
static int split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        char *comma = strchr(p, ',');
        if (comma) *comma = '\0';
        if (n < max) fields[n] = trim(p);
        n++;
        if (!comma) break;
        p = comma + 1;
    }
    return n;
}

static int is_blank(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r') return 0;
    return 1;
}

/* Reads the whole file into t->text, NUL-terminated; a file of more than
 * CSV_MAX_BYTES or with a NUL byte is refused. */
static advc_status csv_slurp(const char *path, csv_table *t)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return advc_set_error(ADVC_ERR_IO, "%s: cannot open: %s", path,
                              strerror(errno));
    size_t cap = 4096, len = 0;
    t->text = malloc(cap);
    for (;;) {
        if (!t->text) {
            fclose(f);
            return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
        }
        len += fread(t->text + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        if (cap >= CSV_MAX_BYTES) {
            fclose(f);
            csv_free(t);
            return advc_set_error(ADVC_ERR_FORMAT, "%s: larger than %u MiB, "
                                  "not a log", path, CSV_MAX_BYTES >> 20);
        }
        cap *= 2;
        char *nt = realloc(t->text, cap);
        if (!nt) free(t->text);
        t->text = nt;
    }
    int rerr = ferror(f);
    fclose(f);
    if (rerr) {
        csv_free(t);
        return advc_set_error(ADVC_ERR_IO, "%s: read error", path);
    }
    t->text[len] = '\0';
    if (memchr(t->text, '\0', len)) {
        csv_free(t);
        return advc_set_error(ADVC_ERR_FORMAT, "%s: binary data, not CSV",
                              path);
    }
    return ADVC_OK;
}

/* The header line's nf fields become the column names; none may be empty. */
static advc_status csv_header(csv_table *t, char **fields, int nf,
                              const char *path, int lineno)
{
    for (int c = 0; c < nf; c++) {
        if (!*fields[c])
            return advc_set_error(ADVC_ERR_FORMAT, "%s:%d: column %d has no "
                                  "name", path, lineno, c + 1);
        t->names[c] = fields[c];
    }
    t->ncols = nf;
    return ADVC_OK;
}

/* Room for one more row in every column, doubling (64 rows at first). */
static advc_status csv_room_for_row(csv_table *t, int *rowcap,
                                    const char *path)
{
    if (t->nrows < *rowcap) return ADVC_OK;
    *rowcap = *rowcap ? 2 * *rowcap : 64;
    for (int c = 0; c < t->ncols; c++) {
        double *nc = realloc(t->col[c], (size_t)*rowcap * sizeof *nc);
        if (!nc)
            return advc_set_error(ADVC_ERR_NOMEM, "%s: out of memory", path);
        t->col[c] = nc;
    }
    return ADVC_OK;
}

/* One data line's fields as numbers into row t->nrows: empty and "-" are
 * gaps (NaN); anything strtod does not take whole is an error. */
static advc_status csv_row(csv_table *t, char **fields, int nf,
                           const char *path, int lineno)
{
    for (int c = 0; c < nf; c++) {
        const char *v = fields[c];
        double d = NAN;
        if (*v && strcmp(v, "-") != 0) {
            char *end;
            errno = 0;
            d = strtod(v, &end);
            if (*end != '\0')
                return advc_set_error(ADVC_ERR_FORMAT, "%s:%d: '%s' in "
                                      "column %s is not a number", path,
                                      lineno, v, t->names[c]);
        }
        t->col[c][t->nrows] = d;
    }
    t->nrows++;
    return ADVC_OK;
}

/* One non-blank, non-comment line: the header if there is none yet, else
 * a row with as many fields as the header names. */
static advc_status csv_line(csv_table *t, char *line, int *rowcap,
                            const char *path, int lineno)
{
    char *fields[CSV_MAX_COLS];
    int nf = split(line, fields, CSV_MAX_COLS);
    if (nf > CSV_MAX_COLS)
        return advc_set_error(ADVC_ERR_FORMAT, "%s:%d: %d columns (at most "
                              "%d)", path, lineno, nf, CSV_MAX_COLS);
    if (t->ncols == 0) return csv_header(t, fields, nf, path, lineno);
    if (nf != t->ncols)
        return advc_set_error(ADVC_ERR_FORMAT, "%s:%d: %d fields but the "
                              "header names %d columns", path, lineno, nf,
                              t->ncols);
    advc_status s = csv_room_for_row(t, rowcap, path);
    return s != ADVC_OK ? s : csv_row(t, fields, nf, path, lineno);
}

/* Reads path into t: a header line, then rows of numbers; blank lines and
 * '#' lines are skipped.  On error t is freed. */
static advc_status csv_read(const char *path, csv_table *t)
{
    memset(t, 0, sizeof *t);
    advc_status s = csv_slurp(path, t);
    if (s != ADVC_OK) return s;
    int rowcap = 0, lineno = 0;
    char *line = t->text;
    while (line && *line && s == ADVC_OK) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        lineno++;
        if (!is_blank(line) && trim(line)[0] != '#')
            s = csv_line(t, line, &rowcap, path, lineno);
        line = nl ? nl + 1 : NULL;
    }
    if (s == ADVC_OK && t->ncols == 0)
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: empty, no header line",
                           path);
    if (s == ADVC_OK && t->nrows == 0)
        s = advc_set_error(ADVC_ERR_FORMAT, "%s: a header but no rows",
                           path);
    if (s != ADVC_OK) csv_free(t);
    return s;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int finite_count(const double *v, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += isfinite(v[i]) != 0;
    return k;
}

/* Fixes the y range to [0, 1] or [0, 100] when every finite value of the
 * panel's series lies in it (accuracies), else leaves it to the data. */
static void accuracy_range(advc_plot *p)
{
    double mn = INFINITY, mx = -INFINITY;
    for (int s = 0; s < p->nseries; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double v = p->series[s].y[i];
            if (!isfinite(v)) continue;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
    if (mn > mx || mn < 0) return;
    p->ymin = 0;
    p->ymax = mx <= 1 ? 1 : mx <= 100 ? 100 : 0;
}

#define MAX_EXTRA 4 /* --panels */

/* The --panels suffixes: the columns ending in each, one panel each. */
static int extra_panels(csv_table *t, int xc, const char *list,
                        advc_plot_series (*ser)[CSV_MAX_COLS], int *nser,
                        char (*names)[32])
{
    int np = 0;
    for (const char *p = list; p && *p && np < MAX_EXTRA;) {
        size_t len = strcspn(p, ",");
        snprintf(names[np], sizeof names[np], "%.*s", (int)len, p);
        nser[np] = 0;
        for (int c = 0; c < t->ncols; c++)
            if (c != xc && len && ends_with(t->names[c], names[np]))
                ser[np][nser[np]++] = (advc_plot_series){
                    t->names[c], t->col[xc], t->col[c], t->nrows, NULL,
                    false };
        if (nser[np]) np++;
        p += len + (p[len] == ',');
    }
    return np;
}

/* The log's x column: the one named "epoch", else the first. */
static int log_x_column(const csv_table *t)
{
    int xc = 0;
    for (int c = 0; c < t->ncols; c++)
        if (!strcmp(t->names[c], "epoch")) xc = c;
    return xc;
}

/* A log's columns by panel: loss ("loss", "*_loss"), accuracy ("*_acc"
 * with a value), learning rate ("lr"), and the --panels ones (ext); the
 * panels point into it, so it lives as long as they do (about 18 KB). */
typedef struct {
    advc_plot_series loss[CSV_MAX_COLS], acc[CSV_MAX_COLS], lr[1];
    int nl, na, nlr;
    int dropped; /* *_acc columns without a value, left out */
    advc_plot_series ext[MAX_EXTRA][CSV_MAX_COLS];
    int next[MAX_EXTRA], ne;
    char ext_names[MAX_EXTRA][32];
} log_columns;

/* Sorts t's columns other than x column xc into lc; negative accuracies
 * (-1: none) become gaps. */
static void sort_log_columns(csv_table *t, int xc, log_columns *lc)
{
    const double *x = t->col[xc];
    lc->nl = lc->na = lc->nlr = lc->dropped = 0;
    for (int c = 0; c < t->ncols; c++) {
        if (c == xc) continue;
        const char *nm = t->names[c];
        advc_plot_series s = { nm, x, t->col[c], t->nrows, NULL, false };
        if (!strcmp(nm, "loss") || ends_with(nm, "_loss")) {
            lc->loss[lc->nl++] = s;
        } else if (ends_with(nm, "_acc")) {
            for (int i = 0; i < t->nrows; i++)
                if (t->col[c][i] < 0) t->col[c][i] = NAN; /* -1: none */
            if (finite_count(t->col[c], t->nrows) > 0) lc->acc[lc->na++] = s;
            else lc->dropped++;
        } else if (!strcmp(nm, "lr")) {
            lc->lr[lc->nlr++] = s;
        }
    }
}

/* The panels of a log into panels[]: loss (with the title), accuracy,
 * learning rate, then one per --panels suffix (lc->ne of them); returns
 * how many. */
static int log_panels(csv_table *t, int xc, log_columns *lc,
                      const char *ttl, const char *more, advc_plot *panels)
{
    bool markers = t->nrows <= 60;
    lc->ne = extra_panels(t, xc, more, lc->ext, lc->next, lc->ext_names);
    const char *xl = t->names[xc];
    int np = 0;
    if (lc->nl) {
        panels[np++] = (advc_plot){ .title = ttl, .xlabel = xl,
                                    .ylabel = "loss", .series = lc->loss,
                                    .nseries = lc->nl, .markers = markers };
    }
    if (lc->na) {
        advc_plot p = { .title = np ? NULL : ttl, .xlabel = xl,
                        .ylabel = "accuracy", .series = lc->acc,
                        .nseries = lc->na, .markers = markers };
        accuracy_range(&p);
        panels[np++] = p;
    }
    if (lc->nlr) {
        panels[np++] = (advc_plot){ .xlabel = xl, .ylabel = "learning rate",
                                    .series = lc->lr, .nseries = 1,
                                    .markers = markers };
    }
    for (int k = 0; k < lc->ne; k++) {
        advc_plot p = { .xlabel = xl, .ylabel = lc->ext_names[k],
                        .series = lc->ext[k], .nseries = lc->next[k],
                        .markers = markers };
        accuracy_range(&p);
        panels[np++] = p;
    }
    return np;
}

/* --log: loss, accuracy and learning-rate panels, and --panels. */
static int plot_log(const char *path, const char *out, const char *title,
                    const char *more)
{
    csv_table t;
    if (csv_read(path, &t) != ADVC_OK) return cli_fail("plot");
    int xc = log_x_column(&t);
    log_columns lc;
    sort_log_columns(&t, xc, &lc);
    if (lc.nl == 0 && lc.na == 0) {
        fprintf(stderr, "advc plot: %s has no loss or *_acc column with "
                "values (header: %s ...)\n", path, t.names[0]);
        csv_free(&t);
        return 1;
    }
    char ttl[300];
    if (title) snprintf(ttl, sizeof ttl, "%s", title);
    else snprintf(ttl, sizeof ttl, "Training: %s", path);
    advc_plot panels[3 + MAX_EXTRA];
    int np = log_panels(&t, xc, &lc, ttl, more, panels);
    int rc = 0;
    if (advc_svg_write(out, panels, np, 0, np > 1 ? 320 : 0) != ADVC_OK) {
        rc = cli_fail("plot");
    } else {
        printf("wrote %s: %d rows; %s%s%s%d more panels\n", out, t.nrows,
               lc.nl ? "loss " : "", lc.na ? "accuracy " : "",
               lc.nlr ? "learning-rate " : "", lc.ne);
        if (lc.dropped)
            printf("left out %d accuracy column(s) with no values\n",
                   lc.dropped);
    }
    csv_free(&t);
    return rc;
}

/* --sweep: accuracy against eps, one series per attack column. */
static int plot_sweep(const char *path, const char *out, const char *title)
{
    csv_table t;
    if (csv_read(path, &t) != ADVC_OK) return cli_fail("plot");
    if (t.ncols < 2) {
        fprintf(stderr, "advc plot: %s needs eps and at least one attack "
                "column\n", path);
        csv_free(&t);
        return 1;
    }
    advc_plot_series s[CSV_MAX_COLS];
    for (int c = 1; c < t.ncols; c++)
        s[c - 1] = (advc_plot_series){ t.names[c], t.col[0], t.col[c],
                                       t.nrows, NULL, false };
    advc_plot p = { .title = title ? title : "Accuracy against eps",
                    .xlabel = t.names[0], .ylabel = "accuracy",
                    .series = s, .nseries = t.ncols - 1, .markers = true,
                    .note = path };
    accuracy_range(&p);
    int rc = 0;
    if (advc_svg_plot(out, &p) != ADVC_OK) rc = cli_fail("plot");
    else
        printf("wrote %s: %d attack(s) at %d eps values\n", out,
               t.ncols - 1, t.nrows);
    csv_free(&t);
    return rc;
}

int cmd_plot(int argc, char **argv)
{
    plot_opts o;
    memset(&o, 0, sizeof o);
    cli_parsed p;
    int rc = cli_begin(&cmd_plot_spec, describe, &o, &p, argc, argv);
    if (rc >= 0) return rc;
    if (!o.log == !o.sweep)
        return cli_usage_error("plot", "give exactly one of --log and --sweep");
    if (!o.out) return cli_usage_error("plot", "--out FILE.svg is required");
    return o.log ? plot_log(o.log, o.out, o.title, o.panels)
                 : plot_sweep(o.sweep, o.out, o.title);
}

void cmd_plot_describe(cli_parsed *p, void *opts) { describe(p, opts); }
size_t cmd_plot_opts_size(void) { return sizeof(plot_opts); }
