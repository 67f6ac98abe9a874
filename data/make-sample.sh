#!/bin/sh
# make-sample.sh: rebuilds data/mnist-sample/ from the full data/mnist/:
# the first 1,000 training and first 1,000 test images and labels, as
# plain IDX files under the official names (about 1.6 MB in all).  The
# sample is committed so the programs and tests work offline; run this
# only to regenerate it (then update its lines in data/SHA256SUMS).
#
#   sh data/fetch.sh mnist && sh data/make-sample.sh
#
# Each file is the original header with the count (bytes 4-7, big-endian)
# rewritten to 1000, followed by the first 1000 records copied with dd.
set -eu

DATA=$(cd "$(dirname "$0")" && pwd)
SRC="$DATA/mnist"
DST="$DATA/mnist-sample"

for f in train-images-idx3-ubyte train-labels-idx1-ubyte \
         t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
    [ -f "$SRC/$f" ] || { echo "make-sample: $SRC/$f missing: run sh data/fetch.sh mnist" >&2; exit 1; }
done
mkdir -p "$DST"

# IDX headers for 1000 items (1000 = 0x000003e8 = octal 000 000 003 350):
#   images: magic 00 00 08 03, count, rows 28 (0x1c), cols 28  (16 bytes)
#   labels: magic 00 00 08 01, count                           (8 bytes)
IMG_HDR='\000\000\010\003\000\000\003\350\000\000\000\034\000\000\000\034'
LAB_HDR='\000\000\010\001\000\000\003\350'

for split in train t10k; do
    # Images: skip the 16-byte header, copy 1000*784 bytes = 49000 blocks
    # of 16.  Labels: skip 8, copy 1000 bytes = 125 blocks of 8.  dd reads
    # whole blocks from a regular file, so the counts are exact.
    # shellcheck disable=SC2059 # the headers are printf escape strings
    { printf "$IMG_HDR"
      dd if="$SRC/$split-images-idx3-ubyte" bs=16 skip=1 count=49000 2>/dev/null
    } >"$DST/$split-images-idx3-ubyte"
    # shellcheck disable=SC2059
    { printf "$LAB_HDR"
      dd if="$SRC/$split-labels-idx1-ubyte" bs=8 skip=1 count=125 2>/dev/null
    } >"$DST/$split-labels-idx1-ubyte"
done

(cd "$DATA" && sha256sum mnist-sample/*)
echo "make-sample: wrote $DST (compare the sums above with data/SHA256SUMS)"
