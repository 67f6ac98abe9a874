#!/bin/sh
# tests/setup-test.sh: data/setup.sh (the first half of the README's main
# command) against stub commands, without touching the network or the
# package database: each case puts only stubs on PATH (id, apt-get, and
# whichever of cc, make and npm the case "has"); the apt-get stub records
# its arguments and fails where the case says.  Checks what was installed,
# the exit status and the fallback message.  `make test` runs it.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0 n=0

# stub NAME BODY: an executable $tmp/bin/NAME running BODY with /bin/sh.
stub() {
    printf '#!/bin/sh\n%s\n' "$2" >"$tmp/bin/$1"
    chmod +x "$tmp/bin/$1"
}

# case_ NAME UID HAVE FAIL WANT_CODE WANT_CALLS WANT_TEXT
#   HAVE: commands present among cc make npm; FAIL: "" (apt-get works),
#   npm (installing npm fails, as on a conflicting Node.js) or all
#   (offline); WANT_CALLS: the apt-get calls, one per line, "|" separated.
case_() {
    name=$1 uid=$2 has=$3 failing=$4 want_code=$5 want_calls=$6 want_text=$7
    n=$((n + 1))
    rm -rf "$tmp/bin" && mkdir "$tmp/bin" && : >"$tmp/calls"
    stub id "echo $uid"
    stub apt-get "echo \"\$*\" >>'$tmp/calls'
case '$failing' in
all) exit 100 ;;
npm) case \"\$*\" in *install*npm*) echo 'nodejs : Conflicts: npm' >&2; exit 100 ;; esac ;;
esac
exit 0"
    for c in $has; do stub "$c" "exit 0"; done
    PATH="$tmp/bin" /bin/sh "$here/data/setup.sh" >"$tmp/out" 2>&1
    code=$?
    calls=$(tr '\n' '|' <"$tmp/calls")
    if [ "$code" != "$want_code" ]; then
        echo "setup-test: FAIL: $name: exit $code, want $want_code: $(cat "$tmp/out")"
        fails=$((fails + 1))
    elif [ "$calls" != "$want_calls" ]; then
        echo "setup-test: FAIL: $name: apt-get calls '$calls', want '$want_calls'"
        fails=$((fails + 1))
    elif ! grep -q -- "$want_text" "$tmp/out"; then
        echo "setup-test: FAIL: $name: output lacks '$want_text': $(cat "$tmp/out")"
        fails=$((fails + 1))
    fi
}

sample="committed MNIST sample"
case_ "all present" 0 "cc make npm" "" 0 "" "nothing to install"
case_ "Node.js with its own npm, no compiler" 0 "npm" "" 0 \
    "update -qq|install -y -qq build-essential|" "build-essential"
case_ "no npm" 0 "cc make" "" 0 "update -qq|install -y -qq npm|" "npm"
case_ "nothing at all" 0 "" "" 0 \
    "update -qq|install -y -qq build-essential|install -y -qq npm|" "build-essential npm"
case_ "npm conflicts" 0 "cc make" npm 0 "update -qq|install -y -qq npm|" "$sample"
case_ "offline, tools present" 0 "cc make" all 0 \
    "update -qq|install -y -qq npm|" "$sample"
case_ "offline, no make" 0 "cc npm" all 1 \
    "update -qq|install -y -qq build-essential|" "needs a C compiler"
case_ "not root, no npm" 1000 "cc make" "" 0 "" "sudo apt-get install -y npm"
case_ "not root, no npm: fallback" 1000 "cc make" "" 0 "" "$sample"
case_ "not root, no compiler" 1000 "make npm" "" 1 "" \
    "sudo apt-get install -y build-essential"

if [ $fails -ne 0 ]; then
    echo "setup-test: $fails of $n cases failed"
    exit 1
fi
echo "setup-test: $n cases passed (npm present / absent / conflicting, offline, not root)"
