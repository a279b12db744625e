#!/usr/bin/env bash
# What a user gets from the packed package, checked as a user would use it: pack the package, check what
# `npm publish` would ship (a dry run: the package is not published yet), install the tarball into a fresh
# project as README's "Install in your project" says (the package from the tarball; its dependencies from
# the npm cache that `npm ci` filled, the registry only for what the cache lacks), then
#   - type-check README's minimal app (its src/topology.ts and src/app.ts blocks, taken from README.md)
#     against the installed types;
#   - run a topology through the TopologyTestDriver from the compiled package;
#   - run the installed `kstreams` command (--version, describe, topics create dry run);
#   - check that every source a shipped source map names is shipped too.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/kstreams-package-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$repo"

# 'prepare' builds dist afresh.
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"

# What `npm publish` would upload (dist is built: no second build): the compiled package with its
# declarations and CLI, the sources its maps name, the README, licence, changelog and Grafana dashboard,
# and nothing of the tests, benchmarks, examples or scripts.
npm publish --dry-run --ignore-scripts --json 2>/dev/null >"$work/publish.json"
node --input-type=module - "$work/publish.json" <<'EOF'
import { readFileSync } from 'node:fs';
const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const files = (report.files ?? report['kstreams-ts']?.files ?? []).map((f) => f.path);
const needed = ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'grafana/kstreams-dashboard.json',
  'dist/index.js', 'dist/index.d.ts', 'dist/cli/kstreams.js', 'src/index.ts'];
const missing = needed.filter((f) => !files.includes(f));
const stray = files.filter((f) => /^(test|bench|examples|scripts|docs|node_modules|\.cache)\//.test(f));
if (missing.length > 0 || stray.length > 0) {
  console.error(`npm publish --dry-run: missing ${missing.join(', ') || 'nothing'}; should not ship ${stray.slice(0, 5).join(', ') || 'anything else'}`);
  process.exit(1);
}
console.log(`npm publish --dry-run: ${files.length} files, every one needed is there`);
EOF

app="$work/app"
mkdir -p "$app/src"
cd "$app"
cat > package.json <<'EOF'
{ "name": "kstreams-package-check", "private": true, "type": "module" }
EOF
npm install --prefer-offline --no-audit --no-fund --silent "$work/$tarball"

# README's minimal app, as README.md has it, type-checked with the project's TypeScript against the
# installed declarations; a test of our own runs its topology through the TopologyTestDriver.
for file in src/topology.ts src/app.ts; do
  node "$repo/node_modules/tsx/dist/cli.mjs" "$repo/scripts/readme-blocks.ts" file "$file" "$repo/README.md" > "$file"
done
cat > src/check.ts <<'EOF'
import { Serdes, TopologyTestDriver } from 'kstreams-ts';
import { topology } from './topology.js';

const driver = new TopologyTestDriver(topology);
driver.createInputTopic('words', Serdes.String(), Serdes.String()).pipeInput('k', 'hello');
const out = driver.createOutputTopic('shouted', Serdes.String(), Serdes.String()).readKeyValuesToList();
driver.close();
if (JSON.stringify(out) !== JSON.stringify([{ key: 'k', value: 'HELLO' }])) throw new Error(`unexpected output ${JSON.stringify(out)}`);
console.log('TopologyTestDriver: ok');
EOF
cat > tsconfig.json <<'EOF'
{
  "compilerOptions": {
    "target": "ES2022", "module": "NodeNext", "moduleResolution": "NodeNext", "strict": true,
    "types": ["node"], "skipLibCheck": false, "outDir": "dist", "rootDir": "src"
  },
  "include": ["src"]
}
EOF
mkdir -p node_modules/@types && ln -s "$repo/node_modules/@types/node" node_modules/@types/node
node "$repo/node_modules/typescript/bin/tsc" -p .
node dist/check.js

version="$(node -p "require('$repo/package.json').version")"
[ "$(npx --no-install kstreams --version)" = "$version" ] || { echo "kstreams --version is not $version" >&2; exit 1; }
npx --no-install kstreams describe dist/topology.js | grep -q 'Sink: KSTREAM-SINK-0000000002 (topic: shouted)'
KAFKA_BROKERS= npx --no-install kstreams topics create --topology dist/topology.js | grep -q 'would create'
# A .ts topology needs tsx, the optional peer dependency: first the hint, then the module itself.
if npx --no-install kstreams describe src/topology.ts 2>"$work/no-tsx.txt"; then echo "describe .ts worked without tsx?" >&2; exit 1; fi
grep -q 'npm install --save-dev tsx' "$work/no-tsx.txt"
npm install --prefer-offline --no-audit --no-fund --silent --save-dev "tsx@$(node -p "require('$repo/package.json').devDependencies.tsx")"
npx --no-install kstreams describe src/topology.ts | grep -q 'Sink: KSTREAM-SINK-0000000002 (topic: shouted)'

# Source maps name files relative to themselves: each must be in the package.
node --input-type=module - "$app/node_modules/kstreams-ts/dist" <<'EOF'
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
const root = process.argv[2];
const maps = readdirSync(root, { recursive: true }).filter((f) => f.endsWith('.map')).map((f) => join(root, f));
const missing = maps.flatMap((map) => JSON.parse(readFileSync(map, 'utf8')).sources.map((s) => resolve(dirname(map), s)).filter((s) => !existsSync(s)));
if (maps.length === 0 || missing.length > 0) {
  console.error(`source maps: ${maps.length} maps; not shipped: ${missing.slice(0, 5).join(', ')}`);
  process.exit(1);
}
console.log(`source maps: ${maps.length} maps, every source shipped`);
EOF
echo "package check: ok ($tarball)"
