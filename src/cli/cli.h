/* cli.h: the table of advc subcommands.  Each entry's run() gets argv
 * starting at the subcommand name and returns the process exit code. */
#ifndef ADVC_CLI_H
#define ADVC_CLI_H

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* one line for `advc --help` */
} cli_command;

/* Terminated by an entry with name == NULL. */
extern const cli_command cli_commands[];

#endif
