#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# table.sh RESULTS_FILE... : the forged-record campaign as a table, one per
# kernel: a row per case, a column per path (tls.ko's reference columns on
# the right), each cell "answer exposed-bytes", a "!" before a failed cell,
# a "?" before a failing cell listed in tests/forge/known-bugs.txt.
# Reads the campaign's result lines:
#   PASS: [6.12] forge_campaign/CASE/PATH: expected X, got Y, exposed N ...
set -u
cat "$@" 2>/dev/null | awk '
/^(PASS|FAIL|SKIP): \[[^]]+\] (forge_campaign|forge_lib)\/[^\/]+\/[^:]+: (known bug \(.*\): )?expected / {
	res = $1; sub(/:$/, "", res)
	k = $2
	name = $3; sub(/^[a-z_]+\//, "", name); sub(/:$/, "", name)
	split(name, cp, "/"); c = cp[1]; p = cp[2]
	line = $0
	xp = line; sub(/.*expected /, "", xp); sub(/, got .*/, "", xp)
	got = line; sub(/.*, got /, "", got); sub(/, exposed .*/, "", got)
	ex = line; sub(/.*, exposed /, "", ex); sub(/[^0-9].*/, "", ex)
	if (!(k in seenk)) { seenk[k] = 1; ks[++nk] = k }
	if (!((k, c) in seenc)) { seenc[k, c] = 1; cs[k, ++nc[k]] = c }
	if (!(p in seenp)) { seenp[p] = 1; ps[++np] = p }
	seenkp[k, p] = 1
	cell[k, c, p] = (res == "FAIL" ? "!" : res == "SKIP" ? "?" : "") got " " ex
	if (!((k, c) in expect)) expect[k, c] = xp
}
END {
	if (!nk) exit 0
	# zctls paths first, tls.ko reference paths last
	for (j = 1; j <= nk; j++) {
		k = ks[j]
		n = 0
		for (i = 1; i <= np; i++) if (ps[i] !~ /^tlsko/ && (k, ps[i]) in seenkp) order[++n] = ps[i]
		for (i = 1; i <= np; i++) if (ps[i] ~ /^tlsko/ && (k, ps[i]) in seenkp) order[++n] = ps[i]
		printf "\nForged-record campaign %s (cell: answer, bytes that must not be delivered seen in user memory; ! failed, ? known bug)\n", k
		printf "%-28s %-18s", "case", "expected"
		for (i = 1; i <= n; i++) printf " %-18s", order[i]
		printf "\n"
		for (r = 1; r <= nc[k]; r++) {
			c = cs[k, r]
			printf "%-28s %-18s", c, expect[k, c]
			for (i = 1; i <= n; i++) {
				v = cell[k, c, order[i]]
				printf " %-18s", v == "" ? "-" : v
			}
			printf "\n"
		}
	}
}'
