/* commands.c: the list of subcommands `advc` knows.  Adding a command is
 * one line here plus its cmd_*.c file (which defines the four names the
 * line uses). */
#include <stddef.h>
#include "cli.h"

#define CLI_COMMANDS(X)                                                       \
    X(train, "train a model on a data directory")                            \
    X(eval, "clean and robust accuracy, masking checks")                     \
    X(attack, "attack test images: grid.png and .npy arrays")                \
    X(probe, "logits along the FGSM direction (SVG, CSV)")                   \
    X(plot, "SVG plots of training logs and eps sweeps")                     \
    X(info, "what a checkpoint holds")                                        \
    X(import, "a PyTorch state_dict (.npz) as an advc model")                \
    X(export, "an advc model as a PyTorch state_dict (.npz)")

#define DECLARE(name, summary)                                                \
    int cmd_##name(int argc, char **argv);                                    \
    extern const cli_spec cmd_##name##_spec;                                  \
    void cmd_##name##_describe(cli_parsed *p, void *opts);                    \
    size_t cmd_##name##_opts_size(void);
CLI_COMMANDS(DECLARE)
#undef DECLARE

const cli_command cli_commands[] = {
#define ROW(name, summary)                                                    \
    { #name, cmd_##name, summary, &cmd_##name##_spec, cmd_##name##_describe, \
      cmd_##name##_opts_size },
    CLI_COMMANDS(ROW)
#undef ROW
    { NULL, NULL, NULL, NULL, NULL, NULL }
};
