/**
 * `kstreams state list|get|dump`: the state inspector (issue 29). Reads store folders through consistent
 * copies (see src/stores/store-snapshot.ts), or a store's changelog topic with --from-changelog.
 */
import { readdir } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import type { Topology } from '../processor/topology.js';
import { readStoreChangelog } from '../tools/state/changelog-store-reader.js';
import { readLocalStore } from '../tools/state/local-store-reader.js';
import { formatStateListing, listState } from '../tools/state/state-listing.js';
import { formatEntry, keyBytesOf, matchesKey } from '../tools/state/state-output.js';
import type { StateEntry } from '../tools/state/store-shape.js';

export const STATE_HELP = `kstreams state list --state-dir DIR [--application-id ID] [--topology MODULE]
                    [--bootstrap-servers HOST:PORT[,...]] [--json] [--temp-dir DIR]
kstreams state dump --store NAME [--key KEY | --key-hex HEX] [--task 0_1[,1_0...]] [--topology MODULE]
                    (--state-dir DIR [--application-id ID] | --from-changelog [--bootstrap-servers ...])
                    [--bytes base64|hex] [--temp-dir DIR]
kstreams state get  --store NAME (--key KEY | --key-hex HEX) ...the options of dump

list: per application folder under DIR (or --application-id), each task folder (and 'global'), who last
wrote its .checkpoint (ROLE: active, standby, global, or none yet), and each store's kind, size on disk,
time segments and changelog position (the offset recorded in the store with its data). With
--bootstrap-servers also the changelog's end offset and the store's lag behind it. --json prints the same
as one JSON document.

dump prints a store's entries as JSON lines, {"task","key","window","value","timestamp"} (window for
session and window stores, timestamp for timestamped ones); get prints those of one key (exit code 4
when it has none). Keys and values
go through the serdes of the store in --topology MODULE (loaded as 'describe' loads it; its application
id is the default --application-id). Without a topology, keys and values are printed as raw bytes
(--bytes, default base64) and the store's kind is read from the layout recorded in it. --key is the key
as text, or as JSON for other key types (a number, an object); --key-hex gives its bytes exactly.

Local stores are never opened in place: each is copied into the system's temp folder at one instant
(looked at twice in a row, its immutable LevelDB tables hard-linked, its manifest and logs copied up to
the sizes seen; never between a commit's writes) and read there, so it is safe while the instance runs
(LevelDB allows one opener, the instance) and the folder is never written. It shows what the instance
last committed: changes still in its write cache are not on disk. --temp-dir puts the copies elsewhere
(tables are hard-linked on the state directory's file system, copied on another one).

--from-changelog reads the store's changelog topic on the broker instead (needs --topology; the topic is
<application id>-<store>-changelog, --application-id overriding the topology's): the latest
record per key (per session or window), tombstones honoured, read_committed (records of aborted or open
transactions are not shown), entries expired by the store's retention left out, as restoring the store
would leave it.`;

/** What the state command needs of the CLI around it. */
export interface StateCli {
  loadTopology(file: string): Promise<Topology>;
  /** The brokers named by the option (or KAFKA_BROKERS), checked to answer. */
  brokers(value: string | undefined): Promise<string[]>;
  /** An error that prints the usage. */
  usage(message: string): Error;
}

function list(value: string | undefined): string[] | undefined {
  const items = (value ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  return items.length === 0 ? undefined : items;
}

export async function stateCommand(args: string[], cli: StateCli): Promise<void> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') return void console.log(STATE_HELP);
  const { values } = parseArgs({
    args: rest,
    options: {
      'state-dir': { type: 'string' },
      'application-id': { type: 'string' },
      topology: { type: 'string' },
      'bootstrap-servers': { type: 'string' },
      json: { type: 'boolean' },
      store: { type: 'string' },
      key: { type: 'string' },
      'key-hex': { type: 'string' },
      task: { type: 'string', multiple: true },
      bytes: { type: 'string' },
      'from-changelog': { type: 'boolean' },
      'temp-dir': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help === true) return void console.log(STATE_HELP);
  const topology = values.topology === undefined ? undefined : await cli.loadTopology(values.topology);
  if (action === 'list') {
    const stateDir = values['state-dir'];
    if (stateDir === undefined) throw cli.usage('--state-dir is required');
    await listCommand(stateDir, values['application-id'], topology, values['bootstrap-servers'], values.json === true, values['temp-dir'], cli);
    return;
  }
  if (action !== 'get' && action !== 'dump') throw cli.usage(`unknown state action '${action}' (known: list, get, dump)`);
  const store = values.store;
  if (store === undefined) throw cli.usage('--store is required');
  if (action === 'get' && values.key === undefined && values['key-hex'] === undefined) throw cli.usage('get needs --key (or --key-hex); dump prints every key');
  const encoding = values.bytes ?? 'base64';
  if (encoding !== 'base64' && encoding !== 'hex') throw cli.usage(`--bytes is base64 or hex, got '${encoding}'`);
  const tasks = list(values.task?.join(','));
  const keys = keyBytesOf(values.key, values['key-hex'], topology?.stores.get(store)?.keySerde);
  let entries: AsyncIterable<StateEntry>;
  if (values['from-changelog'] === true) {
    if (topology === undefined) throw cli.usage('--from-changelog needs --topology (the store\'s kind, serdes and application id)');
    const client = createKafkajsClient({ clientId: 'kstreams-state', brokers: await cli.brokers(values['bootstrap-servers']), connection: {} });
    const applicationId = values['application-id'];
    entries = readStoreChangelog({ client, topology, store, ...(applicationId === undefined ? {} : { applicationId }), ...(tasks === undefined ? {} : { tasks }) });
  } else {
    const stateDir = values['state-dir'];
    if (stateDir === undefined) throw cli.usage('--state-dir is required (or --from-changelog)');
    const applicationId = values['application-id'] ?? topology?.applicationId ?? (await onlyApplication(stateDir, cli));
    entries = readLocalStore({
      stateDir,
      applicationId,
      store,
      ...(tasks === undefined ? {} : { tasks }),
      ...(topology === undefined ? {} : { topology }),
      ...(values['temp-dir'] === undefined ? {} : { tempDir: values['temp-dir'] }),
      onWarning: (message) => console.error(`kstreams state: ${message}`),
    });
  }
  let printed = 0;
  for await (const entry of entries) {
    if (!matchesKey(entry, keys)) continue;
    console.log(formatEntry(entry, encoding));
    printed++;
  }
  if (action === 'get' && printed === 0) {
    console.error(`kstreams state get: no entry of key ${values.key ?? `0x${values['key-hex']}`} in store ${store}`);
    process.exitCode = 4;
  }
}

/** The one application folder of a state directory, when --application-id is not given. */
async function onlyApplication(stateDir: string, cli: StateCli): Promise<string> {
  const names = await readdir(stateDir, { withFileTypes: true }).then(
    (entries) => entries.filter((e) => e.isDirectory()).map((e) => e.name),
    () => [] as string[],
  );
  if (names.length === 1) return names[0]!;
  throw cli.usage(`--application-id is required: ${stateDir} holds ${names.length === 0 ? 'no application folder' : `several (${names.join(', ')})`}`);
}

async function listCommand(
  stateDir: string,
  applicationId: string | undefined,
  topology: Topology | undefined,
  servers: string | undefined,
  json: boolean,
  tempDir: string | undefined,
  cli: StateCli,
): Promise<void> {
  const options = {
    stateDir,
    ...(applicationId === undefined ? {} : { applicationId }),
    ...(topology === undefined ? {} : { topology }),
    ...(tempDir === undefined ? {} : { tempDir }),
  };
  if (servers === undefined) {
    const listings = await listState(options);
    console.log(json ? JSON.stringify(listings, null, 2) : formatStateListing(listings, false));
    return;
  }
  const admin = createKafkajsClient({ clientId: 'kstreams-state', brokers: await cli.brokers(servers), connection: {} }).admin();
  await admin.connect();
  try {
    const ends = new Map<string, Promise<Map<number, bigint> | undefined>>();
    const endOffset = async (topic: string, partition: number): Promise<bigint | undefined> => {
      if (!ends.has(topic)) {
        ends.set(topic, admin.fetchTopicOffsets(topic).then((offsets) => new Map(offsets.map((o) => [o.partition, BigInt(o.high)])), () => undefined));
      }
      return (await ends.get(topic))?.get(partition);
    };
    const listings = await listState({ ...options, endOffset });
    console.log(json ? JSON.stringify(listings, null, 2) : formatStateListing(listings, true));
  } finally {
    await admin.disconnect();
  }
}
