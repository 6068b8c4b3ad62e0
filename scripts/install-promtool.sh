#!/usr/bin/env bash
# Puts promtool (Prometheus's checker for /metrics output and alert rule files) where the tests find
# it: .tools/bin/promtool, unpacked from Debian's `prometheus` package without installing it (no
# Prometheus server is set up or started; promtool is one binary that needs only libc).
# Does nothing when promtool is already on PATH or unpacked. `npm test` runs it first (pretest).
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.tools/bin/promtool
if [ -x "$dest" ] || command -v promtool >/dev/null 2>&1; then exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt's package lists may be missing or stale on a fresh machine: refresh them once if needed.
(cd "$tmp" && { apt-get download prometheus >/dev/null 2>&1 || { apt-get update -qq && apt-get download prometheus; }; })
dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
mkdir -p "$(dirname "$dest")"
cp "$tmp/root/usr/bin/promtool" "$dest"
"$dest" --version | head -n 1
