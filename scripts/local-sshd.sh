#!/usr/bin/env bash
# A real OpenSSH server on 127.0.0.1 for the tests and the benchmark, with
# everything in one folder:
#
#   scripts/local-sshd.sh DIR
#
# makes DIR/{host_key,user_key,authorized_keys,known_hosts,sshd_config,
# ssh_config,proxy}, starts sshd in the foreground (`-D`) in the background
# on a free port, waits until it answers, and prints two lines on stdout:
#
#   PORT=NNNNN
#   PID=NNNN
#
# sshd keeps its defaults (MaxStartups 10:30:100, MaxSessions 10): only
# what a private server in a folder needs is set, and AcceptEnv
# GIT_PROTOCOL so that git speaks protocol v2, as hosting services do (v0
# refuses to send a commit no ref advertises, which submodules fetch). The client side is
# `ssh -F DIR/ssh_config` (ssh reads ~/.ssh from the passwd entry, not
# $HOME, so the config is named): the generated user key, a known_hosts
# holding the generated host key with StrictHostKeyChecking, BatchMode,
# and DIR/proxy as ProxyCommand, which appends one line to
# DIR/handshakes.log per new connection, sleeps the seconds in
# DIR/latency (if any), then connects with nc (or, while DIR/drop holds a
# count above 0, closes the connection at once and counts down). The host name `bench-host`
# (the URLs of scripts/fixture-org.sh --bench) is this server too. Stop the
# server with `kill PID`.
set -euo pipefail

dir=${1:?usage: local-sshd.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd -P)
sshd=$(command -v sshd || echo /usr/sbin/sshd)
[[ -x $sshd ]] || { echo "local-sshd.sh: sshd is not installed (openssh-server)" >&2; exit 2; }
command -v nc >/dev/null || { echo "local-sshd.sh: nc is not installed (netcat-openbsd)" >&2; exit 2; }

rm -f "$dir"/host_key* "$dir"/user_key*
ssh-keygen -q -t ed25519 -N '' -C oxw-host -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -C oxw-user -f "$dir/user_key"
cp "$dir/user_key.pub" "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
: >"$dir/handshakes.log"

# sshd run by root needs its privilege separation folder (the package's
# service makes it at boot; a container has none).
if [[ $(id -u) == 0 && ! -d /run/sshd ]]; then
	mkdir -p -m 0755 /run/sshd
fi

cat >"$dir/proxy" <<EOF
#!/bin/sh
# ProxyCommand: one line per new connection, the latency, then the server.
echo "\$(date +%s.%N) \$1:\$2" >>'$dir/handshakes.log'
# DIR/drop: how many connections to close at once, as an overloaded sshd does.
if [ -s '$dir/drop' ] && [ "\$(cat '$dir/drop')" -gt 0 ]; then
	echo \$((\$(cat '$dir/drop') - 1)) >'$dir/drop'
	exit 0
fi
if [ -s '$dir/latency' ]; then sleep "\$(cat '$dir/latency')"; fi
exec nc "\$1" "\$2"
EOF
chmod +x "$dir/proxy"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

for _ in 1 2 3 4 5; do
	port=$(free_port)
	cat >"$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $dir/sshd.pid
AuthorizedKeysFile $dir/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PermitRootLogin prohibit-password
PrintMotd no
AcceptEnv GIT_PROTOCOL
LogLevel INFO
EOF
	echo "[127.0.0.1]:$port $(cut -d' ' -f1-2 "$dir/host_key.pub")" >"$dir/known_hosts"
	cat >"$dir/ssh_config" <<EOF
Host bench-host
  HostName 127.0.0.1
  Port $port
  HostKeyAlias [127.0.0.1]:$port
Host *
  User $(id -un)
  IdentityFile $dir/user_key
  IdentitiesOnly yes
  UserKnownHostsFile $dir/known_hosts
  GlobalKnownHostsFile /dev/null
  StrictHostKeyChecking yes
  BatchMode yes
  ProxyCommand $dir/proxy %h %p
EOF
	"$sshd" -D -f "$dir/sshd_config" -E "$dir/sshd.log" </dev/null >/dev/null 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		if ! kill -0 "$pid" 2>/dev/null; then break; fi
		if nc -z 127.0.0.1 "$port" 2>/dev/null; then
			echo "PORT=$port"
			echo "PID=$pid"
			exit 0
		fi
		sleep 0.05
	done
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
done
echo "local-sshd.sh: sshd did not start; its log:" >&2
cat "$dir/sshd.log" >&2 || true
exit 1
