#!/bin/sh
# Packaging contract: the shared object exports exactly the symbols of
# libzctls.map, all at version ZCTLS_0.1, with soname libzctls.so.0; the
# static archive and the pkg-config file exist; a program links and runs
# against the shared object.
: "${TMPDIR:=/tmp}"
: "${ZCTLS_BUILD:?}"
src=${ZCTLS_SRC:-$(dirname "$0")/..}
command -v readelf >/dev/null 2>&1 || { echo "readelf (binutils) not installed" >&2; exit 77; }
so=$ZCTLS_BUILD/libzctls.so.0.1.0
failed=0
work=$(mktemp -d "$TMPDIR/zctls-pkg.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

sed -n 's/^[[:space:]]*\(zctls_[a-z_0-9]*\);$/\1/p' "$src/libzctls.map" | sort > "$work/map"
readelf --dyn-syms -W "$so" | awk '$5 == "GLOBAL" && $7 != "UND" { print $8 }' \
	| grep -v '^ZCTLS_0.1$' | sort > "$work/exported"
sed 's/@@ZCTLS_0.1$//' "$work/exported" > "$work/names"
if ! cmp -s "$work/map" "$work/names"; then
	echo "exported symbols differ from libzctls.map:" >&2
	diff "$work/map" "$work/names" >&2
	failed=1
fi
if grep -v '^ZCTLS_0.1$' "$work/exported" | grep -qv '@@ZCTLS_0.1$'; then
	echo "symbols without version ZCTLS_0.1:" >&2
	grep -v '@@ZCTLS_0.1$' "$work/exported" | grep -v '^ZCTLS_0.1$' >&2
	failed=1
fi
readelf -d "$so" | grep -q 'SONAME.*\[libzctls.so.0\]' || { echo "bad soname" >&2; failed=1; }
[ -f "$ZCTLS_BUILD/libzctls.a" ] || { echo "no static library" >&2; failed=1; }
if command -v pkg-config >/dev/null 2>&1; then
	pkg-config --validate "$ZCTLS_BUILD/zctls.pc" || { echo "zctls.pc invalid" >&2; failed=1; }
fi
cat > "$work/t.c" <<'EOT'
#include <stdio.h>
#include <zctls.h>
int main(void)
{
	struct zctls_config *c = zctls_config_new();
	int rc = zctls_config_set_versions(c, ZCTLS_TLS1_3, ZCTLS_TLS1_2);

	printf("%s\n", zctls_config_error(c));
	zctls_config_free(c);
	return rc == -1 ? 0 : 1;
}
EOT
if ! cc -I"$src/include" -o "$work/t" "$work/t.c" -L"$ZCTLS_BUILD" -lzctls \
	-Wl,-rpath,"$ZCTLS_BUILD" $(case "$ZCTLS_BUILD" in *check*) echo -fsanitize=address,undefined;; esac) 2>&1 ||
   ! "$work/t" > /dev/null; then
	echo "linking or running against libzctls.so failed" >&2
	failed=1
fi
[ $failed -eq 0 ] && echo "$(wc -l < "$work/map") symbols at ZCTLS_0.1, soname libzctls.so.0" >&2
exit $failed
