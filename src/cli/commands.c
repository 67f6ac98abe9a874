/* commands.c: the list of subcommands `advc` knows.  Adding a command is
 * one line here plus its cmd_*.c file. */
#include <stddef.h>
#include "cli.h"

const cli_command cli_commands[] = {
    { NULL, NULL }
};
