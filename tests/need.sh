#!/bin/sh
# need.sh native|neon|fuzz: make sure the test tools are installed.
# When a tool is missing: as root (a fresh machine, or CI), install it with
# apt-get; otherwise say exactly which command installs it, and fail.
set -e
want="$1"

# pkg-config, c++ and man also serve tests/install-test.sh (the installed
# advc.pc, the C++ program, the man page).
have_native() {
    command -v pkg-config >/dev/null 2>&1 &&
    command -v c++ >/dev/null 2>&1 && command -v man >/dev/null 2>&1 &&
    { pkg-config --exists check 2>/dev/null || [ -f /usr/include/check.h ]; }
}
have_neon() {
    command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 &&
    command -v qemu-aarch64 >/dev/null 2>&1 &&
    [ -f /usr/lib/aarch64-linux-gnu/libcheck.a ]
}
have_fuzz() {
    command -v clang-14 >/dev/null 2>&1 &&
    ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a \
        >/dev/null 2>&1
}
can_install() { [ "$(id -u)" = 0 ]; }

case "$want" in
native)
    have_native && exit 0
    if can_install; then
        echo "need.sh: installing Check, pkg-config, g++ and man-db with apt-get" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq check pkg-config g++ man-db >&2
        exit 0
    fi
    echo "the test tools (Check, pkg-config, g++, man) are not all installed: run  sudo apt-get install -y check pkg-config g++ man-db" >&2
    exit 1 ;;
neon)
    have_neon && exit 0
    if can_install; then
        echo "need.sh: installing the aarch64 cross compiler, qemu-user and Check:arm64" >&2
        export DEBIAN_FRONTEND=noninteractive
        dpkg --add-architecture arm64
        apt-get update -qq
        apt-get install -y -qq gcc-aarch64-linux-gnu qemu-user check:arm64 >&2
        exit 0
    fi
    echo "NEON tests need: sudo apt-get install -y gcc-aarch64-linux-gnu qemu-user && sudo dpkg --add-architecture arm64 && sudo apt-get update && sudo apt-get install -y check:arm64" >&2
    exit 1 ;;
fuzz)
    have_fuzz && exit 0
    if can_install; then
        echo "need.sh: installing clang-14 and its libFuzzer runtime" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq clang-14 libclang-rt-14-dev >&2
        exit 0
    fi
    echo "make fuzz needs clang's libFuzzer: run  sudo apt-get install -y clang-14 libclang-rt-14-dev" >&2
    exit 1 ;;
*)
    echo "usage: need.sh native|neon|fuzz" >&2; exit 2 ;;
esac
