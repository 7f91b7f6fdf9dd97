#!/usr/bin/env bash
# Install the system packages the tests need, from Debian's archive, if they are missing:
#   chromium    headless browser that checks the HTML reports and plots render offline
#   prometheus  `prometheus` and `promtool`: the service's alert rules are unit-tested with
#               promtool, and a real Prometheus scrapes the service in the operations tests
#   postgresql  the server binaries (initdb, pg_ctl, postgres in /usr/lib/postgresql/<major>/bin):
#               the SQL-source tests start a throwaway server of their own (tests/postgres.py)
#   libreoffice-impress, poppler-utils, fonts-crosextra-carlito
#               render the stakeholder slide deck headless to PDF and PNG pages (about
#               260 MB installed, 39 MB downloaded); Carlito has Calibri's metrics, the
#               deck's theme font, so lines break as in PowerPoint
# Run as root (CI) or with sudo available. Idempotent: does nothing when all are present.
set -euo pipefail

need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v fc-list >/dev/null 2>&1 || need+=(fontconfig fonts-dejavu-core)
if ! command -v prometheus >/dev/null 2>&1 || ! command -v promtool >/dev/null 2>&1; then
  need+=(prometheus)
fi
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || need+=(postgresql)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-impress)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
[ -e /usr/share/fonts/truetype/crosextra/Carlito-Regular.ttf ] || need+=(fonts-crosextra-carlito)

if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "error: the tests need ${need[*]}; install them (apt-get install ${need[*]}) or run as root" >&2
    exit 1
  fi
fi

# The prometheus package starts its daemon from its postinst (init script, or the systemd
# unit where systemd runs), listening on every interface at :9090; the postgresql package
# creates a cluster "main" (port 5432) and starts it the same way. The tests start their own
# Prometheus and PostgreSQL on loopback and need none running. Both invoke-rc.d and
# deb-systemd-invoke ask /usr/sbin/policy-rc.d first; exit code 101 means "do not start". A
# machine that already has a policy (Docker's Debian images ship one that denies everything)
# keeps its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# added by scripts/install-system-deps.sh for the install only\nexit 101\n' |
    $sudo tee "$policy" >/dev/null
  $sudo chmod 755 "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi
clusters_before=$(ls -d /etc/postgresql/*/* 2>/dev/null || true)

echo "Installing system packages for the tests: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

# Nor at the next boot: the postinst enabled the service (update-rc.d covers SysV and systemd).
if [[ " ${need[*]} " == *" prometheus "* ]]; then
  $sudo update-rc.d prometheus disable >/dev/null 2>&1 || true
fi

# Drop the PostgreSQL cluster this install created (stopped first, should a local policy have
# let it start): nothing uses it, and it would start with the machine. Clusters already there
# stay.
for conf in /etc/postgresql/*/*; do
  [ -d "$conf" ] || continue
  if ! grep -qxF "$conf" <<<"$clusters_before"; then
    version=$(basename "$(dirname "$conf")")
    $sudo pg_dropcluster --stop "$version" "$(basename "$conf")"
    echo "Dropped the PostgreSQL cluster $version/$(basename "$conf") the package created (unused)"
  fi
done
