# Shared by bin/demo and bin/test: make a fresh Debian machine with Python 3.11 ready, idempotently.
# Sourced, not run. Installs Debian packages when run as root; otherwise says exactly what to install.

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
VENV="${VENV:-.venv}"

RUNTIME_DEBS="python3-venv gettext fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
# nginx-light: the caching-proxy test (tests/test_caching_proxy.py) puts a real proxy_cache in front of the live server.
TEST_DEBS="$RUNTIME_DEBS chromium poppler-utils nginx-light"

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

deb_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  echo "${missing[@]:-}"
}

ensure_debs() {
  command -v dpkg-query >/dev/null || { say "not a Debian system: install the equivalents of: $*"; return 0; }
  local missing
  missing=$(deb_missing "$@")
  [ -z "$missing" ] && return 0
  if [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: $missing"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    say "missing Debian packages; as root run:  apt-get install -y $missing"
    exit 1
  fi
}

pip_quietly() {
  # The log is shown only when pip fails (a pip config naming absent local mirrors makes it chatty).
  if ! "$VENV/bin/pip" --disable-pip-version-check "$@" > "$VENV/pip.log" 2>&1; then
    grep -v "^WARNING: Location" "$VENV/pip.log"
    say "pip $* failed"
    exit 1
  fi
}

ensure_venv() {
  local requirements="$1" stamp
  stamp="$(sha256sum requirements*.txt | sha256sum | cut -c1-16)-$requirements"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating the virtual environment in $VENV"
    "$PYTHON" -m venv "$VENV"
    # Once, when the environment is made: the pip that Python 3.11 bundles resolves these requirements in
    # about twice the time a current one takes.
    pip_quietly install --upgrade pip
  fi
  if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$stamp" ]; then
    say "installing $requirements"
    # --no-compile: Python compiles each module the first time it is imported, so only what runs is
    # compiled (half of the install's time otherwise goes to compiling every file of every package).
    pip_quietly install --no-compile -r "$requirements"
    echo "$stamp" > "$VENV/.installed"
  fi
  export PATH="$PWD/$VENV/bin:$PATH"
}

prepare_var() {
  # SQLite file, uploads and collected static files live under var/ (never committed).
  mkdir -p var/media var/staticfiles
}

compile_messages() {
  # Every catalogue under locale/: English (the project's strings) and Chinese for the third-party apps'
  # English in the back office (locale/zh_Hans); the project's own Chinese, the source language, needs none.
  [ -d locale ] && python manage.py compilemessages --ignore "$VENV" -v 0
  return 0
}
