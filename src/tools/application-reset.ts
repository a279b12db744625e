import { rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Admin } from '../client/admin.js';
import { createKafkajsClient } from '../client/kafkajs/kafkajs-client.js';
import { StreamsError } from '../errors/errors.js';

/** Where the input offsets go, as the options of Kafka's application reset tool say it. */
export type ResetTarget =
  | {
      /** The start of each partition. */
      readonly kind: 'earliest';
    }
  | {
      /** The end of each partition: skip everything written so far. */
      readonly kind: 'latest';
    }
  | {
      /** One offset for every partition. */
      readonly kind: 'offset';
      /** The offset. */
      readonly offset: bigint;
    }
  | {
      /** The first record at or after a time. */
      readonly kind: 'datetime';
      /** The time, ms since the epoch. */
      readonly timestampMs: number;
    }
  | {
      /** The first record at or after a time that long ago. */
      readonly kind: 'duration';
      /** How long ago, in ms. */
      readonly durationMs: number;
    };

/** What `resetApplication` rewinds, and to where. */
export interface ResetOptions {
  /** The application (its consumer group and internal-topic prefix). */
  readonly applicationId: string;
  /** Brokers to connect to, as `host:port`. */
  readonly bootstrapServers: string[];
  /** The application's source topics whose committed offsets move. */
  readonly inputTopics: readonly string[];
  /** Where the input offsets go. */
  readonly target: ResetTarget;
  /** Also wipe `<stateDir>/<applicationId>` on this machine. */
  readonly stateDir?: string;
  /** Report what would change and change nothing; also while instances run (the report says it would refuse). */
  readonly dryRun?: boolean;
  /** For `duration`: the time it is measured back from (default now). */
  readonly nowMs?: number;
}

/** A committed offset the reset moved (or would move, in a dry run). */
export interface OffsetMove {
  /** The input topic. */
  readonly topic: string;
  /** Its partition. */
  readonly partition: number;
  /** -1 when the group had no commit. */
  readonly from: bigint;
  /** The new committed offset. */
  readonly to: bigint;
}

/** What a reset did (or would do, in a dry run). */
export interface ResetReport {
  /** True: nothing was changed. */
  readonly dryRun: boolean;
  /** The committed offsets moved. */
  readonly offsets: OffsetMove[];
  /** The internal topics deleted. */
  readonly deletedTopics: string[];
  /** The local state folder deleted, if `stateDir` was given. */
  readonly wipedStateDir: string | undefined;
  /**
   * In a dry run while instances of the application run: why the reset itself would refuse now (the
   * message a real reset throws); undefined when it would go ahead.
   */
  readonly wouldRefuse?: string;
}

/** The reset tool refused (the application still runs) or could not do what was asked. */
export class ResetError extends StreamsError {}

/** Internal topics of an application: `<applicationId>-…-changelog` and `<applicationId>-…-repartition`. */
export function isInternalTopic(applicationId: string, topic: string): boolean {
  return topic.startsWith(`${applicationId}-`) && (topic.endsWith('-changelog') || topic.endsWith('-repartition'));
}

async function targetOffsets(admin: Admin, topic: string, target: ResetTarget, nowMs: number): Promise<Map<number, bigint>> {
  const bounds = await admin.fetchTopicOffsets(topic);
  const result = new Map<number, bigint>();
  if (target.kind === 'datetime' || target.kind === 'duration') {
    const at = target.kind === 'datetime' ? target.timestampMs : nowMs - target.durationMs;
    // The first offset whose timestamp is at or after `at`; the end when there is none.
    for (const { partition, offset } of await admin.fetchTopicOffsetsByTimestamp(topic, at)) {
      const high = BigInt(bounds.find((b) => b.partition === partition)?.high ?? '0');
      const found = BigInt(offset);
      result.set(partition, found < 0n ? high : found);
    }
    return result;
  }
  for (const { partition, low, high } of bounds) {
    const lo = BigInt(low);
    const hi = BigInt(high);
    if (target.kind === 'earliest') result.set(partition, lo);
    else if (target.kind === 'latest') result.set(partition, hi);
    else result.set(partition, target.offset < lo ? lo : target.offset > hi ? hi : target.offset);
  }
  return result;
}

/**
 * What Kafka's `kafka-streams-application-reset` does, for an application of this library: refuses while
 * the group has members (a dry run reports its plan anyway, saying it would refuse); moves the group's committed offsets of the input topics; deletes the internal
 * topics (repartition and changelog) so that state is rebuilt from the input; optionally wipes local state.
 * Restarting the application afterwards reprocesses the input from the new offsets.
 */
export async function resetApplication(options: ResetOptions): Promise<ResetReport> {
  const { applicationId, inputTopics, target } = options;
  const dryRun = options.dryRun ?? false;
  const admin = createKafkajsClient({ clientId: `${applicationId}-reset`, brokers: options.bootstrapServers, connection: {} }).admin();
  await admin.connect();
  try {
    const group = await admin.describeGroup(applicationId);
    const refusal =
      group.members.length === 0
        ? undefined
        : `Application '${applicationId}' still has ${group.members.length} running member(s) (group state ${group.state}): ` +
          `stop every instance first (a crashed one leaves the group after its session timeout), then run the reset again.`;
    // The plan can be previewed while the application runs; only the reset itself must wait for it to stop.
    if (refusal !== undefined && !dryRun) throw new ResetError(refusal);
    const existing = new Set(await admin.listTopics());
    const missing = inputTopics.filter((t) => !existing.has(t));
    if (missing.length > 0) throw new ResetError(`Input topic(s) ${missing.join(', ')} do not exist: check --input-topics.`);

    const committed = await admin.fetchOffsets({ groupId: applicationId, topics: [...inputTopics] });
    const offsets: OffsetMove[] = [];
    for (const topic of inputTopics) {
      const targets = await targetOffsets(admin, topic, target, options.nowMs ?? Date.now());
      const current = committed.find((c) => c.topic === topic)?.partitions ?? [];
      for (const [partition, to] of [...targets].sort((a, b) => a[0] - b[0])) {
        const from = BigInt(current.find((p) => p.partition === partition)?.offset ?? '-1');
        offsets.push({ topic, partition, from, to });
      }
    }
    const deletedTopics = [...existing].filter((t) => isInternalTopic(applicationId, t)).sort();
    const stateFolder = options.stateDir === undefined ? undefined : join(options.stateDir, applicationId);
    const wipedStateDir = stateFolder !== undefined && existsSync(stateFolder) ? stateFolder : undefined;

    if (!dryRun) {
      for (const topic of inputTopics) {
        const partitions = offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: o.to.toString() }));
        await admin.setOffsets({ groupId: applicationId, topic, partitions });
      }
      if (deletedTopics.length > 0) await admin.deleteTopics({ topics: deletedTopics });
      if (wipedStateDir !== undefined) rmSync(wipedStateDir, { recursive: true, force: true });
    }
    return { dryRun, offsets, deletedTopics, wipedStateDir, ...(refusal === undefined ? {} : { wouldRefuse: refusal }) };
  } finally {
    await admin.disconnect();
  }
}

/** The report as the CLI prints it. */
export function formatResetReport(report: ResetReport): string {
  const lines: string[] = [
    !report.dryRun
      ? 'Reset done:'
      : report.wouldRefuse === undefined
        ? 'Dry run: nothing was changed. The reset would:'
        : `Dry run: nothing was changed. The reset would refuse now: ${report.wouldRefuse}\nOnce every instance is stopped, it would:`,
  ];
  for (const o of report.offsets) {
    lines.push(`  offset ${o.topic}-${o.partition}: ${o.from < 0n ? 'none' : o.from.toString()} -> ${o.to.toString()}`);
  }
  for (const t of report.deletedTopics) lines.push(`  delete internal topic ${t}`);
  if (report.deletedTopics.length === 0) lines.push('  no internal topics to delete');
  if (report.wipedStateDir !== undefined) lines.push(`  wipe local state ${report.wipedStateDir}`);
  return lines.join('\n');
}
