/* cmd_eval.c: `advc eval`: accuracy of a saved model on a data directory's
 * test split, per exit for multi-exit models, as a table or JSON lines. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "advc/advc.h"
#include "advc/data.h"
#include "advc/train.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc eval --model FILE --data DIR [options]\n"
    "\n"
    "Clean accuracy of a trained model on the test split of DIR, per exit\n"
    "for multi-exit models.\n"
    "\n"
    "  --model FILE      a checkpoint written by advc train\n"
    "  --data DIR        MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --limit N         evaluate the first N test images only\n"
    "  --batch B         evaluation batch (default 256)\n"
    "  --seed S          recorded in the report (attacks use it; default 1)\n"
    "  --threads T       worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  --json            one JSON object per line and exit, for scripts:\n"
    "                    {\"model\":...,\"exit\":\"final\",\"n\":...,"
    "\"clean_acc\":...,\"seed\":...}\n"
    "  -h, --help        this text\n";

/* Exits are named exit0, exit1, ... and the last one "final". */
static void exit_name(int e, int exits, char *out, size_t outsz)
{
    if (e == exits - 1) snprintf(out, outsz, "final");
    else snprintf(out, outsz, "exit%d", e);
}

/* Writes s as a JSON string literal (quotes, backslashes, control chars). */
static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval", *model = NULL, *data_dir = NULL;
    int limit = 0, batch = 256, threads = 0, json = 0;
    uint64_t seed = 1;
    static const struct option longopts[] = {
        { "model", required_argument, NULL, 'm' },
        { "data", required_argument, NULL, 'd' },
        { "limit", required_argument, NULL, 'L' },
        { "batch", required_argument, NULL, 'b' },
        { "seed", required_argument, NULL, 'S' },
        { "threads", required_argument, NULL, 't' },
        { "json", no_argument, NULL, 'j' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'm': model = optarg; break;
        case 'd': data_dir = optarg; break;
        case 'L': ok = cli_int(cmd, "limit", optarg, 1, 100000000, &limit); break;
        case 'b': ok = cli_int(cmd, "batch", optarg, 1, 65536, &batch); break;
        case 'S': ok = cli_u64(cmd, "seed", optarg, &seed); break;
        case 't': ok = cli_int(cmd, "threads", optarg, 1, 1024, &threads); break;
        case 'j': json = 1; break;
        case 'h': fputs(usage, stdout); return 0;
        case ':': {
            char m[160];
            snprintf(m, sizeof m, "option %s needs a value", argv[optind - 1]);
            return cli_usage_error(cmd, m);
        }
        default: {
            char m[160];
            snprintf(m, sizeof m, "unknown option '%s'", argv[optind - 1]);
            return cli_usage_error(cmd, m);
        }
        }
        if (!ok) return 2;
    }
    if (optind < argc) {
        char m[160];
        snprintf(m, sizeof m, "unexpected argument '%s'", argv[optind]);
        return cli_usage_error(cmd, m);
    }
    if (!model) return cli_usage_error(cmd, "--model FILE is required");
    if (!data_dir) return cli_usage_error(cmd, "--data DIR is required");

    advc_dataset test;
    if (advc_dataset_load_dir(data_dir, false, &test) != ADVC_OK)
        return cli_fail(cmd);
    advc_pool *pool = cli_pool(cmd, threads);
    advc_graph *g = NULL;
    advc_checkpoint head;
    float *acc = NULL;
    int rc = 0;
    if (advc_model_load(model, batch, pool, &g, &head) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    advc_shape in = advc_graph_input_shape(g);
    if (in.c != test.c || in.h != test.h || in.w != test.w) {
        fprintf(stderr, "advc eval: %s takes %dx%dx%d images but %s holds "
                "%dx%dx%d\n", model, in.c, in.h, in.w, data_dir, test.c,
                test.h, test.w);
        rc = 1;
        goto done;
    }
    int exits = advc_graph_num_exits(g);
    int n = limit > 0 && limit < test.n ? limit : test.n;
    acc = malloc((size_t)exits * sizeof *acc);
    if (!acc || advc_eval_clean(g, &test, n, acc, NULL) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    if (!json) {
        printf("model %s (%s, act %s) on %s, test split, n=%d, seed %llu\n",
               model, head.spec, head.act, data_dir, n,
               (unsigned long long)seed);
        printf("%-8s %9s\n", "exit", "clean_acc");
    }
    for (int e = 0; e < exits; e++) {
        char name[32];
        exit_name(e, exits, name, sizeof name);
        if (json) {
            printf("{\"model\":");
            json_string(stdout, model);
            printf(",\"exit\":\"%s\",\"n\":%d,\"clean_acc\":%.4f,"
                   "\"seed\":%llu}\n", name, n, (double)acc[e],
                   (unsigned long long)seed);
        } else {
            printf("%-8s %8.2f%%\n", name, 100.0 * acc[e]);
        }
    }
done:
    free(acc);
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&test);
    return rc;
}
