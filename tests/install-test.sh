#!/bin/sh
# tests/install-test.sh run|skip MAKE: `make install` into a scratch
# DESTDIR, then a C and a C++ program (tests/install/embed.c, embed.cc)
# built with `pkg-config --cflags --libs advc` and nothing else, run; the
# installed advc.pc must state the ISA the installed advc reports; the
# installed man page advc(1) must render with `man -l` and name every
# command of `advc --help`, every attack of `advc eval --help` and every
# recipe of `advc train --help` (all three from the same descriptors);
# then `make uninstall` must leave no file behind.  `make test` runs it;
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

# The man page: rendered as a reader sees it, then every name looked up.
page=$dest$prefix/share/man/man1/advc.1
[ -f "$page" ] || fail "make install did not install $page"
advc=$dest$prefix/bin/advc
command -v man >/dev/null 2>&1 || fail "man is missing (apt-get install -y man-db)"
MANWIDTH=100 man -l "$page" 2>"$tmp/man.err" | col -bx >"$tmp/man.txt" ||
    fail "man -l $page: $(cat "$tmp/man.err")"
# The first word of the indented rows of one --help section: the text
# from the line starting with $2 to the next empty line.
names() { "$advc" $1 --help 2>&1 | sed -n "/^$2/,/^\$/p" |
          sed -n 's/^  \([a-z][a-z0-9-]*\)\( [A-Z]*\)\{0,1\}  .*/\1/p'; }
commands=$(names "" commands:)
attacks=$(names eval Attacks)
recipes=$(names train Recipes)
[ -n "$commands" ] && [ -n "$attacks" ] && [ -n "$recipes" ] ||
    fail "could not read the command, attack or recipe lists from --help"
n=0
for c in $commands; do # a section per command
    grep -q "^ *advc $c\$" "$tmp/man.txt" || fail "advc.1 has no section for advc $c"
    n=$((n + 1))
done
for w in $attacks $recipes; do # a row of its own: the name, 2+ spaces
    grep -qE "^ +$w {2,}[^ ]" "$tmp/man.txt" || fail "advc.1 has no row for '$w'"
    n=$((n + 1))
done
echo "install-test: advc.1 renders with man -l and names all $n commands, attacks and recipes:" $commands $attacks $recipes

$make --no-print-directory uninstall DESTDIR="$dest" PREFIX="$prefix" \
    >"$tmp/uninstall.log" 2>&1 || fail "make uninstall"
left=$(find "$dest" -type f)
[ -z "$left" ] || fail "make uninstall left: $left"
echo "install-test: install, C and C++ programs, uninstall: OK"
