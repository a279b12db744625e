import type { Topology } from '../../processor/topology.js';
import type { ManagedStore } from '../../stores/managed-store.js';

/** What this instance can do for a task's store, now (see QueryBackend.localStore). */
export type LocalStoreAnswer =
  /** This instance runs the task and it is up to date: the answer is current. */
  | { readonly kind: 'active'; readonly store: ManagedStore }
  /**
   * A copy that may be behind (a standby replica, or an active task still restoring): answered only when
   * the caller allows stale reads. `lag`: changelog records it was behind at its last catch-up (NaN: unknown).
   */
  | { readonly kind: 'stale'; readonly store: ManagedStore; readonly source: 'standby' | 'restoring'; readonly lag: number }
  /** The task is here but cannot answer now (rebalancing, restoring): 503 with Retry-After. */
  | { readonly kind: 'unavailable'; readonly reason: string }
  /** Not here: forward to who holds it. */
  | { readonly kind: 'absent' };

/** Who holds a task, as the group says now: the active owner and the instances keeping standby replicas. */
export interface TaskHolders {
  /** The owner's `applicationServer`; undefined during a rebalance. */
  readonly active: string | undefined;
  readonly standbys: readonly string[];
}

/** One instance of the group, as the status page lists it. */
export interface GroupMemberInfo {
  readonly memberId: string;
  readonly clientId: string;
  readonly applicationServer: string | undefined;
  readonly activeTasks: readonly string[];
  readonly standbyTasks: readonly string[];
}

/**
 * What the query server needs from the instance it serves: the topology (store names, kinds and serdes), the
 * task of a key, the local stores, and who holds a task elsewhere. `KafkaStreams` provides it; tests may
 * provide in-memory stores and a fixed placement.
 */
export interface QueryBackend {
  readonly topology: Topology;
  /** This instance's `applicationServer` (host:port), as the others reach it. */
  readonly self: string;
  /** The task holding `key` of `storeName`, or a reason why it cannot be known yet (not started). */
  taskOfKey(storeName: string, key: unknown): { taskId: string } | { unavailable: string };
  /** The tasks that hold the store's partitions, in partition order (range queries ask each one). */
  tasksOfStore(storeName: string): string[] | { unavailable: string };
  /** A global store of that name, when it is one (every instance answers it). */
  globalStore(storeName: string): ManagedStore | undefined | { unavailable: string };
  localStore(storeName: string, taskId: string, allowStale: boolean): LocalStoreAnswer;
  /** Where a task lives in the group; undefined when the group cannot be described now. */
  holders(taskId: string): Promise<TaskHolders | undefined>;
  /** This instance's figures for the status page (any JSON). */
  localStatus(): Promise<Record<string, unknown>>;
  /** The members of the group, for the status page. */
  members(): Promise<GroupMemberInfo[]>;
}
