/* bench_main.c: advc-bench, the microbenchmark driver.
 *   advc-bench peak|gemm|conv|act|sign|all [--m M --n N --k K]
 *              [--threads T] [--reps R]
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
    "  conv   convolution-shaped GEMMs (im2col + SGEMM) from MNIST networks\n"
    "  act    activation forward/backward against libm scalar code\n"
    "  sign   attack sign steps and BLAS-1 updates\n"
    "  all    all of the above\n"
    "  train  training images/s for --model SPEC (default cnn), --batch B\n"
    "options:\n"
    "  --m M --n N --k K   one GEMM size instead of the default set\n"
    "  --threads T         one thread count instead of 1 and all CPUs\n"
    "  --reps R            timed repetitions; the median is printed (default 7)\n"
    "  --model SPEC        model for train (see advc train --help)\n"
    "  --batch B           batch for train (default 128)\n"
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

int main(int argc, char **argv)
{
    bench_opts o = { 0, 0, 0, 0, 7, NULL, 128 };
    static const struct option longopts[] = {
        { "m", required_argument, NULL, 'm' },
        { "n", required_argument, NULL, 'n' },
        { "k", required_argument, NULL, 'k' },
        { "threads", required_argument, NULL, 't' },
        { "reps", required_argument, NULL, 'r' },
        { "model", required_argument, NULL, 'M' },
        { "batch", required_argument, NULL, 'b' },
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
