#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run.sh: `make conformance`. Runs the kernel's own tls selftest against
# zctls.ko and against the kernel's tls.ko, on 6.1 and on 6.12 (one guest per
# kernel, side by side), then writes the pass counts into README.md between
# the conformance markers and lists every case that passes on tls.ko but not
# on zctls.ko. Exits 1 if there is any such case.
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
out=$top/build/conformance
mkdir -p "$out"

run_series() {
	local s=$1
	"$top/tests/vm/run.sh" --kernel "$s" --out "$top/build/vm/conformance-$s" \
		--timeout 3000 -- \
		"$here/guest-run.sh zctls > \$TMPDIR/z.tap 2>&1; \
		 $here/guest-run.sh tls > \$TMPDIR/t.tap 2>&1; \
		 cp \$TMPDIR/z.tap /zctls-results/zctls.tap; \
		 cp \$TMPDIR/t.tap /zctls-results/tls.tap; true" \
		> "$out/guest-$s.log" 2>&1
	local rc=$?
	cp "$top/build/vm/conformance-$s/share/zctls.tap" "$out/zctls-$s.tap" 2>/dev/null
	cp "$top/build/vm/conformance-$s/share/tls.tap" "$out/tls-$s.tap" 2>/dev/null
	return $rc
}

pids=
for s in 6.1 6.12; do run_series $s & pids="$pids $!"; done
rc=0
for p in $pids; do wait "$p" || rc=1; done
[ $rc = 0 ] || echo "conformance: a guest run failed; see $out/guest-*.log" >&2

passing() { grep -E '^ok [0-9]+ ' "$1" 2>/dev/null | grep -v '# SKIP' | sed -E 's/^ok [0-9]+ //' | sort; }
total() { grep -cE '^(not )?ok [0-9]+ ' "$1" 2>/dev/null; }

table="| kernel | tls.ko passed | zctls.ko passed | cases | passing on tls.ko, not on zctls.ko |"$'\n'
table+="|---|---|---|---|---|"$'\n'
for s in 6.1 6.12; do
	z=$out/zctls-$s.tap t=$out/tls-$s.tap
	passing "$t" > "$out/pass-tls-$s"
	passing "$z" > "$out/pass-zctls-$s"
	# A case in differences.txt differs from tls.ko on purpose.
	comm -23 "$out/pass-tls-$s" "$out/pass-zctls-$s" |
		grep -vxFf <(awk -F'\t' '/^[^#]/ { print $1 }' "$here/differences.txt") \
		> "$out/regressions-$s"
	# What fails on tls.ko itself is no zctls regression; make check
	# reports such cases as skipped. The rekey cases of the ciphers zctls
	# must support are never excused: zctls must pass them even where this
	# kernel's tls.ko cannot. (SM4 and ARIA are absent from Debian's
	# kernels, so nothing can pass their cases on either module.)
	if [ -s "$t" ]; then
		grep -E '^not ok [0-9]+ ' "$t" | sed -E 's/^not ok [0-9]+ //' |
			grep -Ev '^[^.]*\.[0-9]+_(aes|chacha|nopad)[^.]*\..*rekey|^tls_basic\..*rekey' |
			sort > "$here/baseline-$s.fail"
	fi
	n=$(wc -l < "$out/regressions-$s")
	table+="| $s ($("$top/tests/vm/kver.sh" $s)) | $(wc -l < "$out/pass-tls-$s") | $(wc -l < "$out/pass-zctls-$s") | $(total "$t") | $n |"$'\n'
	if [ "$n" != 0 ]; then
		echo "conformance $s: passing on tls.ko but not on zctls.ko:" >&2
		sed 's/^/  /' "$out/regressions-$s" >&2
		rc=1
	fi
done
echo "$table"

# Rewrite the README's table in place, between its markers.
readme=$top/README.md
if grep -q '<!-- conformance:begin -->' "$readme"; then
	awk -v table="$table" -v when="$(date -u +%Y-%m-%d)" '
		/<!-- conformance:begin -->/ { print; print "Measured " when " by `make conformance`:"; print ""; printf "%s", table; skip = 1; next }
		/<!-- conformance:end -->/ { skip = 0 }
		!skip' "$readme" > "$readme.tmp" && mv "$readme.tmp" "$readme"
fi
exit $rc
