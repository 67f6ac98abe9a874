/* bench_main.c: advc-bench, the microbenchmark driver.
 *   advc-bench peak|gemm|conv|act|sign|all [--m M --n N --k K]
 *              [--threads T] [--reps R]
 *   advc-bench train|attack --model SPEC [--attack A --steps K --eps E]
 * Each case is verified against the scalar reference, then timed; one line
 * per case as key=value pairs.  Exit status 1 if any case FAILed. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include "bench.h"

static const char usage[] =
    "usage: advc-bench COMMAND [options]\n"
    "commands:\n"
    "  peak   measure the single-core FMA peak (register-only loop)\n"
    "  gemm   SGEMM NN/TN/NT against the measured peak\n"
    "  conv   convolution-shaped GEMMs (im2col + SGEMM) from MNIST networks;\n"
    "         with --model SPEC: each conv layer of SPEC with each algorithm\n"
    "  act    activation forward/backward against libm scalar code\n"
    "  sign   attack sign steps and BLAS-1 updates\n"
    "  all    all of the above\n"
    "  train  training images/s for --model SPEC (default cnn), --batch B\n"
    "  attack attack images/s: --model SPEC, --attack pgd|fgsm|apgd-ce|cw,\n"
    "         --steps K (default 20), --eps E (default 0.3), --batch B\n"
    "options:\n"
    "  --m M --n N --k K   one GEMM size instead of the default set\n"
    "  --threads T         one thread count instead of 1 and all CPUs\n"
    "  --reps R            timed repetitions; the median is printed (default 7)\n"
    "  --model SPEC        model for train/attack (see advc train --help)\n"
    "  --batch B           batch for train and attack (default 128)\n"
    "  --attack A          attack for the attack bench (default pgd)\n"
    "  --steps K           attack/recipe iterations (attack: default 20)\n"
    "  --eps E             L-inf budget in [0, 1] pixels (default 0.3)\n"
    "  --recipe R          train: std|fgsm|fgsm-rs|pgd|free|trades|me-fgsm\n"
    "                      (default std; --steps K for pgd/trades)\n"
    "  -h, --help          this text\n"
    "Output: one line per case, key=value pairs, ending status=PASS|FAIL.\n";

static int parse_int(const char *flag, const char *s, int lo)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > 1000000) {
        fprintf(stderr, "advc-bench: bad value '%s' for --%s\n", s, flag);
        exit(2);
    }
    return (int)v;
}

/* --eps: a finite budget in (0, 1]. */
static float parse_eps(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s == '\0' || *end != '\0' || !(v > 0.0 && v <= 1.0)) {
        fprintf(stderr, "advc-bench: bad value '%s' for --eps (want 0 < eps "
                "<= 1)\n", s);
        exit(2);
    }
    return (float)v;
}

int main(int argc, char **argv)
{
    bench_opts o = { .reps = 7, .batch = 128 };
    static const struct option longopts[] = {
        { "m", required_argument, NULL, 'm' },
        { "n", required_argument, NULL, 'n' },
        { "k", required_argument, NULL, 'k' },
        { "threads", required_argument, NULL, 't' },
        { "reps", required_argument, NULL, 'r' },
        { "model", required_argument, NULL, 'M' },
        { "batch", required_argument, NULL, 'b' },
        { "attack", required_argument, NULL, 'A' },
        { "steps", required_argument, NULL, 'S' },
        { "eps", required_argument, NULL, 'E' },
        { "recipe", required_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': o.m = parse_int("m", optarg, 1); break;
        case 'n': o.n = parse_int("n", optarg, 1); break;
        case 'k': o.k = parse_int("k", optarg, 1); break;
        case 't': o.threads = parse_int("threads", optarg, 1); break;
        case 'r': o.reps = parse_int("reps", optarg, 1); break;
        case 'M': o.model = optarg; break;
        case 'b': o.batch = parse_int("batch", optarg, 1); break;
        case 'A': o.attack = optarg; break;
        case 'S': o.steps = parse_int("steps", optarg, 1); break;
        case 'E': o.eps = parse_eps(optarg); break;
        case 'R': o.recipe = optarg; break;
        case 'h': fputs(usage, stdout); return 0;
        default:
            fprintf(stderr, "advc-bench: unknown option (see --help)\n");
            return 2;
        }
    }
    if (optind != argc - 1) {
        fputs(usage, stderr);
        return 2;
    }
    if ((o.m || o.n || o.k) && !(o.m && o.n && o.k)) {
        fprintf(stderr, "advc-bench: --m, --n and --k go together\n");
        return 2;
    }
    const char *cmd = argv[optind];
    int all = strcmp(cmd, "all") == 0, failed = 0, known = all;
    struct {
        const char *name;
        int (*fn)(const bench_opts *);
        int in_all;
    } cmds[] = {
        { "peak", bench_peak, 1 }, { "gemm", bench_gemm, 1 },
        { "conv", bench_conv, 1 }, { "act", bench_act, 1 },
        { "sign", bench_sign, 1 }, { "train", bench_train, 0 },
        { "attack", bench_attack, 0 },
    };
    for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
        if ((all && cmds[i].in_all) || strcmp(cmd, cmds[i].name) == 0) {
            known = 1;
            failed += cmds[i].fn(&o);
            fflush(stdout);
        }
    }
    if (!known) {
        fprintf(stderr, "advc-bench: unknown command '%s' (see --help)\n",
                cmd);
        return 2;
    }
    return failed ? 1 : 0;
}
