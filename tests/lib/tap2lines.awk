# SPDX-License-Identifier: GPL-2.0
# Turns a kselftest harness's TAP output into one PASS:/FAIL:/SKIP: line per
# test case, prefixed with PREFIX. Other lines pass through untouched.
/^ok [0-9]+ / {
	name = $0; sub(/^ok [0-9]+ /, "", name)
	if (name ~ / # SKIP/) {
		reason = name; sub(/.* # SKIP */, "", reason); sub(/ # SKIP.*/, "", name)
		print "SKIP: " PREFIX name ": " reason
	} else {
		print "PASS: " PREFIX name
	}
	next
}
/^not ok [0-9]+ / {
	name = $0; sub(/^not ok [0-9]+ /, "", name)
	print "FAIL: " PREFIX name
	next
}
{ print }
