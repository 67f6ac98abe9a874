/* commands.c: the list of subcommands `advc` knows.  Adding a command is
 * one line here plus its cmd_*.c file. */
#include <stddef.h>
#include "cli.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_attack(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);

const cli_command cli_commands[] = {
    { "train", cmd_train, "train a model on a data directory" },
    { "eval", cmd_eval, "clean and robust accuracy, masking checks" },
    { "info", cmd_info, "what a checkpoint holds" },
    { "attack", cmd_attack, "attack test images: grid.png and .npy arrays" },
    { "probe", cmd_probe, "logits along the FGSM direction (SVG, CSV)" },
    { "plot", cmd_plot, "SVG plots of training logs and eps sweeps" },
    { "import", cmd_import, "a PyTorch state_dict (.npz) as an advc model" },
    { "export", cmd_export, "an advc model as a PyTorch state_dict (.npz)" },
    { NULL, NULL, NULL }
};
