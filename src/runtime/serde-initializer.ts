import type { FetchedBatch } from '../client/fetched-batch.js';
import { restoreTopicOf } from '../processor/store-definition.js';
import type { Topology } from '../processor/topology.js';
import type { Serde } from '../serdes/serde.js';
import { lifecycleSerdesIn, type SerdeLifecycle } from '../serdes/serde-lifecycle.js';

type LifecycleSerde = Serde<unknown> & SerdeLifecycle;

/** The topics a lifecycle serde meets: all of them, and those it writes to. */
interface Usage {
  readonly topics: Set<string>;
  readonly written: Set<string>;
}

/** Adds `topic` to the topics of each lifecycle serde in `serde` (to those it writes when `writes`). */
function use(serde: Serde<unknown> | undefined, topic: string | undefined, writes: boolean, usage: Map<LifecycleSerde, Usage>): void {
  const found = new Set<LifecycleSerde>();
  lifecycleSerdesIn(serde, found);
  for (const s of found) {
    let u = usage.get(s);
    if (u === undefined) usage.set(s, (u = { topics: new Set(), written: new Set() }));
    if (topic === undefined) continue;
    u.topics.add(topic);
    if (writes) u.written.add(topic);
  }
}

/**
 * Initializes every serde of the topology that has an asynchronous lifecycle (Schema Registry serdes),
 * each with the topics it meets: the topics of the sources (read) and sinks (written) that use it, and the
 * changelog of each store whose keys or values it writes. `KafkaStreams.start()` awaits it before anything is read; with
 * the TopologyTestDriver, await it before piping input. The topology's repartition topics and changelogs are
 * passed as internal topics (`SerdeUsage.internalTopics`). Serdes without a lifecycle are left alone, so this
 * costs nothing for topologies without them.
 */
export async function initializeSerdes(topology: Topology): Promise<void> {
  const usage = new Map<LifecycleSerde, Usage>();
  for (const sub of [...topology.subtopologies, ...topology.globalSubtopologies]) {
    for (const node of sub.nodes) {
      if (node.kind === 'source') {
        for (const ref of node.topics) {
          use(node.keySerde, topology.topicName(ref), false, usage);
          use(node.valueSerde, topology.topicName(ref), false, usage);
        }
      } else if (node.kind === 'sink') {
        const topic = typeof node.topic === 'function' ? undefined : topology.topicName(node.topic);
        use(node.keySerde, topic, true, usage);
        use(node.valueSerde, topic, true, usage);
      }
    }
  }
  for (const store of topology.stores.values()) {
    const topic = restoreTopicOf(topology.applicationId, store) ?? `${topology.applicationId}-${store.name}-changelog`;
    use(store.keySerde, topic, true, usage);
    use(store.valueSerde, topic, true, usage);
  }
  const internal = new Set(topology.internalTopics.map((t) => t.name));
  await Promise.all(
    [...usage].map(([serde, { topics, written }]) =>
      serde.initialize({ topics: [...topics], writtenTopics: [...written], internalTopics: [...topics].filter((t) => internal.has(t)) }),
    ),
  );
}

type BatchHandler<A extends unknown[]> = (batch: FetchedBatch, ...rest: A) => Promise<void>;

/**
 * Wraps the handler of fetched input batches so that each batch first fetches the schemas of ids it
 * brings that its topic's serdes have not met (nearly always none: then the handler runs at once, with no
 * promise made). The handler itself when no source serde can prefetch.
 */
export function withSchemaPrefetch<A extends unknown[]>(topology: Topology, onBatch: BatchHandler<A>): BatchHandler<A> {
  const prefetchers = new Map<string, { key: LifecycleSerde[]; value: LifecycleSerde[] }>();
  for (const sub of topology.subtopologies) {
    for (const [topic, source] of sub.sourceByTopic) {
      const key = new Set<LifecycleSerde>();
      const value = new Set<LifecycleSerde>();
      lifecycleSerdesIn(source.keySerde, key);
      lifecycleSerdesIn(source.valueSerde, value);
      const keys = [...key].filter((s) => s.prefetch !== undefined);
      const values = [...value].filter((s) => s.prefetch !== undefined);
      if (keys.length + values.length > 0) prefetchers.set(topic, { key: keys, value: values });
    }
  }
  if (prefetchers.size === 0) return onBatch;
  return (batch, ...rest) => {
    const serdes = prefetchers.get(batch.topic);
    if (serdes === undefined || batch.messages.length === 0) return onBatch(batch, ...rest);
    let pending: Array<Promise<void>> | undefined;
    for (const s of serdes.key) {
      const p = s.prefetch!(batch.messages, 'key');
      if (p !== undefined) (pending ??= []).push(p);
    }
    for (const s of serdes.value) {
      const p = s.prefetch!(batch.messages, 'value');
      if (p !== undefined) (pending ??= []).push(p);
    }
    if (pending === undefined) return onBatch(batch, ...rest);
    return Promise.all(pending).then(() => onBatch(batch, ...rest));
  };
}
