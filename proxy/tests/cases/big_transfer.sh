# PX_BIG_MB (default 100) MiB down and up through the proxy (curl, nginx),
# checked by sha256.
. "$(dirname "$0")/../lib.sh"
need curl
mb=${PX_BIG_MB:-100}
gen_certs
start_nginx
head -c $((mb * 1048576)) /dev/urandom > "$WORK/www/big.bin"
want=$(sha256sum < "$WORK/www/big.bin")
write_conf "$WORK/p.conf" "127.0.0.1:$NPORT"
start_proxy "$WORK/p.conf"
got=$(curl -sS --cacert "$CA" "https://localhost:$PORT/big.bin" | sha256sum)
[ "$got" = "$want" ] && ok "download $mb MiB: sha256 equal" || fail "download $mb MiB differs"
curl -sS --cacert "$CA" -T "$WORK/www/big.bin" "https://localhost:$PORT/up/big.bin" ||
	fail "upload"
[ "$(sha256sum < "$WORK/www/up/big.bin")" = "$want" ] && ok "upload $mb MiB: sha256 equal" ||
	fail "upload $mb MiB differs"
[ "$(metric 'zctls_proxy_bytes_total{direction="backend_to_client"}')" -ge $((mb * 1048576)) ] ||
	fail "bytes_total backend_to_client below $mb MiB"
[ "$(metric 'zctls_proxy_bytes_total{direction="client_to_backend"}')" -ge $((mb * 1048576)) ] ||
	fail "bytes_total client_to_backend below $mb MiB"
finish
