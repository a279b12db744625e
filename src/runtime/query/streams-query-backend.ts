import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ResolvedStreamsConfig } from '../../config/streams-config.js';
import type { Topology } from '../../processor/topology.js';
import { formatTaskId } from '../../processor/task-id.js';
import type { ManagedStore } from '../../stores/managed-store.js';
import type { KafkaStreamsState } from '../kafka-streams-state.js';
import type { TopologyMetadata } from '../internal-topic-manager.js';
import type { StreamThread } from '../stream-thread.js';
import type { StreamsMetrics } from '../streams-metrics.js';
import { taskOfKey, type StreamsClientMetadata } from '../streams-metadata.js';
import type { GroupMemberInfo, LocalStoreAnswer, QueryBackend, TaskHolders } from './query-backend.js';

/** What the query server reads of a KafkaStreams instance, as it is at each call. */
export interface StreamsInternals {
  readonly topology: Topology;
  readonly config: ResolvedStreamsConfig;
  state(): KafkaStreamsState;
  thread(): StreamThread | undefined;
  globalStores(): ReadonlyMap<string, ManagedStore> | undefined;
  metadata(): TopologyMetadata | undefined;
  members(): Promise<StreamsClientMetadata[]>;
  metrics(): StreamsMetrics;
}

/** How long the group's description is reused between requests (a state change drops it at once). */
const MEMBERS_TTL_MS = 1000;

/**
 * The query server's view of a running KafkaStreams instance. A task answers current reads only while the
 * instance is RUNNING and the task runs (restored); with stale reads allowed, a restoring task or a standby
 * replica answers too, with its lag. Who holds a task elsewhere comes from the group's description (the
 * standby placement computed as every member computes it), reused for a second.
 */
export class StreamsQueryBackend implements QueryBackend {
  readonly topology: Topology;
  readonly self: string;
  private cached: { at: number; members: Promise<StreamsClientMetadata[]> } | undefined;
  /**
   * The last description in which some member had tasks: during a rebalance the group describes members
   * without assignments, and a stale read still finds the copies where they were. Only a candidate list:
   * the instance asked answers only from a copy it really holds.
   */
  private lastAssigned: StreamsClientMetadata[] = [];

  constructor(private readonly streams: StreamsInternals) {
    this.topology = streams.topology;
    this.self = streams.config.applicationServer ?? '';
  }

  /** Forget the group's description (the instance's state changed: a rebalance started or ended). */
  invalidate(): void {
    this.cached = undefined;
  }

  taskOfKey(storeName: string, key: unknown): { taskId: string } | { unavailable: string } {
    if (this.streams.metadata() === undefined) return { unavailable: 'the instance is starting' };
    return { taskId: taskOfKey(this.topology, this.streams.metadata(), storeName, key).taskId };
  }

  tasksOfStore(storeName: string): string[] | { unavailable: string } {
    const sub = this.topology.subtopologies.find((s) => s.stores.some((d) => d.name === storeName));
    const partitions = sub === undefined ? undefined : this.streams.metadata()?.partitionsBySubtopology.get(sub.id);
    if (sub === undefined || partitions === undefined) return { unavailable: 'the instance is starting' };
    return Array.from({ length: partitions }, (_, partition) => formatTaskId({ subtopology: sub.id, partition }));
  }

  globalStore(storeName: string): ManagedStore | undefined | { unavailable: string } {
    const isGlobal = this.topology.globalSubtopologies.some((s) => s.stores.some((d) => d.name === storeName));
    if (!isGlobal) return undefined;
    const store = this.streams.globalStores()?.get(storeName);
    return store ?? { unavailable: 'the global stores are restoring' };
  }

  localStore(storeName: string, taskId: string, allowStale: boolean): LocalStoreAnswer {
    const thread = this.streams.thread();
    const active = thread?.activeTasks.get(taskId);
    // A task exists here once its stores are open ('created'), then restores and runs.
    if (active !== undefined && active.state !== 'closed') {
      const store = active.streamTask.stores.get(storeName);
      if (store !== undefined) {
        if (active.state === 'running' && this.streams.state() === 'RUNNING') return { kind: 'active', store };
        if (allowStale) {
          // Unknown (NaN) until its restoration has started and said how far it has to go.
          let lag = active.state === 'running' ? 0 : Number.NaN;
          for (const r of thread!.restoreProgress.inProgress.values()) if (r.taskId === taskId) lag = (Number.isNaN(lag) ? 0 : lag) + Number(r.remaining);
          return { kind: 'stale', store, source: 'restoring', lag };
        }
        const why = active.state !== 'running' ? 'it is restoring its state' : `the instance is ${this.streams.state()}`;
        return { kind: 'unavailable', reason: `${why} (pass stale=true to read it anyway)` };
      }
    }
    const replica = thread?.standbys?.replica(taskId);
    if (replica !== undefined && allowStale) {
      const store = replica.store(storeName);
      if (store !== undefined) return { kind: 'stale', store, source: 'standby', lag: replica.lag };
    }
    // A stale read may still find a copy elsewhere while this instance rebalances; a current read waits.
    if (this.streams.state() !== 'RUNNING' && !allowStale) return { kind: 'unavailable', reason: `the instance is ${this.streams.state()}` };
    return { kind: 'absent' };
  }

  private membersNow(): Promise<StreamsClientMetadata[]> {
    const now = Date.now();
    if (this.cached === undefined || now - this.cached.at > MEMBERS_TTL_MS) {
      const members = this.streams.members();
      this.cached = { at: now, members };
      members.then((list) => {
        if (list.some((m) => m.activeTasks.length > 0)) this.lastAssigned = list;
      }, () => {});
      members.catch(() => {
        if (this.cached?.members === members) this.cached = undefined;
      });
    }
    return this.cached.members;
  }

  async holders(taskId: string): Promise<TaskHolders | undefined> {
    let members: StreamsClientMetadata[] = [];
    try {
      members = await this.membersNow();
    } catch {
      // the broker cannot describe the group now: the last known placement is all there is
    }
    const active = members.find((m) => m.activeTasks.includes(taskId))?.applicationServer;
    const copies = (list: StreamsClientMetadata[]) =>
      list.filter((m) => (m.standbyTasks.includes(taskId) || m.activeTasks.includes(taskId)) && m.applicationServer !== undefined).map((m) => m.applicationServer!);
    // Replicas now, then wherever a copy was before this rebalance (a former owner keeps its state on disk only while it runs it).
    const standbys = [...new Set([...copies(members), ...copies(this.lastAssigned)])].filter((s) => s !== active);
    return { active, standbys };
  }

  async members(): Promise<GroupMemberInfo[]> {
    return this.membersNow();
  }

  async localStatus(): Promise<Record<string, unknown>> {
    const thread = this.streams.thread();
    const restoring = [...(thread?.restoreProgress.inProgress.values() ?? [])].map((r) => ({
      taskId: r.taskId,
      store: r.storeName,
      total: Number(r.total),
      remaining: Number(r.remaining),
    }));
    const standbys = (thread?.standbys?.taskIds ?? []).map((taskId) => ({ taskId, lag: thread!.standbys!.replica(taskId)?.lag ?? null }));
    const tasks = [...(thread?.activeTasks.keys() ?? []), ...standbys.map((s) => s.taskId)];
    const storeSizes: Record<string, Record<string, number>> = {};
    const { stateDir, applicationId } = this.streams.config;
    for (const taskId of tasks) {
      const sizes: Record<string, number> = {};
      for (const definition of this.storesOfTask(taskId)) {
        if (definition.persistent) sizes[definition.name] = await sizeOnDisk(join(stateDir, applicationId, taskId, definition.name));
      }
      storeSizes[taskId] = sizes;
    }
    return {
      applicationServer: this.self,
      clientId: this.streams.config.clientId,
      time: Date.now(),
      metrics: this.streams.metrics(),
      restoring,
      standbys,
      storeSizes,
    };
  }

  private storesOfTask(taskId: string) {
    const sub = Number(taskId.slice(0, taskId.indexOf('_')));
    return this.topology.subtopologies[sub]?.stores ?? [];
  }
}

/** Bytes of the files under `path` (a store's folder); 0 when it is gone (the task moved meanwhile). */
async function sizeOnDisk(path: string): Promise<number> {
  try {
    const entries = await readdir(path, { withFileTypes: true });
    let total = 0;
    for (const entry of entries) {
      const full = join(path, entry.name);
      total += entry.isDirectory() ? await sizeOnDisk(full) : (await stat(full).catch(() => ({ size: 0 }))).size;
    }
    return total;
  } catch {
    return 0;
  }
}
