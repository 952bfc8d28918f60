// Turns each Grafana dashboard JSON file into a TypeScript module that
// `tsc` type-checks against Grafana's own Dashboard type from
// @grafana/schema:
//
//   import type { Dashboard } from '@grafana/schema';
//   export const dashboard = ({ ... }) satisfies Dashboard;
//
// Grafana's schema declares some fields as TypeScript string enums
// (thresholds.mode, color.mode, mappings[].type, special-value match), and a
// plain string literal is never assignable to a string enum. So where a
// dashboard value is a member of such an enum it is written as the member
// (ThresholdsMode.Absolute); any other value stays a string literal, and tsc
// rejects it. Everything else is emitted as JSON.
//
// Usage: node dashboards_to_ts.mjs <schema-install-dir> <out-dir> <file.json>...
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

const [installDir, outDir, ...files] = process.argv.slice(2);
if (!installDir || !outDir || files.length === 0) {
  console.error('usage: dashboards_to_ts.mjs <schema-install-dir> <out-dir> <file.json>...');
  process.exit(2);
}
const schema = createRequire(resolve(installDir) + '/')('@grafana/schema');

// (parent key, key) -> enum name; '*' matches any parent key.
const ENUM_FIELDS = [
  { parent: 'thresholds', key: 'mode', name: 'ThresholdsMode' },
  { parent: 'color', key: 'mode', name: 'FieldColorModeId' },
  { parent: 'mappings[]', key: 'type', name: 'MappingType' },
  { parent: 'options', grand: 'mappings[]', key: 'match', name: 'SpecialValueMatch' },
];
const used = new Set();

function enumRef(path, key, value) {
  const parent = path[path.length - 1];
  const grand = path[path.length - 2];
  for (const f of ENUM_FIELDS) {
    if (f.key !== key || f.parent !== parent || (f.grand && f.grand !== grand)) continue;
    const members = schema[f.name];
    if (!members) throw new Error(`@grafana/schema does not export ${f.name}`);
    const member = Object.keys(members).find((m) => members[m] === value);
    if (member === undefined) return null; // left as a literal: tsc reports it
    used.add(f.name);
    return `${f.name}.${member}`;
  }
  return null;
}

function emit(v, path, indent) {
  const pad = '  '.repeat(indent + 1);
  const end = '  '.repeat(indent);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const key = path[path.length - 1];
    const inner = v.map((x) => pad + emit(x, [...path.slice(0, -1), `${key}[]`], indent + 1));
    return `[\n${inner.join(',\n')}\n${end}]`;
  }
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v);
    if (keys.length === 0) return '{}';
    const inner = keys.map((k) => {
      const val = v[k];
      const ref = typeof val === 'string' ? enumRef(path, k, val) : null;
      return `${pad}${JSON.stringify(k)}: ${ref ?? emit(val, [...path, k], indent + 1)}`;
    });
    return `{\n${inner.join(',\n')}\n${end}}`;
  }
  return JSON.stringify(v);
}

mkdirSync(outDir, { recursive: true });
for (const file of files) {
  used.clear();
  const body = emit(JSON.parse(readFileSync(file, 'utf8')), [], 0);
  const imports = [...used].sort();
  const ts = [
    `// Generated from ${file} by tests/tools/dashboards_to_ts.mjs; do not edit.`,
    `import type { Dashboard } from '@grafana/schema';`,
    imports.length ? `import { ${imports.join(', ')} } from '@grafana/schema';` : '',
    `export const dashboard = (${body}) satisfies Dashboard;`,
    '',
  ].join('\n');
  writeFileSync(join(outDir, basename(file).replace(/\.json$/, '.ts')), ts);
}
