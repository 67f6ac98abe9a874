/* cli_opts.c: the one command-line parser, --help and the man page, all
 * from the commands' parameter rows (cli_opts.h). */
#include "cli_opts.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "advc/models.h"

advc_status cli_parse_threads(const char *text, void *dst)
{
    return advc_parse_threads(text, dst);
}

void cli_format_threads(const void *src, char *buf, size_t bufsz)
{
    int t = *(const int *)src;
    if (t > 0) snprintf(buf, bufsz, "%d", t);
    else snprintf(buf, bufsz, "default");
}

advc_status cli_parse_act(const char *text, void *dst)
{
    return advc_act_spec_parse(text, dst);
}

void cli_format_act(const void *src, char *buf, size_t bufsz)
{
    advc_act_spec_format(*(const advc_act_spec *)src, buf, bufsz);
}

void cli_add_group(cli_parsed *p, const char *title, const advc_param *rows,
                   int nrows, void *base)
{
    if (p->ngroups >= CLI_MAX_GROUPS || nrows > CLI_MAX_ROWS) abort();
    cli_group *g = &p->groups[p->ngroups++];
    g->title = title;
    g->rows = rows;
    g->nrows = nrows;
    g->base = base;
}

/* ---- parsing ------------------------------------------------------------- */

/* Where a flag lives: the first group and row that name it. */
static bool find_flag(const cli_parsed *p, const char *flag, int *gi,
                      int *ri)
{
    for (int g = 0; g < p->ngroups; g++)
        for (int r = 0; r < p->groups[g].nrows; r++)
            if (strcmp(p->groups[g].rows[r].flag, flag) == 0) {
                *gi = g;
                *ri = r;
                return true;
            }
    return false;
}

static int usage_error(const char *cmd, const char *what)
{
    fprintf(stderr, "advc %s: %s (see advc %s --help)\n", cmd, what, cmd);
    return 2;
}

/* getopt_long's table: every distinct flag once, val = its index into
 * (gi, ri); "help" last. */
typedef struct {
    struct option opts[CLI_MAX_GROUPS * CLI_MAX_ROWS + 2];
    int gi[CLI_MAX_GROUPS * CLI_MAX_ROWS], ri[CLI_MAX_GROUPS * CLI_MAX_ROWS];
    int n;
} opt_table;

static void build_table(const cli_parsed *p, opt_table *t)
{
    t->n = 0;
    for (int g = 0; g < p->ngroups; g++)
        for (int r = 0; r < p->groups[g].nrows; r++) {
            const advc_param *row = &p->groups[g].rows[r];
            int fg = -1, fr = -1;
            find_flag(p, row->flag, &fg, &fr);
            if (fg != g || fr != r) continue; /* already listed */
            t->opts[t->n] = (struct option){
                row->flag,
                row->type == ADVC_PARAM_FLAG ? no_argument
                                             : required_argument,
                NULL, 256 + t->n };
            t->gi[t->n] = g;
            t->ri[t->n] = r;
            t->n++;
        }
    t->opts[t->n] = (struct option){ "help", no_argument, NULL, 'h' };
    t->opts[t->n + 1] = (struct option){ NULL, 0, NULL, 0 };
}

/* Records the value of flag k of the table and, for a group with a base,
 * parses and stores it.  Every group holding the same flag records it. */
static int take(const cli_spec *spec, cli_parsed *p, const opt_table *t,
                int k, const char *text)
{
    const char *flag = t->opts[k].name;
    if (!text) text = "";
    for (int g = 0; g < p->ngroups; g++) {
        cli_group *grp = &p->groups[g];
        int r = advc_param_find(grp->rows, grp->nrows, flag);
        if (r < 0) continue;
        p->given[g][r] = text;
        if (grp->base &&
            advc_param_set(&grp->rows[r], grp->base, text) != ADVC_OK) {
            fprintf(stderr, "advc %s: %s\n", spec->name, advc_last_error());
            return 2;
        }
    }
    return -1;
}

int cli_parse(const cli_spec *spec, cli_parsed *p, int argc, char **argv)
{
    opt_table t;
    build_table(p, &t);
    memset(p->given, 0, sizeof p->given);
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", t.opts, NULL)) != -1) {
        char m[200];
        if (c == 'h') {
            cli_help(stdout, spec, p);
            return 0;
        }
        if (c == ':' || c == '?') {
            snprintf(m, sizeof m, c == ':' ? "option %s needs a value"
                                           : "unknown option '%s'",
                     argv[optind - 1]);
            return usage_error(spec->name, m);
        }
        int rc = take(spec, p, &t, c - 256, optarg);
        if (rc >= 0) return rc;
    }
    p->nargs = argc - optind;
    p->args = argv + optind;
    if (p->nargs > spec->max_args) {
        char m[200];
        snprintf(m, sizeof m, "unexpected argument '%s'",
                 argv[optind + spec->max_args]);
        return usage_error(spec->name, m);
    }
    return -1;
}

int cli_begin(const cli_spec *spec, void (*describe)(cli_parsed *, void *),
              void *opts, cli_parsed *p, int argc, char **argv)
{
    memset(p, 0, sizeof *p);
    describe(p, opts);
    return cli_parse(spec, p, argc, argv);
}

const char *cli_given(const cli_parsed *p, const char *flag)
{
    for (int g = 0; g < p->ngroups; g++) {
        int r = advc_param_find(p->groups[g].rows, p->groups[g].nrows, flag);
        if (r >= 0 && p->given[g][r]) return p->given[g][r];
    }
    return NULL;
}

int cli_apply(const char *cmd, const cli_parsed *p, int gi,
              const advc_param *ps, int n, void *base, bool *used,
              const char *whose)
{
    const cli_group *g = &p->groups[gi];
    for (int r = 0; r < g->nrows; r++) {
        const char *text = p->given[gi][r];
        if (!text) continue;
        int k = advc_param_find(ps, n, g->rows[r].flag);
        if (k < 0) continue;
        if (used) used[r] = true;
        if (advc_param_set(&ps[k], base, text) != ADVC_OK) {
            fprintf(stderr, "advc %s: %s: %s\n", cmd, whose,
                    advc_last_error());
            return 2;
        }
    }
    return 0;
}

int cli_refuse_unused(const char *cmd, const cli_parsed *p, int gi,
                      const bool *used, const char *what)
{
    const cli_group *g = &p->groups[gi];
    for (int r = 0; r < g->nrows; r++)
        if (p->given[gi][r] && !used[r]) {
            fprintf(stderr, "advc %s: --%s does nothing with %s (see advc "
                    "%s --help)\n", cmd, g->rows[r].flag, what, cmd);
            return 2;
        }
    return 0;
}

/* ---- help ----------------------------------------------------------------- */

/* Prints words of s from column `col`, wrapping before column 79; the
 * cursor is at column *at. */
static void wrap(FILE *f, const char *s, int col, int *at)
{
    const int width = 79;
    while (*s) {
        while (*s == ' ') s++;
        size_t len = strcspn(s, " ");
        if (len == 0) break;
        if (*at > col && *at + 1 + (int)len > width) {
            fprintf(f, "\n%*s", col, "");
            *at = col;
        } else if (*at > col) {
            fputc(' ', f);
            (*at)++;
        } else if (*at < col) {
            fprintf(f, "%*s", col - *at, "");
            *at = col;
        }
        fprintf(f, "%.*s", (int)len, s);
        *at += (int)len;
        s += len;
    }
}

void cli_help_rows(FILE *f, const advc_param *ps, int n, int indent, int col)
{
    for (int i = 0; i < n; i++) {
        const advc_param *r = &ps[i];
        int at = fprintf(f, "%*s--%s", indent, "", r->flag);
        if (r->type != ADVC_PARAM_FLAG)
            at += fprintf(f, " %s", r->metavar ? r->metavar : "X");
        char text[512], want[160];
        if (r->type == ADVC_PARAM_CHOICE) {
            advc_param_wants(r, want, sizeof want);
            snprintf(text, sizeof text, "%s: %s%s%s%s", r->help, want,
                     r->def ? " (default " : "", r->def ? r->def : "",
                     r->def ? ")" : "");
        } else {
            snprintf(text, sizeof text, "%s%s%s%s", r->help,
                     r->def ? " (default " : "", r->def ? r->def : "",
                     r->def ? ")" : "");
        }
        if (at + 2 > col) {
            fputc('\n', f);
            at = 0;
        }
        wrap(f, text, col, &at);
        fputc('\n', f);
    }
}

void cli_help(FILE *f, const cli_spec *spec, const cli_parsed *p)
{
    fprintf(f, "usage: advc %s %s\n\n", spec->name, spec->synopsis);
    int at = 0;
    wrap(f, spec->about, 0, &at);
    fputs("\n\n", f);
    for (int g = 0; g < p->ngroups; g++) {
        const cli_group *grp = &p->groups[g];
        if (!grp->base) continue; /* deferred: listed by more_help */
        if (grp->title) fprintf(f, "%s:\n", grp->title);
        cli_help_rows(f, grp->rows, grp->nrows, 2, 22);
        fputc('\n', f);
    }
    fprintf(f, "  -h, --help          this text\n\n");
    if (spec->more_help) spec->more_help(f);
    if (spec->epilog) {
        at = 0;
        wrap(f, spec->epilog, 0, &at);
        fputc('\n', f);
    }
}

/* ---- the man page --------------------------------------------------------- */

void cli_roff(FILE *f, const char *s)
{
    if (*s == '.' || *s == '\'') fputs("\\&", f);
    for (; *s; s++) {
        if (*s == '\\') fputs("\\e", f);
        else if (*s == '-') fputs("\\-", f);
        else fputc(*s, f);
    }
}

static void roff(FILE *f, const char *s) { cli_roff(f, s); }

static void man_rows(FILE *f, const advc_param *ps, int n)
{
    for (int i = 0; i < n; i++) {
        const advc_param *r = &ps[i];
        fputs(".TP\n.B \\-\\-", f);
        roff(f, r->flag);
        if (r->type != ADVC_PARAM_FLAG) {
            fputs(" ", f);
            roff(f, r->metavar ? r->metavar : "X");
        }
        fputc('\n', f);
        roff(f, r->help);
        if (r->type == ADVC_PARAM_CHOICE) {
            char want[160];
            advc_param_wants(r, want, sizeof want);
            fputs(": ", f);
            roff(f, want);
        }
        if (r->def) {
            fputs(" (default ", f);
            roff(f, r->def);
            fputs(")", f);
        }
        fputs(".\n", f);
    }
}

void cli_man(FILE *f, const cli_spec *spec, const cli_parsed *p)
{
    fputs(".SS \"advc ", f);
    roff(f, spec->name);
    fputs("\"\n.B advc ", f);
    roff(f, spec->name);
    fputs("\n", f);
    roff(f, spec->synopsis);
    fputs("\n.PP\n", f);
    roff(f, spec->about);
    fputs("\n", f);
    for (int g = 0; g < p->ngroups; g++) {
        const cli_group *grp = &p->groups[g];
        if (!grp->base) continue;
        if (grp->title) {
            fputs(".PP\n", f);
            roff(f, grp->title);
            fputs(":\n", f);
        }
        man_rows(f, grp->rows, grp->nrows);
    }
    if (spec->more_help) {
        /* The generated lists (attacks, recipes, models), verbatim. */
        char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (m) {
            spec->more_help(m);
            fclose(m);
            fputs(".PP\n.nf\n", f);
            for (char *line = strtok(text, "\n"); line;
                 line = strtok(NULL, "\n")) {
                roff(f, line);
                fputc('\n', f);
            }
            fputs(".fi\n", f);
        }
        free(text);
    }
    if (spec->epilog) {
        fputs(".PP\n", f);
        roff(f, spec->epilog);
        fputs("\n", f);
    }
}
