#!/usr/bin/env bash
# Installs (with apt) whatever onboard needs to build and test that this machine lacks.
# Usage: scripts/deps.sh [extra-package ...]
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config git
  libsqlitecpp-dev libsqlite3-dev sqlite3
  libcurl4-openssl-dev libsimdjson-dev libcli11-dev libspdlog-dev libfmt-dev catch2
  libyaml-cpp-dev libcpp-httplib-dev libssl-dev zlib1g-dev libbrotli-dev libgoogle-perftools-dev
  curl jq procps
  "$@"
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "error: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
