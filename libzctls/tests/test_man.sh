#!/bin/sh
# Every exported function has a man page, and every page renders with
# man -l and passes groff's warnings (-ww) without a diagnostic.
: "${TMPDIR:=/tmp}"
src=${ZCTLS_SRC:-$(dirname "$0")/..}
command -v groff >/dev/null 2>&1 || { echo "groff not installed" >&2; exit 77; }
command -v man >/dev/null 2>&1 || { echo "man not installed" >&2; exit 77; }
failed=0
out=$(mktemp "$TMPDIR/zctls-man.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT

for sym in $(sed -n 's/^[[:space:]]*\(zctls_[a-z_0-9]*\);$/\1/p' "$src/libzctls.map"); do
	if [ ! -f "$src/man/man3/$sym.3" ]; then
		echo "no man page for $sym" >&2
		failed=1
	fi
done
for page in "$src"/man/man3/*.3 "$src"/man/man7/*.7; do
	if ! groff -ww -z -man "$page" > "$out" 2>&1 || [ -s "$out" ]; then
		echo "groff warnings in $page:" >&2
		cat "$out" >&2
		failed=1
	fi
	if ! MANWIDTH=80 man -l "$page" > "$out" 2>&1 || [ ! -s "$out" ] ||
	   grep -Eq "^(man|troff|groff|nroff|<standard input>):" "$out"; then
		echo "man -l failed on $page" >&2
		head -n 5 "$out" >&2
		failed=1
	fi
done
[ $failed -eq 0 ] && echo "$(ls "$src"/man/man3/*.3 | wc -l) man3 pages and zctls.7 render cleanly" >&2
exit $failed
