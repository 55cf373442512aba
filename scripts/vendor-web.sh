#!/usr/bin/env bash
# vendor-web.sh copies the minified browser libraries the web UI embeds
# (htmx, Apache ECharts) from their npm packages into
# internal/web/static/vendor/. Run it to upgrade them; the copied files are
# committed so that `go run` and `go build` need no Node at all.
#
#   scripts/vendor-web.sh                 # the pinned versions below
#   HTMX_VERSION=2.0.11 scripts/vendor-web.sh
set -euo pipefail

HTMX_VERSION="${HTMX_VERSION:-2.0.11}"
ECHARTS_VERSION="${ECHARTS_VERSION:-6.1.0}"

root="$(cd "$(dirname "$0")/.." && pwd)"
dest="$root/internal/web/static/vendor"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

cd "$tmp"
npm pack --silent "htmx.org@$HTMX_VERSION" "echarts@$ECHARTS_VERSION" >/dev/null
mkdir htmx echarts
tar -xzf htmx.org-*.tgz -C htmx --strip-components=1
tar -xzf echarts-*.tgz -C echarts --strip-components=1

mkdir -p "$dest"
install -m 0644 htmx/dist/htmx.min.js "$dest/htmx.min.js"
install -m 0644 echarts/dist/echarts.min.js "$dest/echarts.min.js"
{
	echo "htmx.org $HTMX_VERSION (BSD-2-Clause) dist/htmx.min.js"
	echo "echarts $ECHARTS_VERSION (Apache-2.0) dist/echarts.min.js"
} >"$dest/VERSIONS"
ls -l "$dest"
