#!/usr/bin/env bash
# PostgreSQL for the test suite's PostgreSQL run (`make test` calls this).
#
#   scripts/install-postgres.sh                 install Debian's postgresql if no server binaries
#   scripts/install-postgres.sh COMMAND [ARGS]  ... then run COMMAND with POLICYWATCH_TEST_DB set
#
# With a COMMAND: if POLICYWATCH_TEST_DB is already set (a server you run), the command just
# runs against it. Otherwise a throwaway cluster is made (initdb in a temporary folder, trust
# authentication, listening on 127.0.0.1 only, on a free port), started, handed to COMMAND as
# POLICYWATCH_TEST_DB=postgresql+psycopg://policywatch@127.0.0.1:PORT/postgres, then stopped
# and deleted whatever happens (trap). PostgreSQL refuses to run as root: as root, the cluster
# runs as the `postgres` user the Debian package creates (or `policywatch-pg`, created here).
# Exits with COMMAND's status.
set -euo pipefail

find_bindir() {
    local dir
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir 2>/dev/null || true)"
        if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    fi
    # Debian keeps the server binaries off the PATH, one folder per major version: take the newest.
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
        return 0
    fi
    return 1
}

if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo=(sudo -n)
else
    sudo=(false)
fi

install_postgres() {
    if [ "${sudo[0]:-}" = false ]; then
        cat >&2 <<'MSG'
The PostgreSQL tests need PostgreSQL's server binaries (initdb, pg_ctl), and this script can
only install them as root (or with password-less sudo). Install them yourself, then run
`make test` again:

    sudo apt-get update && sudo apt-get install -y postgresql

or point POLICYWATCH_TEST_DB at a server you run (a database the user may create databases in).
MSG
        exit 1
    fi
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "No apt-get here: install PostgreSQL yourself or set POLICYWATCH_TEST_DB." >&2
        exit 1
    fi
    echo "installing Debian's postgresql for the PostgreSQL tests (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 update
    "${sudo[@]}" apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends postgresql
    # The package may start its own cluster on 5432: it is not ours and not needed.
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters --no-header 2>/dev/null | while read -r version name _rest; do
            "${sudo[@]}" pg_ctlcluster "$version" "$name" stop 2>/dev/null || true
        done
    fi
}

if [ "$#" -eq 0 ] || [ -z "${POLICYWATCH_TEST_DB:-}" ]; then
    bindir="$(find_bindir)" || { install_postgres; bindir="$(find_bindir)"; }
    echo "postgresql: $bindir"
fi
if [ "$#" -eq 0 ]; then
    exit 0
fi
if [ -n "${POLICYWATCH_TEST_DB:-}" ]; then
    exec "$@"
fi

# --- a throwaway cluster -------------------------------------------------------------------
as_owner=()
if [ "$(id -u)" -eq 0 ]; then
    owner=postgres
    if ! id "$owner" >/dev/null 2>&1; then
        owner=policywatch-pg
        id "$owner" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$owner"
    fi
    as_owner=(runuser -u "$owner" --)
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/policywatch-pg.XXXXXX")"
chmod 755 "$tmp"
if [ "${#as_owner[@]}" -gt 0 ]; then
    chown "$owner" "$tmp"
fi
data="$tmp/data"

cleanup() {
    local status=$?
    if [ -f "$data/postmaster.pid" ]; then
        "${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"${as_owner[@]}" "$bindir/initdb" -D "$data" -U policywatch --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$tmp/initdb.log" 2>&1 || { cat "$tmp/initdb.log" >&2; exit 1; }
# Throwaway: no fsync, no full-page writes; room for the concurrency tests' processes.
"${as_owner[@]}" "$bindir/pg_ctl" -D "$data" -l "$tmp/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -p $port -k $tmp -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=200" >/dev/null \
    || { cat "$tmp/server.log" >&2; exit 1; }
echo "postgresql: throwaway cluster on 127.0.0.1:$port ($tmp)"
export POLICYWATCH_TEST_DB="postgresql+psycopg://policywatch@127.0.0.1:$port/postgres"
set +e
"$@"
status=$?
set -e
exit "$status"
