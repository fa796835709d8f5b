// The first page's weight: the JS and CSS index.html loads (entry, its static imports, stylesheets, and the
// start page's chunk with its static imports),
// raw and gzip (level 9, as CDNs typically serve it). `npm run build` prints it; the README quotes it.
import { readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { join } from "node:path";

const dist = new URL("../dist/", import.meta.url).pathname;
const html = readFileSync(join(dist, "index.html"), "utf8");
const refs = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1]);
// The start page ("/") is a chunk of its own, loaded at once by the entry: it counts as first page too.
const entry = readFileSync(join(dist, refs.find((r) => r.endsWith(".js"))), "utf8");
for (const m of entry.matchAll(/import\(\s*["'`]\.\/(start-[^"'`]+\.js)["'`]\s*\)/g)) refs.push(`assets/${m[1]}`);
const seen = new Set();
const queue = [...refs];
while (queue.length) {
  const file = queue.shift();
  if (seen.has(file)) continue;
  seen.add(file);
  if (file.endsWith(".js")) {
    const code = readFileSync(join(dist, file), "utf8");
    // static imports only (import"./x.js" / from"./x.js"); dynamic import() chunks load on later pages
    for (const m of code.matchAll(/(?:^|[;\s}])(?:import|from)\s*["'`]\.\/([^"'`]+\.js)["'`]/g)) queue.push(`assets/${m[1]}`);
  }
}
const rows = [...seen].sort().map((file) => {
  const bytes = readFileSync(join(dist, file));
  return { file, raw: bytes.length, gzip: gzipSync(bytes, { level: 9 }).length };
});
const total = (ext) => rows.filter((r) => r.file.endsWith(ext)).reduce((a, r) => ({ raw: a.raw + r.raw, gzip: a.gzip + r.gzip }), { raw: 0, gzip: 0 });
const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
for (const r of rows) console.log(`  ${r.file.padEnd(40)} ${kb(r.raw).padStart(9)}  gzip ${kb(r.gzip).padStart(8)}`);
const js = total(".js");
const css = total(".css");
console.log(`first page: JS ${kb(js.raw)} (gzip ${kb(js.gzip)}), CSS ${kb(css.raw)} (gzip ${kb(css.gzip)})`);
if (js.gzip > 150 * 1024) {
  console.error("the first page's JavaScript is over the 150 kB gzip budget");
  process.exit(1);
}
