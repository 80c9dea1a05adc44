# The systemd unit (proxy/zctls-proxy.service): systemd-analyze verify
# accepts it (with ExecStart pointing at the built daemon, the man pages
# not looked up), it asks for readiness notification (Type=notify, which
# sd_notify.sh tests the daemon for) and reloads with SIGHUP, it has the
# usual hardening settings, and systemd-analyze security rates its
# exposure at most 3.0 (of 10).  Skips where systemd-analyze is missing.
. "$(dirname "$0")/../lib.sh"
need systemd-analyze
unit=$(dirname "$0")/../../zctls-proxy.service
[ -f "$unit" ] || { fail "no $unit"; finish; }
mkdir -p "$WORK/unit"
u=$WORK/unit/zctls-proxy.service
sed "s|/usr/local/sbin/zctls-proxy|$PROXY|g" "$unit" > "$u"
out=$(timeout 120 systemd-analyze verify --man=no "$u" 2>&1) && [ -z "$out" ] &&
	ok "systemd-analyze verify: clean" || fail "systemd-analyze verify: $out"
for k in Type=notify 'ExecReload=/bin/kill -HUP $MAINPID' KillSignal=SIGTERM \
	NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes PrivateTmp=yes \
	DynamicUser=yes CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	RestrictAddressFamilies= SystemCallFilter=@system-service \
	MemoryDenyWriteExecute=yes 'DeviceAllow=/dev/zctls rw'; do
	grep -qF -- "$k" "$u" || fail "unit lacks $k"
done
ok "readiness, reload, stop and hardening settings present"
out=$(timeout 120 systemd-analyze security --offline=yes --threshold=30 "$u" 2>&1)
rc=$?
level=$(echo "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ $rc -eq 0 ] && [ -n "$level" ] && ok "systemd-analyze security: exposure $level" ||
	fail "systemd-analyze security: exit $rc, exposure '${level:-?}' (want <= 3.0)"
finish
