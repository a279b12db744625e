#!/usr/bin/env bash
# What a user gets from `npm install kstreams-ts`, checked as a user would use it: pack the package, install
# the tarball into a fresh project (the package from the tarball; its dependencies from the npm cache that
# `npm ci` filled, the registry only for what the cache lacks), then
#   - type-check README's "Install in your project" app against the installed types;
#   - run a topology through the TopologyTestDriver from the compiled package;
#   - run the installed `kstreams` command (--version, describe, topics create dry run);
#   - check that every source a shipped source map names is shipped too.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d "${TMPDIR:-/tmp}/kstreams-package-XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$repo"

# prepack builds dist afresh.
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"

app="$work/app"
mkdir -p "$app/src"
cd "$app"
cat > package.json <<'EOF'
{ "name": "kstreams-package-check", "private": true, "type": "module" }
EOF
npm install --prefer-offline --no-audit --no-fund --silent "$work/$tarball"

# README's minimal app, type-checked with the project's TypeScript against the installed declarations.
cat > src/app.ts <<'EOF'
import { Consumed, KafkaStreams, Produced, Serdes, StreamsBuilder } from 'kstreams-ts';

const builder = new StreamsBuilder();
builder
  .stream('words', Consumed.with(Serdes.String(), Serdes.String()))
  .mapValues((word) => word.toUpperCase())
  .to('shouted', Produced.with(Serdes.String(), Serdes.String()));
export const topology = builder.build({ applicationId: 'shouter' });

const app = new KafkaStreams(topology, { applicationId: 'shouter', bootstrapServers: ['127.0.0.1:9092'] });
await app.start();
app.closeOnSignals();
EOF
cat > src/topology.ts <<'EOF'
import { Consumed, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from 'kstreams-ts';

const builder = new StreamsBuilder();
builder
  .stream('words', Consumed.with(Serdes.String(), Serdes.String()))
  .mapValues((word) => word.toUpperCase())
  .to('shouted', Produced.with(Serdes.String(), Serdes.String()));
export const topology = builder.build({ applicationId: 'shouter' });

if (process.argv[2] === 'test') {
  const driver = new TopologyTestDriver(topology);
  driver.createInputTopic('words', Serdes.String(), Serdes.String()).pipeInput('k', 'hello');
  const out = driver.createOutputTopic('shouted', Serdes.String(), Serdes.String()).readKeyValuesToList();
  driver.close();
  if (JSON.stringify(out) !== JSON.stringify([{ key: 'k', value: 'HELLO' }])) throw new Error(`unexpected output ${JSON.stringify(out)}`);
  console.log('TopologyTestDriver: ok');
}
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
node dist/topology.js test

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
