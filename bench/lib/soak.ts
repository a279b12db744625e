/**
 * `soak`: a simulated month of event time through the sessionization's session aggregation, with its store on
 * a real on-disk LevelDB state folder, and the folder's size after each simulated day.
 *
 * No broker: the aggregation sub-topology runs in a StreamTask, as the runtime runs it, fed the repartitioned
 * page views (key: user id) directly; every SOAK_COMMIT_RECORDS records it commits as the runtime does (flush
 * the caches, write the local entries, drop expired segments). The TopologyTestDriver cannot do this: its
 * stores are in memory and it commits after every record.
 *
 * Population: SOAK_USERS_PER_DAY users a day (default 20 000), of whom 95 % appear on that day only and 5 %
 * come from a fixed pool of regulars; each visit is 1-6 views a few minutes apart (one session, gap 30 min).
 * The store's changelog is kept as the broker would keep it (compact,delete: the latest record per key, for
 * retention + one day); at the end it is restored into an empty folder and timed.
 *
 * SOAK_LAYOUT picks the byte store (issue 16's two designs): `segment-databases` (the default, as the
 * runtime opens session and window stores: one LevelDB per segment, an expired one a deleted folder) or
 * `single` (one LevelDB, expired segments range-deleted), tuned by SOAK_COMPACT_EVERY (compact after every
 * N drops, default 1; 0 never), SOAK_REOPEN_EVERY (reopen after every N drops, default 0: never) and
 * SOAK_WRITE_BUFFER (LevelDB's memtable bytes, default LevelDB's 4 MiB).
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { random } from '../../examples/sessionize/generator.js';
import { buildSessionizeTopology, pageViewSerde, type PageView } from '../../examples/sessionize/topology.js';
import { Serdes } from '../../src/index.js';
import { silentLogger } from '../../src/logging/logger.js';
import { StreamTask } from '../../src/runtime/stream-task.js';
import { LevelDbBytesStore, type LevelDbOptions } from '../../src/stores/leveldb-bytes-store.js';
import { LocalStores, type LocalBytesStore } from '../../src/stores/local-store.js';
import type { StoreDefinition } from '../../src/processor/store-definition.js';
import type { BytesEntry } from '../../src/stores/bytes-store.js';
import type { ManagedStore } from '../../src/stores/managed-store.js';
import { ChangeLogging } from '../../src/stores/change-logging.js';
import { createStore } from '../../src/stores/store-factory.js';

const DAY = 86_400_000;
const REGULARS = 2_000;

export interface SoakFigures {
  /** SOAK_LAYOUT, with the single LevelDB's options when it is `single`. */
  layout: string;
  days: number;
  usersPerDay: number;
  events: number;
  seconds: number;
  /** CPU seconds of the month (restoration aside). */
  cpuSeconds: number;
  /** State folder bytes after each simulated day. */
  sizes: number[];
  /** The same, LevelDB's bookkeeping files (see FolderBytes) aside. */
  dataSizes: number[];
  lastOverDay3: number;
  dataLastOverDay3: number;
  restoration: RestoreFigures;
}

export interface RestoreFigures {
  /** Records in the changelog at the end (compacted, and deleted after retention + one day). */
  records: number;
  seconds: number;
  cpuSeconds: number;
  /** LevelDB entries the restoration wrote (the rest was skipped as expired, or merged in a batch). */
  entriesWritten: number;
}

/**
 * The store's changelog as the broker would keep it with `cleanup.policy=compact,delete`: the latest
 * record per key, and nothing older (by the stream time it was written at) than `retentionMs`.
 */
class CompactedChangelog {
  private readonly latest = new Map<string, { record: BytesEntry; time: number }>();

  append(records: readonly BytesEntry[], time: number): void {
    for (const record of records) {
      const id = record[0].toString('latin1');
      this.latest.delete(id); // re-inserted last: the map stays in write order
      this.latest.set(id, { record, time });
    }
  }

  deleteBefore(time: number): void {
    for (const [id, { time: written }] of this.latest) {
      if (written >= time) break;
      this.latest.delete(id);
    }
  }

  records(): BytesEntry[] {
    return [...this.latest.values()].map((r) => r.record);
  }
}

/** The byte store of SOAK_LAYOUT at `path`. */
function openBytes(definition: StoreDefinition, path: string): Promise<LocalBytesStore> {
  if (layout() === 'segment-databases') return LocalStores.open(definition, path);
  return LevelDbBytesStore.open(path, singleOptions());
}

function layout(): string {
  const name = process.env.SOAK_LAYOUT ?? 'segment-databases';
  if (name !== 'segment-databases' && name !== 'single') throw new Error(`SOAK_LAYOUT is segment-databases or single, not ${name}`);
  return name;
}

function singleOptions(): LevelDbOptions {
  const number = (name: string) => (process.env[name] === undefined ? undefined : Number(process.env[name]));
  return { compactEveryDrops: number('SOAK_COMPACT_EVERY'), reopenEveryDrops: number('SOAK_REOPEN_EVERY'), writeBufferSize: number('SOAK_WRITE_BUFFER') };
}

/** Restores a store from `records` into an empty folder, in batches, as the runtime's restoration. */
async function restoreInto(path: string, definition: StoreDefinition, records: readonly BytesEntry[]): Promise<RestoreFigures> {
  const batch = 10_000;
  const bytes = await openBytes(definition, path);
  const store: Partial<ManagedStore> & Pick<ManagedStore, 'restoreEntries'> = createStore(definition, bytes, 0);
  const began = performance.now();
  const cpu = process.cpuUsage();
  let entriesWritten = 0;
  // Absent in a build from before segments (as dropExpired below): nothing is skipped there.
  if (records.length > 0) store.observeChangelogKey?.(records[records.length - 1]![0]);
  for (let i = 0; i < records.length; i += batch) {
    const entries = store.restoreEntries(records.slice(i, i + batch));
    entriesWritten += entries.length;
    await bytes.apply(entries, BigInt(Math.min(i + batch, records.length)));
    await store.dropExpired?.();
  }
  const used = process.cpuUsage(cpu);
  const figures = { records: records.length, seconds: (performance.now() - began) / 1000, cpuSeconds: (used.user + used.system) / 1e6, entriesWritten };
  await bytes.close();
  return figures;
}

/** Bytes of a state folder by kind of LevelDB file. */
interface FolderBytes {
  /** Tables and write-ahead logs: the store's data, live or not yet compacted away. */
  data: number;
  /**
   * LevelDB's own bookkeeping: MANIFEST (a record per compaction) and the informational LOG (a few lines per
   * compaction). Both grow with the number of compactions, whatever the store holds, and are rewritten
   * (MANIFEST) or rotated (LOG) only when the store opens.
   */
  bookkeeping: number;
}

function folderBytes(path: string, total: FolderBytes = { data: 0, bookkeeping: 0 }): FolderBytes {
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) folderBytes(child, total);
    else if (/^(LOG|LOG\.old|MANIFEST-\d+)$/.test(entry.name)) total.bookkeeping += statSync(child).size;
    else total.data += statSync(child).size;
  }
  return total;
}

/** The page views of one simulated day, by time. */
function dayOfViews(day: number, usersPerDay: number, next: () => number): PageView[] {
  const views: PageView[] = [];
  const start = Date.UTC(2026, 0, 1) + day * DAY;
  for (let u = 0; u < usersPerDay; u++) {
    const userId = next() < 0.05 ? `regular-${Math.floor(next() * REGULARS)}` : `visitor-${day}-${u}`;
    let t = start + Math.floor(next() * (DAY - 3_600_000));
    const count = 1 + Math.floor(next() * 6);
    for (let i = 0; i < count; i++) {
      views.push({ userId, page: `/page/${Math.floor(next() * 50)}`, status: 200, bytes: 500 + Math.floor(next() * 5000), timestamp: t });
      t += Math.floor(next() * 5 * 60_000);
    }
  }
  return views.sort((a, b) => a.timestamp - b.timestamp);
}

export async function soak(days = Number(process.env.SOAK_DAYS ?? 30), usersPerDay = Number(process.env.SOAK_USERS_PER_DAY ?? 20_000)): Promise<SoakFigures> {
  const commitEvery = Number(process.env.SOAK_COMMIT_RECORDS ?? 2_000);
  const topology = buildSessionizeTopology({ applicationId: 'soak' });
  const subtopology = topology.subtopologies.find((s) => s.stores.length > 0)!;
  const input = subtopology.sourceTopics[0]!;
  const stateDir = mkdtempSync(join(tmpdir(), 'kstreams-soak-'));
  const bytesStores = new Map<string, LocalBytesStore>();
  for (const definition of subtopology.stores) bytesStores.set(definition.name, await openBytes(definition, join(stateDir, definition.name)));
  // What the stores' change-logging layer logs between two commits.
  const logged: BytesEntry[] = [];
  const task = new StreamTask({
    topology,
    subtopology,
    partition: 0,
    sink: { send: () => {}, partitionsFor: () => 1 },
    createStore: (definition) =>
      createStore(
        definition,
        bytesStores.get(definition.name)!,
        10 * 1024 * 1024,
        ChangeLogging.of(definition, 'soak', { send: (r) => logged.push([r.key, r.value]) }),
      ),
    wallClock: () => Date.now(),
    logger: silentLogger,
  });
  task.init();
  const definition = subtopology.stores[0]!;
  const changelog = new CompactedChangelog();
  const commit = async (): Promise<void> => {
    const flushed = task.flushStores();
    changelog.append(logged.splice(0), task.streamTime);
    for (const [store, local] of flushed) {
      await store.bytes.apply(local);
      (store as Partial<ManagedStore>).written?.(store.lastFlush);
      // Absent in a build from before segments: the soak then measures the bucketed layout.
      await (store as Partial<ManagedStore>).dropExpired?.();
    }
  };
  const keySerde = Serdes.String();
  const next = random(42); // deterministic: every run sees the same month
  const sizes: number[] = [];
  const dataSizes: number[] = [];
  let restoration: RestoreFigures | undefined;
  let events = 0;
  let cpuSeconds: number;
  const began = Date.now();
  const cpu = process.cpuUsage();
  try {
    for (let day = 0; day < days; day++) {
      const views = dayOfViews(day, usersPerDay, next);
      for (let i = 0; i < views.length; i++) {
        const view = views[i]!;
        task.process(input, 0, String(events++), keySerde.serialize(view.userId), pageViewSerde.serialize(view), view.timestamp, {});
        if (i % commitEvery === commitEvery - 1) await commit();
      }
      await commit();
      changelog.deleteBefore(task.streamTime - (definition.retentionMs ?? 0) - DAY);
      const { data, bookkeeping } = folderBytes(stateDir);
      sizes.push(data + bookkeeping);
      dataSizes.push(data);
      console.log(
        `  day ${String(day + 1).padStart(2)}: ${views.length} views, state folder ${((data + bookkeeping) / 1e6).toFixed(3)} MB, ` +
          `of which data ${(data / 1e6).toFixed(3)} MB, LevelDB bookkeeping ${(bookkeeping / 1e6).toFixed(3)} MB`,
      );
    }
    const used = process.cpuUsage(cpu);
    cpuSeconds = (used.user + used.system) / 1e6;
    restoration = await restoreInto(join(stateDir, 'restored'), definition, changelog.records());
    console.log(
      `  restoration of the last changelog (${restoration.records} records) into an empty folder: ${restoration.seconds.toFixed(2)} s, ` +
        `${restoration.cpuSeconds.toFixed(2)} s CPU, ${restoration.entriesWritten} LevelDB entries written`,
    );
  } finally {
    for (const store of bytesStores.values()) await store.close();
    if (process.env.SOAK_KEEP === undefined) rmSync(stateDir, { recursive: true, force: true });
    else console.log(`  state folder kept: ${stateDir}`);
  }
  const seconds = (Date.now() - began) / 1000;
  const lastOverDay3 = (series: number[]) => (series.length >= 3 ? series[series.length - 1]! / series[2]! : Number.NaN);
  const options = singleOptions();
  return {
    layout: layout() === 'single' ? `single ${JSON.stringify(options)}` : layout(),
    days,
    usersPerDay,
    events,
    seconds,
    cpuSeconds,
    sizes,
    dataSizes,
    lastOverDay3: lastOverDay3(sizes),
    dataLastOverDay3: lastOverDay3(dataSizes),
    restoration,
  };
}
