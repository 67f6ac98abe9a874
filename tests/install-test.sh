#!/bin/sh
# tests/install-test.sh run|skip MAKE: `make install` into a scratch
# DESTDIR, then a C and a C++ program (tests/install/embed.c, embed.cc)
# built with `pkg-config --cflags --libs advc` and nothing else, run; the
# installed advc.pc must state the ISA the installed advc reports; then
# `make uninstall` must leave no file behind.  `make test` runs it;
# "skip" (cross or sanitizer builds, whose library the host compiler
# cannot link plainly) prints why and passes.
set -u
if [ "$1" = skip ]; then
    echo "install-test: SKIP (cross or sanitizer build: the host compiler cannot link its library plainly)"
    exit 0
fi
make=${2:-make}
for tool in pkg-config c++; do
    if ! command -v $tool >/dev/null 2>&1; then
        echo "install-test: FAIL: $tool is missing (apt-get install -y pkg-config g++)"
        exit 1
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/dest prefix=/opt/advc-test
fail() { echo "install-test: FAIL: $*"; exit 1; }

$make --no-print-directory install DESTDIR="$dest" PREFIX="$prefix" \
    >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "make install"; }
export PKG_CONFIG_PATH="$dest$prefix/lib/pkgconfig"
export PKG_CONFIG_SYSROOT_DIR="$dest"
flags=$(pkg-config --cflags --libs advc) || fail "pkg-config does not find advc"
mkdir "$tmp/out"
# shellcheck disable=SC2086  # the flags are meant to split
cc -std=c11 -Wall -Wextra -Wpedantic tests/install/embed.c $flags \
    -o "$tmp/embed-c" || fail "the C program does not build with: $flags"
# shellcheck disable=SC2086
c++ -std=c++11 -Wall -Wextra -Wpedantic tests/install/embed.cc $flags \
    -o "$tmp/embed-cxx" || fail "the C++ program does not build with: $flags"
"$tmp/embed-c" "$tmp/out" || fail "the C program"
"$tmp/embed-cxx" "$tmp/out" || fail "the C++ program"

isa=$(pkg-config --variable=isa advc)
version=$("$dest$prefix/bin/advc" --version) || fail "installed advc does not run"
case "$version" in
*"kernels: $isa)"*) ;;
*) fail "advc.pc says isa=$isa but the installed advc says: $version" ;;
esac
echo "install-test: advc.pc: isa=$isa, $(pkg-config --modversion advc); flags: $flags"

$make --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" \
    >"$tmp/uninstall.log" 2>&1 || fail "make uninstall"
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install-test: install, C and C++ programs, uninstall: OK"
