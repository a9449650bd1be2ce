#!/usr/bin/env bash
# test-services.sh CMD [ARG...]
#
# Runs CMD with the throwaway services that tests need, and stops them
# afterwards whatever happens. Exits with CMD's exit code.
#
# Services:
#   moto_server (S3 and more), on 127.0.0.1 and a free port, exported as
#     REVIEWLENS_TEST_MOTO_ENDPOINT=http://127.0.0.1:PORT together with fake
#     credentials and a region (see internal/testenv).
#
# Without moto_server (not on PATH and no Python moto module) it says so and
# runs CMD anyway, so the tests that need it skip; with CI=true that is an
# error instead, because CI must not pass by skipping.
set -euo pipefail

if [[ $# -eq 0 ]]; then
	echo "usage: $0 CMD [ARG...]" >&2
	exit 2
fi

log() { echo "test-services: $*" >&2; }

workdir=$(mktemp -d "${TMPDIR:-/tmp}/reviewlens-test-services.XXXXXX")
moto_pid=""

# stop_moto stops the moto_server we started: SIGTERM, then SIGKILL if it
# is still there after 5 s.
stop_moto() {
	[[ -n $moto_pid ]] || return 0
	kill "$moto_pid" 2>/dev/null || true
	local i
	for i in $(seq 1 50); do
		kill -0 "$moto_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -9 "$moto_pid" 2>/dev/null || true
	wait "$moto_pid" 2>/dev/null || true
	moto_pid=""
}

cleanup() {
	local status=$?
	stop_moto
	stop_pg
	rm -rf "$workdir"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# free_port prints a TCP port on 127.0.0.1 that nothing listens on.
free_port() {
	if command -v python3 >/dev/null 2>&1; then
		python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
		return
	fi
	local port
	for _ in $(seq 1 100); do
		port=$((20000 + RANDOM % 20000))
		# A refused connection means the port is free.
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			echo "$port"
			return
		fi
	done
	log "no free port found"
	return 1
}

# moto_command prints how to run moto_server here, or fails.
moto_command() {
	if command -v moto_server >/dev/null 2>&1; then
		echo moto_server
	elif [[ -x ${PYENV_ROOT:-$HOME/.pyenv}/shims/moto_server ]]; then
		echo "${PYENV_ROOT:-$HOME/.pyenv}/shims/moto_server"
	elif command -v python3 >/dev/null 2>&1 && python3 -c 'import moto.server' 2>/dev/null; then
		echo "python3 -m moto.server"
	else
		return 1
	fi
}

# answers reports whether something answers HTTP on 127.0.0.1:$1.
answers() {
	if command -v curl >/dev/null 2>&1; then
		curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$1/"
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
	fi
}

# try_moto CMD PORT starts moto_server on PORT and waits up to 30 s for it
# to answer. It fails if moto exits first (the port was taken meanwhile,
# say) or does not answer in time.
try_moto() {
	local cmd=$1 port=$2 i
	# $cmd is split on purpose ("python3 -m moto.server").
	# shellcheck disable=SC2086
	$cmd -H 127.0.0.1 -p "$port" >"$workdir/moto.log" 2>&1 &
	moto_pid=$!
	for i in $(seq 1 300); do
		if ! kill -0 "$moto_pid" 2>/dev/null; then
			wait "$moto_pid" 2>/dev/null || true
			moto_pid=""
			log "moto_server exited before answering on port $port; its log:"
			cat "$workdir/moto.log" >&2
			return 1
		fi
		if answers "$port"; then
			return 0
		fi
		sleep 0.1
	done
	log "moto_server did not answer on port $port within 30 s; its log:"
	cat "$workdir/moto.log" >&2
	stop_moto
	return 1
}

start_moto() {
	local cmd port attempt
	if ! cmd=$(moto_command); then
		if [[ ${CI:-} == true ]]; then
			log "moto_server not found (install moto: pip install 'moto[server]'); CI=true, so failing"
			exit 1
		fi
		log "moto_server not found (install moto: pip install 'moto[server]'); running without it, S3 tests will skip"
		return 0
	fi
	for attempt in 1 2 3; do
		port=$(free_port)
		if try_moto "$cmd" "$port"; then
			break
		fi
		if ((attempt == 3)); then
			log "could not start moto_server"
			exit 1
		fi
	done
	log "moto_server running on http://127.0.0.1:$port (pid $moto_pid)"

	export REVIEWLENS_TEST_MOTO_ENDPOINT="http://127.0.0.1:$port"
	export AWS_ACCESS_KEY_ID=test
	export AWS_SECRET_ACCESS_KEY=test
	export AWS_REGION=us-east-1
	export AWS_EC2_METADATA_DISABLED=true
	# Real credentials from a profile must not reach moto, nor a profile
	# that does not exist here break the SDK's config loading.
	unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_PROFILE
}

start_moto

# PostgreSQL: a throwaway server in $workdir, on 127.0.0.1 and a free port,
# exported as REVIEWLENS_TEST_POSTGRES_DSN and stopped in cleanup(). It
# refuses to run as root, so as root it runs as the postgres user (or, when
# there is none, a user made for it).
pg_data="" pg_user=""

# as_pg runs a command as the server's user.
as_pg() {
	if [[ -n $pg_user ]]; then
		runuser -u "$pg_user" -- "$@"
	else
		"$@"
	fi
}

stop_pg() {
	[[ -n $pg_data ]] || return 0
	as_pg pg_ctl -D "$pg_data" -m immediate -w stop >/dev/null 2>&1 || true
	pg_data=""
}

start_pg() {
	local bin="" port
	if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
		bin=ok
	else
		for d in /usr/lib/postgresql/*/bin; do
			if [[ -x $d/initdb ]]; then
				PATH="$d:$PATH"
				bin=ok
			fi
		done
	fi
	if [[ -z $bin ]]; then
		if [[ ${CI:-} == true ]]; then
			log "PostgreSQL (initdb, pg_ctl) not found; CI=true, so failing"
			exit 1
		fi
		log "PostgreSQL (initdb, pg_ctl) not found; the PostgreSQL tests will skip"
		return 0
	fi
	if [[ $(id -u) == 0 ]]; then
		pg_user=postgres
		if ! id "$pg_user" >/dev/null 2>&1; then
			pg_user=reviewlens-pg
			id "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home "$pg_user"
		fi
		chmod 755 "$workdir"
		mkdir -p "$workdir/pg"
		chown "$pg_user" "$workdir/pg"
	else
		mkdir -p "$workdir/pg"
	fi
	pg_data="$workdir/pg/data"
	if ! as_pg initdb -D "$pg_data" -U postgres --auth=trust --no-sync >"$workdir/pg/initdb.log" 2>&1; then
		log "initdb failed; its log:"
		cat "$workdir/pg/initdb.log" >&2
		exit 1
	fi
	port=$(free_port)
	if ! as_pg pg_ctl -D "$pg_data" -w -t 60 -l "$workdir/pg/log" \
		-o "-h 127.0.0.1 -p $port -k $workdir/pg -c fsync=off -c full_page_writes=off" start >/dev/null; then
		log "PostgreSQL did not start; its log:"
		cat "$workdir/pg/log" >&2
		exit 1
	fi
	export REVIEWLENS_TEST_POSTGRES_DSN="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
	log "PostgreSQL running on 127.0.0.1:$port"
}

start_pg

status=0
"$@" || status=$?
exit "$status"
