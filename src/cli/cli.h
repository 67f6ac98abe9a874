/* cli.h: the table of advc subcommands.  Each entry's run() gets argv
 * starting at the subcommand name and returns the process exit code;
 * describe() adds the command's option groups to p (with its options
 * struct, opts_size() bytes, as their base), so `advc help --man` can write
 * every command's section from the same rows as its --help. */
#ifndef ADVC_CLI_H
#define ADVC_CLI_H

#include <stddef.h>
#include "cli_opts.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;           /* one line for `advc --help`        */
    const cli_spec *spec;
    void (*describe)(cli_parsed *p, void *opts);
    size_t (*opts_size)(void);  /* bytes of its options struct */
} cli_command;

/* Terminated by an entry with name == NULL. */
extern const cli_command cli_commands[];

#endif
