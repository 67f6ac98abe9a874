/* cli_attacks.h: what `advc eval` and `advc attack` share about attacks:
 * the flags of every attack's descriptor (one deferred group), --attack
 * lists with suites (aa-lite, all), --exit-mode, the generated help, and
 * turning the given flags into one config per attack, with the same
 * defaults everywhere. */
#ifndef ADVC_CLI_ATTACKS_H
#define ADVC_CLI_ATTACKS_H

#include <stdint.h>
#include "advc/attack.h"
#include "cli_opts.h"

/* --exit-mode: sum, maxavg or an exit number. */
typedef struct {
    advc_exit_mode mode;
    int exit;
} cli_exit_mode;

/* Every attack's rows, each flag once (the deferred group's rows). */
const advc_param *cli_attack_union(int *n);
/* The row of --exit-mode, pointing into st at `offset`. */
advc_param cli_exit_mode_row(size_t offset);
/* "Attacks (--attack NAME[,NAME...])": every attack and suite with its
 * summary, paper and flags (defaults per attack). */
void cli_attacks_help(FILE *f);

/* The configs for the comma list `names` (suites expanded), each with the
 * attack's defaults, then the deferred flags of group gi that it reads,
 * then seed and exit mode.  A flag no listed attack reads is refused.
 * Returns the count, or -1 after a one-line error (exit 2). */
int cli_attack_configs(const char *cmd, const cli_parsed *p, int gi,
                       const char *names, uint64_t seed,
                       const cli_exit_mode *em, advc_attack_config *out,
                       int max);

/* "pgd" or "pgd@exit2" / "pgd@maxavg" for multi-exit modes. */
void cli_attack_label(const advc_attack_config *c, char *out, size_t sz);

#endif
