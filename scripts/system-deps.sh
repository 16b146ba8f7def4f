#!/usr/bin/env bash
# Make sure the non-Python tools the test suite uses are present, installing them from Debian's
# packages when we can (root or sudo, apt-get), else saying exactly what to install:
#   promtool + prometheus  rule/config checks and the live dashboard check (package: prometheus)
#   chromium               renders the HTML backtest report                  (package: chromium)
#   java 17+ and maven     the local Kafka broker's jars                      (packages: default-jdk-headless maven)
#   openssl                certificates for the SASL_SSL test broker          (package: openssl)
set -euo pipefail

need=()
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || need+=(prometheus)
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
command -v java >/dev/null 2>&1 || need+=(default-jdk-headless)
command -v mvn >/dev/null 2>&1 || need+=(maven)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
((${#need[@]})) || exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo"; fi
fi
if ! command -v apt-get >/dev/null 2>&1 || { [[ $(id -u) -ne 0 ]] && [[ -z $sudo ]]; }; then
    echo "system-deps: missing tools; please install these packages (Debian names): ${need[*]}" >&2
    exit 1
fi
echo "system-deps: installing ${need[*]} from Debian's packages" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
