/* main.c: the `advc` command: parses the subcommand and hands over.
 * Each subcommand lives in its own cli/cmd_*.c file with its own --help;
 * `advc help CMD` prints CMD's, `advc help --man` the man page advc(1),
 * both from the same option rows.  Errors: one line on stderr naming the
 * flag or file, exit code 2 for usage errors and 1 for failures. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "cli.h"

static const char usage[] =
    "usage: advc COMMAND [options]\n"
    "\n"
    "advc trains image classifiers, attacks them and measures how robust\n"
    "they are, on plain CPUs.\n"
    "\n"
    "commands:\n";

/* The commands main.c answers itself, after the table's; a '\n' in the
 * text breaks the line in the usage (a space in the man page). */
static const struct {
    const char *name, *args, *what;
} builtins[] = {
    { "help", "CMD", "CMD's options (the same as advc CMD --help); help "
      "--man:\nthe man page advc(1) in roff" },
    { "version", "", "the version and the kernels' ISA (also --version)" },
};
#define NBUILTINS (sizeof builtins / sizeof builtins[0])

static const char usage_tail[] =
    "\n"
    "Run 'advc COMMAND --help' for a command's options.\n";

static void print_usage(FILE *f)
{
    fputs(usage, f);
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(f, "  %-10s  %s\n", c->name, c->summary);
    for (size_t i = 0; i < NBUILTINS; i++) {
        char head[32];
        snprintf(head, sizeof head, "%s %s", builtins[i].name,
                 builtins[i].args);
        fprintf(f, "  %-10s  ", head);
        for (const char *s = builtins[i].what; *s; s++)
            if (*s == '\n') fprintf(f, "\n%14s", "");
            else fputc(*s, f);
        fputc('\n', f);
    }
    fputs(usage_tail, f);
}

/* The built-in commands' sections of the man page. */
static void man_builtins(void)
{
    for (size_t i = 0; i < NBUILTINS; i++) {
        char what[160];
        snprintf(what, sizeof what, "%s", builtins[i].what);
        for (char *s = what; *s; s++)
            if (*s == '\n') *s = ' ';
        printf(".SS \"advc %s\"\n.B advc %s\n", builtins[i].name,
               builtins[i].name);
        if (*builtins[i].args) {
            cli_roff(stdout, builtins[i].args);
            fputc('\n', stdout);
        }
        fputs(".PP\n", stdout);
        cli_roff(stdout, what);
        fputs(".\n", stdout);
    }
}

static void print_version(void)
{
    printf("advc %s (kernels: %s)\n", ADVC_VERSION, advc_isa_name());
}

/* A command's option groups, over a zeroed options struct. */
static int with_groups(const cli_command *c, FILE *f, bool man)
{
    void *opts = calloc(1, c->opts_size());
    cli_parsed *p = calloc(1, sizeof *p);
    if (!opts || !p) {
        free(opts), free(p);
        fprintf(stderr, "advc help: out of memory\n");
        return 1;
    }
    c->describe(p, opts);
    if (man) cli_man(f, c->spec, p);
    else cli_help(f, c->spec, p);
    free(opts), free(p);
    return 0;
}

static int man_page(void)
{
    printf(".TH ADVC 1 \"\" \"advc %s\" \"User Commands\"\n"
           ".SH NAME\nadvc \\- train, attack and measure the robustness of "
           "image classifiers on plain CPUs\n.SH SYNOPSIS\n.B advc\n"
           "\\fICOMMAND\\fR [\\fIoptions\\fR]\n.SH DESCRIPTION\n"
           "advc trains image classifiers, attacks them (FGSM, PGD, CW, "
           "APGD), trains them to resist, and measures how robust they "
           "are. Bad flags and values exit with status 2 and one line "
           "naming them; bad files exit with status 1 and one line naming "
           "the file.\n.SH COMMANDS\n", ADVC_VERSION);
    for (const cli_command *c = cli_commands; c->name; c++)
        if (with_groups(c, stdout, true)) return 1;
    man_builtins();
    printf(".SH ENVIRONMENT\n.TP\n.B ADVC_THREADS\nworker threads when "
           "\\-\\-threads is not given (an integer from 1 to 1024).\n"
           ".SH SEE ALSO\nThe README and src/adv/METHODS.md of the source "
           "tree.\n");
    return 0;
}

static int help(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--man")) return man_page();
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(argv[1], c->name)) return with_groups(c, stdout, false);
    fprintf(stderr, "advc help: unknown command '%s' (see advc --help)\n",
            argv[1]);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "help")) return help(argc - 1, argv + 1);
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        print_version();
        return 0;
    }
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(cmd, c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "advc: unknown command '%s' (see advc --help)\n", cmd);
    return 2;
}
