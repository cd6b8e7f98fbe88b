# Shared steps of bin/demo and bin/test (sourced, not run).
# Finds Odoo the way every addon does: an importable `odoo` package.
# Never fetches or installs Odoo itself.

SB_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SB_MODULE=subscription_billing
SB_WORK=${SB_WORK:-${TMPDIR:-/tmp}/subscription_billing}
SB_PYTHON=${SB_PYTHON:-python3}
export PGHOST=${PGHOST:-127.0.0.1} PGPORT=${PGPORT:-5432}

sb_log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
sb_die() { printf 'error: %s\n' "$*" >&2; exit 2; }

# Debian packages a fresh machine may lack (postgres client tools).
sb_ensure_debian() {
    local missing=()
    command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql-client)
    command -v createdb >/dev/null 2>&1 || missing+=(postgresql-client)
    # Browser tests (Odoo tours) run in Debian's Chromium.
    command -v chromium >/dev/null 2>&1 || missing+=(chromium)
    # PDF documents (invoices, statements) are rendered by wkhtmltopdf.
    command -v wkhtmltopdf >/dev/null 2>&1 || missing+=(wkhtmltopdf)
    if [ ${#missing[@]} -gt 0 ]; then
        command -v apt-get >/dev/null 2>&1 || sb_die "install the Debian packages: ${missing[*]}"
        sb_log "installing Debian packages: ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null ||
            sb_die "apt-get could not install: ${missing[*]}"
    fi
}

# PostgreSQL at $PGHOST:$PGPORT; start the local cluster when it is down.
sb_ensure_postgres() {
    if pg_isready -q -h "$PGHOST" -p "$PGPORT"; then return 0; fi
    sb_log "PostgreSQL is not answering on $PGHOST:$PGPORT: starting it"
    if command -v pg_ctlcluster >/dev/null 2>&1; then
        local version
        for version in $(ls /etc/postgresql 2>/dev/null); do
            pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>/dev/null ||
                pg_ctlcluster "$version" main start 2>/dev/null || true
        done
    fi
    local i
    for i in $(seq 1 30); do
        pg_isready -q -h "$PGHOST" -p "$PGPORT" && return 0
        sleep 1
    done
    sb_die "PostgreSQL does not answer on $PGHOST:$PGPORT. Install it (Debian: apt-get install postgresql) and start it."
}

# Odoo 19.0 must be importable by $SB_PYTHON; we never install it.
sb_ensure_odoo() {
    local version
    if ! version=$("$SB_PYTHON" -c 'import odoo.release as r; print(r.series)' 2>/dev/null); then
        sb_die "Odoo 19.0 is not importable by '$SB_PYTHON'.
Install Odoo 19.0 Community for this Python (a source checkout on sys.path, e.g. a .pth file
pointing at it, or a package), then its requirements: pip install -r <odoo>/requirements.txt.
See README.rst, 'Prerequisites'."
    fi
    [ "$version" = "19.0" ] || sb_die "this addon needs Odoo 19.0; '$SB_PYTHON' imports Odoo $version"
    "$SB_PYTHON" -c 'import psycopg2, lxml, num2words, babel, werkzeug' 2>/dev/null ||
        sb_die "Odoo's own requirements are missing for '$SB_PYTHON': pip install -r <odoo>/requirements.txt"
}

# PyPI packages the harness needs, installed only when missing.
sb_ensure_pypi() {
    local missing=() spec module
    for spec in "$@"; do
        module=${spec%%=*}
        module=${module#*:}
        "$SB_PYTHON" -c "import ${module}" 2>/dev/null || missing+=("${spec%%:*}")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        sb_log "installing PyPI packages: ${missing[*]}"
        "$SB_PYTHON" -m pip install -q "${missing[@]}" || sb_die "pip could not install: ${missing[*]}"
    fi
}

# An addons folder holding a link named after the module, and a config file.
sb_prepare_addons() {
    mkdir -p "$SB_WORK/addons" "$SB_WORK/data"
    ln -sfn "$SB_ROOT" "$SB_WORK/addons/$SB_MODULE"
    SB_CONF="$SB_WORK/odoo.conf"
    cat >"$SB_CONF" <<CONF
[options]
addons_path = $SB_WORK/addons
data_dir = $SB_WORK/data
db_host = $PGHOST
db_port = $PGPORT
db_user = ${PGUSER:-$(id -un)}
admin_passwd = admin
http_interface = 127.0.0.1
CONF
}

sb_odoo() { "$SB_PYTHON" -m odoo -c "$SB_CONF" "$@"; }

sb_db_exists() { psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; }

# The addon's dependencies, read from the manifest.
sb_depends() {
    "$SB_PYTHON" -c "import ast,sys; print(','.join(ast.literal_eval(open(sys.argv[1]).read())['depends']))" \
        "$SB_ROOT/__manifest__.py"
}

# A template database with the addon's dependencies installed, keyed by the
# Odoo build and the dependency list; built once, copied per run.
sb_template() {
    local deps key tpl
    deps=$(sb_depends)
    key=$("$SB_PYTHON" -c 'import odoo.release as r, os, sys; print(r.version, os.path.dirname(r.__file__), sys.argv[1])' "$deps" | md5sum | cut -c1-10)
    tpl="sb_tpl_$key"
    if ! sb_db_exists "$tpl"; then
        sb_log "building template database $tpl with: $deps"
        dropdb --if-exists "${tpl}_tmp"
        sb_odoo -d "${tpl}_tmp" -i "$deps" --stop-after-init --log-level=warn >"$SB_WORK/$tpl.log" 2>&1 ||
            { tail -50 "$SB_WORK/$tpl.log" >&2; sb_die "building the template database failed"; }
        psql -d postgres -qc "ALTER DATABASE \"${tpl}_tmp\" RENAME TO \"$tpl\""
        if [ -d "$SB_WORK/data/filestore/${tpl}_tmp" ]; then
            mv "$SB_WORK/data/filestore/${tpl}_tmp" "$SB_WORK/data/filestore/$tpl"
        fi
    fi
    echo "$tpl"
}

# Copy the template into a new database (sub-second).
sb_copy_db() {
    local tpl=$1 db=$2
    dropdb --if-exists "$db"
    createdb -T "$tpl" "$db"
    if [ -d "$SB_WORK/data/filestore/$tpl" ]; then
        rm -rf "$SB_WORK/data/filestore/$db"
        cp -a "$SB_WORK/data/filestore/$tpl" "$SB_WORK/data/filestore/$db"
    fi
}

# A throwaway database: copy of the template with MODULES installed.
#   sb_install_db DB MODULES LOG
sb_install_db() {
    local db=$1 modules=$2 log=$3 tpl
    tpl=$(sb_template) || exit $?
    sb_copy_db "$tpl" "$db"
    sb_log "installing $modules on $db"
    sb_odoo -d "$db" -i "$modules" --stop-after-init --log-level=warn >"$log" 2>&1 ||
        { tail -60 "$log" >&2; sb_die "installing $modules failed"; }
}

# Drop a throwaway database and its filestore (for cleanup traps).
sb_drop_db() {
    dropdb --if-exists "$1" 2>/dev/null || true
    rm -rf "$SB_WORK/data/filestore/$1"
}

# Fail when the Odoo log has warnings or errors.
sb_check_log() {
    local log=$1 bad
    bad=$(grep -E '^[0-9-]+ [0-9:,]+ [0-9]+ (WARNING|ERROR|CRITICAL) ' "$log" || true)
    if [ -n "$bad" ]; then
        printf '%s\n' "$bad" >&2
        sb_die "the Odoo log above has warnings or errors ($log)"
    fi
}

# A benchmark script on a throwaway database with MODULES installed, dropped
# whatever happens:
#   sb_run_bench NAME MODULES SCRIPT [script arguments...]
sb_run_bench() {
    local name=$1 modules=$2 script=$3
    shift 3
    sb_ensure_debian
    sb_ensure_postgres
    sb_ensure_odoo
    sb_prepare_addons
    SB_BENCH_DB="sb_bench_${name}_$(date +%s)_$$"
    SB_BENCH_LOG="$SB_WORK/$SB_BENCH_DB.install.log"
    trap 'sb_drop_db "$SB_BENCH_DB"; rm -f "$SB_BENCH_LOG"' EXIT
    trap 'exit 130' INT TERM
    sb_install_db "$SB_BENCH_DB" "$modules" "$SB_BENCH_LOG"
    sb_log "benchmark: $*"
    "$SB_PYTHON" "$SB_ROOT/benchmarks/$script" --database "$SB_BENCH_DB" \
        --config "$SB_CONF" "$@"
}
