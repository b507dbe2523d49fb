import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
const entry = process.argv[2];
const r = await build({ stdin: { contents: entry, resolveDir: process.cwd(), loader: 'ts' }, bundle: true, minify: true, format: 'esm', write: false, metafile: true, conditions: ['production'], logLevel: 'silent' });
const out = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(out.inputs).map(([k, v]) => [k.replace(/^.*node_modules\//, 'nm/'), v.bytesInOutput]).sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows) console.log(String(v).padStart(7), k);
const code = r.outputFiles[0].contents;
console.log('total min', code.length, 'gz', gzipSync(code, { level: 9 }).length);
