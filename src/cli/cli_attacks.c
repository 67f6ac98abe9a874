/* cli_attacks.c: attacks on the command line, from their descriptors
 * (cli_attacks.h). */
#include "cli_attacks.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

const advc_param *cli_attack_union(int *n)
{
    static advc_param rows[CLI_MAX_ROWS];
    static int count = -1;
    if (count < 0) {
        count = 0;
        for (int k = 0; k < ADVC_ATK_COUNT; k++) {
            const advc_attack_desc *d =
                advc_attack_describe((advc_attack_kind)k);
            for (int i = 0; i < d->nparams; i++)
                if (advc_param_find(rows, count, d->params[i].flag) < 0 &&
                    count < CLI_MAX_ROWS)
                    rows[count++] = d->params[i];
        }
    }
    *n = count;
    return rows;
}

static advc_status parse_exit_mode(const char *text, void *dst)
{
    cli_exit_mode *m = dst;
    long e;
    if (!strcmp(text, "sum")) {
        m->mode = ADVC_EXITS_SUM;
    } else if (!strcmp(text, "maxavg")) {
        m->mode = ADVC_EXITS_MAXAVG;
    } else if (advc_parse_int(text, &e) == ADVC_OK && e >= 0 && e < 1000) {
        m->mode = ADVC_EXITS_ONE;
        m->exit = (int)e;
    } else {
        return advc_set_error(ADVC_ERR_ARG, "want sum, maxavg or an exit "
                              "number");
    }
    return ADVC_OK;
}

static void format_exit_mode(const void *src, char *buf, size_t bufsz)
{
    const cli_exit_mode *m = src;
    if (m->mode == ADVC_EXITS_ONE) snprintf(buf, bufsz, "%d", m->exit);
    else snprintf(buf, bufsz, m->mode == ADVC_EXITS_MAXAVG ? "maxavg" : "sum");
}

advc_param cli_exit_mode_row(size_t offset)
{
    advc_param r = {
        "exit-mode", "M", ADVC_PARAM_CUSTOM, offset, 0, 0, 0, "sum",
        "multi-exit models: attack the summed loss (sum), run the "
        "max-average attack (maxavg), or attack exit M alone",
        "sum, maxavg or an exit number", 0, 0, parse_exit_mode,
        format_exit_mode };
    return r;
}

void cli_attacks_help(FILE *f)
{
    fprintf(f, "Attacks (--attack NAME[,NAME...]) and the settings each "
            "reads:\n");
    for (int k = 0; k < ADVC_ATK_COUNT; k++) {
        const advc_attack_desc *d = advc_attack_describe((advc_attack_kind)k);
        fprintf(f, "  %-10s %s [%s]\n", d->name, d->summary, d->paper);
        cli_help_rows(f, d->params, d->nparams, 4, 26);
    }
    for (const advc_attack_suite *s = advc_attack_suites(); s->name; s++) {
        fprintf(f, "  %-10s %s:", s->name, s->summary);
        for (int i = 0; i < s->nkinds; i++)
            fprintf(f, "%s%s", i ? "," : " ", advc_attack_name(s->kinds[i]));
        fputc('\n', f);
    }
    fprintf(f, "\nAttacks run the model in eval mode on logits, inside [0,1] "
            "and the budget.\nThe methods: src/adv/METHODS.md.\n");
}

/* The kinds named by one item of --attack: an attack or a suite. */
static int expand(const char *name, size_t len, advc_attack_kind *kinds)
{
    char buf[64];
    if (len >= sizeof buf) return 0;
    memcpy(buf, name, len);
    buf[len] = '\0';
    advc_attack_kind k = advc_attack_parse(buf);
    if (k != ADVC_ATK_COUNT) {
        kinds[0] = k;
        return 1;
    }
    for (const advc_attack_suite *s = advc_attack_suites(); s->name; s++)
        if (!strcmp(s->name, buf)) {
            memcpy(kinds, s->kinds, (size_t)s->nkinds * sizeof *kinds);
            return s->nkinds;
        }
    return 0;
}

/* One item of --attack: its configs appended to the list. */
typedef struct {
    const char *cmd;
    const cli_parsed *p;
    int gi, max, n;
    uint64_t seed;
    const cli_exit_mode *em;
    advc_attack_config *out;
    bool used[CLI_MAX_ROWS];
    bool named;           /* the error message names --attack already */
} list_ctx;

static advc_status add_item(const char *name, size_t len, void *vctx)
{
    list_ctx *c = vctx;
    advc_attack_kind kinds[8];
    c->named = true; /* every error below names --attack */
    int nk = expand(name, len, kinds);
    if (nk == 0)
        return advc_set_error(ADVC_ERR_ARG, "bad value '%.*s' for --attack "
                              "(see the attacks in advc %s --help)", (int)len,
                              name, c->cmd);
    for (int i = 0; i < nk; i++) {
        if (c->n == c->max)
            return advc_set_error(ADVC_ERR_ARG, "bad value for --attack: at "
                                  "most %d attacks at once", c->max);
        advc_attack_config a = advc_attack_defaults(kinds[i]);
        const advc_attack_desc *d = advc_attack_describe(kinds[i]);
        char whose[64];
        snprintf(whose, sizeof whose, "attack %s", d->name);
        if (cli_apply(c->cmd, c->p, c->gi, d->params, d->nparams, &a,
                      c->used, whose))
            return ADVC_ERR_STATE; /* printed already */
        a.seed = c->seed;
        a.exits = c->em->mode;
        a.exit = c->em->exit;
        c->out[c->n++] = a;
    }
    c->named = false;
    return ADVC_OK;
}

int cli_attack_configs(const char *cmd, const cli_parsed *p, int gi,
                       const char *names, uint64_t seed,
                       const cli_exit_mode *em, advc_attack_config *out,
                       int max)
{
    list_ctx c;
    memset(&c, 0, sizeof c);
    c.cmd = cmd;
    c.p = p;
    c.gi = gi;
    c.max = max;
    c.seed = seed;
    c.em = em;
    c.out = out;
    advc_status st = advc_parse_list(names, add_item, &c);
    if (st == ADVC_ERR_STATE) return -1;
    if (st != ADVC_OK && c.named) {
        fprintf(stderr, "advc %s: %s\n", cmd, advc_last_error());
        return -1;
    }
    if (st != ADVC_OK) {
        fprintf(stderr, "advc %s: bad value '%s' for --attack: %s\n", cmd,
                names, advc_last_error());
        return -1;
    }
    char what[300];
    snprintf(what, sizeof what, "--attack %s", names);
    return cli_refuse_unused(cmd, p, gi, c.used, what) ? -1 : c.n;
}

void cli_attack_label(const advc_attack_config *c, char *out, size_t sz)
{
    const char *name = advc_attack_name(c->kind);
    if (c->exits == ADVC_EXITS_ONE)
        snprintf(out, sz, "%s@exit%d", name, c->exit);
    else if (c->exits == ADVC_EXITS_MAXAVG)
        snprintf(out, sz, "%s@maxavg", name);
    else
        snprintf(out, sz, "%s", name);
}
