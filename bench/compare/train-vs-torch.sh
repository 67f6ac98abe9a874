#!/bin/sh
# train-vs-torch.sh [reps]: advc against PyTorch on standard training of
# the four MNIST networks, batch 128, 1 and 2 threads: adv-vs-torch.sh's
# "std" case (which see for the output and the MODELS/THREADS knobs).
CASES=std exec sh "$(dirname "$0")/adv-vs-torch.sh" "$@"
