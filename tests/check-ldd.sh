#!/bin/sh
# check-ldd.sh BIN...: fail if a binary links anything beyond libc, libm,
# pthreads and the loader (the design card allows no other library).
set -eu
status=0
for bin in "$@"; do
    extra=$(ldd "$bin" | awk '{print $1}' |
        grep -Ev '^(linux-vdso\.so|/lib64/ld-linux|/lib/ld-linux|libc\.so|libm\.so|libpthread\.so)' || true)
    if [ -n "$extra" ]; then
        echo "check-ldd: $bin links more than libc/libm/pthreads: $extra" >&2
        status=1
    else
        echo "check-ldd: $bin: libc/libm/pthreads only"
    fi
done
exit $status
