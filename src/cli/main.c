/* main.c: the `advc` command: parses the subcommand and hands over.
 * Each subcommand lives in its own cli/cmd_*.c file with its own --help.
 * Errors: one line on stderr naming the flag or file, exit code 2 for
 * usage errors and 1 for failures. */
#include <stdio.h>
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

static const char usage_tail[] =
    "  help        this text\n"
    "  version     the version and the kernels' ISA (also --version)\n"
    "\n"
    "Run 'advc COMMAND --help' for a command's options.\n";

static void print_usage(FILE *f)
{
    fputs(usage, f);
    for (const cli_command *c = cli_commands; c->name; c++)
        fprintf(f, "  %-10s  %s\n", c->name, c->summary);
    fputs(usage_tail, f);
}

static void print_version(void)
{
    printf("advc %s (kernels: %s)\n", ADVC_VERSION, advc_isa_name());
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        print_usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        print_version();
        return 0;
    }
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(cmd, c->name)) return c->run(argc - 1, argv + 1);
    fprintf(stderr, "advc: unknown command '%s' (see advc --help)\n", cmd);
    return 2;
}
