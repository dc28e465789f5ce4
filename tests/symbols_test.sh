#!/bin/sh
# The shared library exports exactly the public API: every dynamic symbol it
# defines starts with psc_ and is declared PSC_API in a public header, and
# every PSC_API function of the headers is exported (a declared but missing
# function would only show as a link error in a user's program).
#
#   symbols_test.sh LIBPROMSCOPE.so INCLUDE_DIR
set -eu
lib=$1
incdir=$2
[ -f "$lib" ] || { echo "symbols_test: no shared library at '$lib'" >&2; exit 1; }
[ -d "$incdir" ] || { echo "symbols_test: no header folder at '$incdir'" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Defined dynamic symbols (functions and data), without version suffixes.
nm -D --defined-only "$lib" | awk 'NF >= 3 && $2 ~ /^[TtDdRrBbVWiu]$/ { sub(/@.*/, "", $3); print $3 }' \
    | sort -u >"$tmp/exported"
# PSC_API declarations: join lines, cut at each PSC_API, keep the identifier
# right before the first '('.
# Comments and preprocessor lines (the PSC_API definition itself) go first.
perl -0777 -pe 's{/\*.*?\*/}{ }gs; s{//[^\n]*}{}g; s{^[ \t]*#[^\n]*(\\\n[^\n]*)*}{}mg' "$incdir"/*.h \
    | tr '\n' ' ' | sed 's/\<PSC_API\>/\n&/g' | grep '^PSC_API\>' \
    | sed 's/(.*//' | awk '{ n = $NF; sub(/^\*+/, "", n); print n }' | sort -u >"$tmp/declared"

status=0
n_exported=$(wc -l <"$tmp/exported")
n_declared=$(wc -l <"$tmp/declared")
if [ "$n_declared" -lt 10 ]; then
    echo "symbols_test: found only $n_declared PSC_API declarations in $incdir" >&2
    status=1
fi
bad=$(grep -v '^psc_' "$tmp/exported" || true)
if [ -n "$bad" ]; then
    echo "symbols_test: exported symbols without the psc_ prefix:" >&2
    echo "$bad" | sed 's/^/  /' >&2
    status=1
fi
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
if [ -n "$extra" ]; then
    echo "symbols_test: exported but not declared PSC_API in a public header (internal symbols leaking):" >&2
    echo "$extra" | sed 's/^/  /' >&2
    status=1
fi
missing=$(comm -13 "$tmp/exported" "$tmp/declared")
if [ -n "$missing" ]; then
    echo "symbols_test: declared PSC_API but not exported by $lib (missing implementation or hidden):" >&2
    echo "$missing" | sed 's/^/  /' >&2
    status=1
fi
echo "symbols_test: $n_exported exported, $n_declared declared"
exit $status
