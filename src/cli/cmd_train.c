/* cmd_train.c: `advc train`: build a model from a spec, train it on a data
 * directory, write the checkpoint (every epoch, temp file + rename) and an
 * optional CSV log. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "advc/advc.h"
#include "advc/data.h"
#include "advc/train.h"
#include "cli_util.h"

static const char usage[] =
    "usage: advc train --data DIR --model SPEC [options]\n"
    "\n"
    "Trains a model and writes it to --out after every epoch.\n"
    "\n"
    "  --data DIR        MNIST / Fashion-MNIST IDX files or CIFAR-10 batches\n"
    "  --model SPEC      name[:key=value,...], see the list below\n"
    "  --act A           activation: relu (default), softplus, psoftplus:A,\n"
    "                    silu, gelu, elu, sigmoid, tanh\n"
    "  --epochs N        passes over the training set (default 1)\n"
    "  --batch B         batch size (default 128)\n"
    "  --opt sgd|adam    optimizer (default adam)\n"
    "  --lr X            (peak) learning rate (default 1e-3 adam, 0.05 sgd)\n"
    "  --momentum X      SGD momentum (default 0.9)\n"
    "  --nesterov        SGD with Nesterov momentum\n"
    "  --schedule S      constant (default), step:E1,E2[@G], cosine,\n"
    "                    cyclic[:F] (linear up to the peak at fraction F of\n"
    "                    training, default 0.4, then down to 0)\n"
    "  --wd X            L2 weight decay on weights (default 0)\n"
    "  --val N           hold out the last N training images (default 0)\n"
    "  --limit N         train on the first N training images only\n"
    "  --seed S          seed for init, shuffling, dropout (default 1)\n"
    "  --threads T       worker threads (default: ADVC_THREADS or all CPUs)\n"
    "  --out FILE        checkpoint (default model.advc)\n"
    "  --log FILE.csv    per-epoch CSV: epoch,lr,loss,train_acc,val_acc,seconds\n"
    "  -h, --help        this text\n"
    "\n";

enum { OPT_NESTEROV = 256 };

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train", *data_dir = NULL, *spec = NULL;
    const char *act_s = "relu", *opt_s = "adam", *sched_s = "constant";
    const char *out = "model.advc", *log = NULL;
    int epochs = 1, batch = 128, threads = 0, val = 0, limit = 0;
    int lr_set = 0, nesterov = 0;
    float lr = 0, momentum = 0.9f, wd = 0;
    uint64_t seed = 1;
    static const struct option longopts[] = {
        { "data", required_argument, NULL, 'd' },
        { "model", required_argument, NULL, 'm' },
        { "act", required_argument, NULL, 'a' },
        { "epochs", required_argument, NULL, 'e' },
        { "batch", required_argument, NULL, 'b' },
        { "opt", required_argument, NULL, 'o' },
        { "lr", required_argument, NULL, 'l' },
        { "momentum", required_argument, NULL, 'M' },
        { "nesterov", no_argument, NULL, OPT_NESTEROV },
        { "schedule", required_argument, NULL, 's' },
        { "wd", required_argument, NULL, 'w' },
        { "val", required_argument, NULL, 'v' },
        { "limit", required_argument, NULL, 'L' },
        { "seed", required_argument, NULL, 'S' },
        { "threads", required_argument, NULL, 't' },
        { "out", required_argument, NULL, 'O' },
        { "log", required_argument, NULL, 'g' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 }
    };
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        bool ok = true;
        switch (c) {
        case 'd': data_dir = optarg; break;
        case 'm': spec = optarg; break;
        case 'a': act_s = optarg; break;
        case 'e': ok = cli_int(cmd, "epochs", optarg, 1, 100000, &epochs); break;
        case 'b': ok = cli_int(cmd, "batch", optarg, 1, 65536, &batch); break;
        case 'o': opt_s = optarg; break;
        case 'l':
            ok = cli_float(cmd, "lr", optarg, 0, 100, &lr);
            lr_set = 1;
            break;
        case 'M': ok = cli_float(cmd, "momentum", optarg, 0, 1, &momentum); break;
        case OPT_NESTEROV: nesterov = 1; break;
        case 's': sched_s = optarg; break;
        case 'w': ok = cli_float(cmd, "wd", optarg, 0, 10, &wd); break;
        case 'v': ok = cli_int(cmd, "val", optarg, 0, 100000000, &val); break;
        case 'L': ok = cli_int(cmd, "limit", optarg, 1, 100000000, &limit); break;
        case 'S': ok = cli_u64(cmd, "seed", optarg, &seed); break;
        case 't': ok = cli_int(cmd, "threads", optarg, 1, 1024, &threads); break;
        case 'O': out = optarg; break;
        case 'g': log = optarg; break;
        case 'h':
            fputs(usage, stdout);
            fputs(advc_model_usage(), stdout);
            return 0;
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
    if (!data_dir) return cli_usage_error(cmd, "--data DIR is required");
    if (!spec) return cli_usage_error(cmd, "--model SPEC is required");

    advc_train_config cfg = advc_train_defaults();
    if (advc_act_spec_parse(act_s, &cfg.act) != ADVC_OK) {
        fprintf(stderr, "advc train: bad value '%s' for --act: %s\n", act_s,
                advc_last_error());
        return 2;
    }
    if (!strcmp(opt_s, "adam")) {
        cfg.opt = advc_opt_defaults(ADVC_OPT_ADAM);
        if (!lr_set) lr = 1e-3f;
    } else if (!strcmp(opt_s, "sgd")) {
        cfg.opt = advc_opt_defaults(ADVC_OPT_SGD);
        cfg.opt.momentum = momentum;
        cfg.opt.nesterov = nesterov;
        if (!lr_set) lr = 0.05f;
    } else {
        fprintf(stderr, "advc train: bad value '%s' for --opt (sgd or adam)\n",
                opt_s);
        return 2;
    }
    cfg.opt.weight_decay = wd;
    if (advc_schedule_parse(sched_s, lr, &cfg.sched) != ADVC_OK) {
        fprintf(stderr, "advc train: bad value '%s' for --schedule: %s\n",
                sched_s, advc_last_error());
        return 2;
    }
    cfg.epochs = epochs;
    cfg.batch = batch;
    cfg.seed = seed;
    cfg.val_count = val;
    cfg.out_path = out;
    cfg.log_path = log;
    cfg.spec = spec;
    cfg.progress = isatty(2) ? ADVC_PROGRESS_LIVE : ADVC_PROGRESS_EPOCH;

    advc_dataset all, data;
    if (advc_dataset_load_dir(data_dir, true, &all) != ADVC_OK)
        return cli_fail(cmd);
    if (limit > 0 && limit < all.n) {
        if (advc_dataset_slice(&all, 0, limit, &data) != ADVC_OK) {
            advc_dataset_free(&all);
            return cli_fail(cmd);
        }
        advc_dataset_free(&all);
    } else {
        data = all;
    }
    if (val >= data.n) {
        advc_dataset_free(&data);
        fprintf(stderr, "advc train: --val %d leaves no training images "
                "(the set has %d)\n", val, data.n);
        return 2;
    }

    advc_pool *pool = cli_pool(cmd, threads);
    advc_graph *g = NULL;
    advc_shape in = { data.c, data.h, data.w };
    int rc = 0;
    if (advc_model_build(spec, in, data.classes, cfg.act, &g) != ADVC_OK ||
        advc_graph_compile(g, batch, pool) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    advc_graph_init_params(g, seed);
    fprintf(stderr,
            "advc train: %s (%zu parameters, act %s) on %s: %d images, "
            "%d epochs, batch %d, %s lr %g %s, seed %llu, %d threads\n",
            spec, advc_graph_num_params(g), act_s, data_dir, data.n - val,
            epochs, batch, opt_s, (double)lr, sched_s,
            (unsigned long long)seed, advc_pool_threads(pool));
    advc_train_result res;
    if (advc_train(g, &data, &cfg, &res) != ADVC_OK) {
        rc = cli_fail(cmd);
        goto done;
    }
    fprintf(stderr, "advc train: %d epochs in %.1fs (%.0f img/s); wrote %s\n",
            res.epochs_done, res.seconds,
            res.seconds > 0 ? (double)res.steps * batch / res.seconds : 0.0,
            out);
done:
    advc_graph_free(g);
    advc_pool_destroy(pool);
    advc_dataset_free(&data);
    return rc;
}
