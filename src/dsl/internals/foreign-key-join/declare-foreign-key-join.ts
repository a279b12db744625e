import { TopologyError } from '../../../errors/errors.js';
import type { TableJoined } from '../../table-joined.js';
import type { Serde } from '../../../serdes/serde.js';
import type { KTable } from '../../ktable.js';
import type { Materialized, Named } from '../../options.js';
import type { InternalBuilder } from '../internal-builder.js';
import type { ValueJoiner } from '../processors/functions.js';
import { addTableSource, type KTableSourceProducer } from '../processors/ktable-source.js';
import { bufferStore } from '../table-store.js';
import { foreignTableJoin } from './foreign-table-join.js';
import { responseJoin } from './response-join.js';
import { responseWrapperSerde, type ResponseWrapper } from './response-wrapper.js';
import { subscriptionJoin } from './subscription-join.js';
import { subscriptionReceive } from './subscription-receive.js';
import { subscriptionSend } from './subscription-send.js';
import { subscriptionWrapperSerde } from './subscription-wrapper.js';

type AnyTable = KTable<unknown, unknown>;

const PREFIX = 'KTABLE-FK-JOIN-';

/**
 * Declares a foreign-key table-table join as Kafka Streams' KTableImpl#doJoinOnForeignKey does, with the same
 * names (and index order), so the same topics and stores: the left table sends subscriptions keyed by foreign
 * key through `<app>-KTABLE-FK-JOIN-SUBSCRIPTION-REGISTRATION-<n>-topic` (co-partitioned with the right table);
 * the right side keeps them in the subscription store and answers through
 * `<app>-KTABLE-FK-JOIN-SUBSCRIPTION-RESPONSE-<n>-topic` (co-partitioned with the left table, each answer sent
 * to the partition its subscription came from), where the resolver joins what is not stale. The result is a
 * table processor (`KTABLE-FK-JOIN-OUTPUT-<n>`), kept in a store when `materialized` names one.
 */
export function declareForeignKeyJoin(
  graph: InternalBuilder,
  left: AnyTable,
  right: AnyTable,
  extractor: (value: unknown) => unknown,
  joiner: ValueJoiner<unknown, unknown, unknown>,
  leftJoin: boolean,
  named: Named | undefined,
  materialized: Materialized<unknown, unknown> | undefined,
  partitioners: Pick<TableJoined<unknown, unknown>, 'partitioner' | 'otherPartitioner'> = { partitioner: undefined, otherPartitioner: undefined },
): { name: string; producer: KTableSourceProducer; keySerde: Serde<unknown> } {
  // The right table's old values are asked for as Kafka Streams does (it materializes it, and a filter
  // then forwards no change of a key absent before and after); the left's tell the old foreign key.
  right.producer.enableSendingOldValues(true);
  left.producer.enableSendingOldValues(true);
  // As NamedInternal#suffixWithOrElseGet: every name takes an index, a given name only a suffix.
  const nameOf = (suffix: string, prefix: string): string => {
    const generated = graph.newProcessorName(prefix);
    return named !== undefined ? `${named.name}${suffix}` : generated;
  };
  const registrationTopic = `${nameOf('-subscription-registration', `${PREFIX}SUBSCRIPTION-REGISTRATION-`)}-topic`;
  const who = `The foreign-key join of ${left.nodeName} with ${right.nodeName}`;
  const hint = 'give both tables key and value serdes (Consumed.with or Materialized...withKeySerde / withValueSerde)';
  const primaryKeySerde = graph.serdeFor('key', who, hint, left.keySerde);
  const valueSerde = graph.serdeFor('value', who, hint, left.valueSerde);
  const foreignKeySerde = graph.serdeFor('key', who, hint, right.keySerde);
  const foreignValueSerde = graph.serdeFor('value', who, hint, right.valueSerde);
  const wrapperSerde = subscriptionWrapperSerde(primaryKeySerde);
  const serdes = { foreignKeySerde, valueSerde, registrationTopic };
  const storeSerdes = { foreignKeySerde, primaryKeySerde, wrapperSerde, registrationTopic };

  const sendName = nameOf('-subscription-registration-processor', `${PREFIX}SUBSCRIPTION-REGISTRATION-`);
  graph.addProcessor({ name: sendName, parents: [left.nodeName], supplier: subscriptionSend(extractor, serdes, leftJoin), stores: [] });
  const registrationSink = nameOf('-subscription-registration-sink', 'KTABLE-SINK-');
  const registration = { name: registrationTopic, internal: true };
  // TableJoined's otherPartitioner: a subscription goes where the right table keeps its foreign key.
  const { otherPartitioner, partitioner: leftPartitioner } = partitioners;
  const registrationPartitioner =
    otherPartitioner === undefined ? undefined : (topic: string, key: unknown, _value: unknown, n: number) => otherPartitioner(topic, key, undefined, n);
  graph.addSink({
    name: registrationSink,
    parents: [sendName],
    topic: registration,
    keySerde: foreignKeySerde,
    valueSerde: wrapperSerde,
    ...(registrationPartitioner === undefined ? {} : { partitioner: registrationPartitioner }),
  });
  const registrationSource = nameOf('-subscription-registration-source', 'KTABLE-SOURCE-');
  graph.addSource({ name: registrationSource, topics: [registration], keySerde: foreignKeySerde, valueSerde: wrapperSerde });
  graph.addRepartitionTopic({ name: registrationTopic });
  graph.addCopartitionGroup(registrationSource, [registrationSource, right.nodeName]);

  const storeName = nameOf('-subscription-store', `${PREFIX}SUBSCRIPTION-STATE-STORE-`);
  // In memory (rebuilt from its changelog): a right-side change scans it synchronously for its subscribers.
  graph.addStore(bufferStore(storeName));
  const receiveName = nameOf('-subscription-receive', `${PREFIX}SUBSCRIPTION-PROCESSOR-`);
  graph.addProcessor({ name: receiveName, parents: [registrationSource], supplier: subscriptionReceive(storeName, storeSerdes), stores: [storeName] });
  const rightValues = right.producer.view();
  const subscriptionJoinName = nameOf('-subscription-join-foreign', `${PREFIX}SUBSCRIPTION-PROCESSOR-`);
  graph.addProcessor({ name: subscriptionJoinName, parents: [receiveName], supplier: subscriptionJoin(rightValues), stores: [] });
  for (const store of rightValues.storeNames) graph.connectStore(subscriptionJoinName, store);
  const foreignJoinName = nameOf('-foreign-join-subscription', `${PREFIX}SUBSCRIPTION-PROCESSOR-`);
  graph.addProcessor({ name: foreignJoinName, parents: [right.nodeName], supplier: foreignTableJoin(storeName, storeSerdes), stores: [storeName] });

  const responseTopic = `${nameOf('-subscription-response', `${PREFIX}SUBSCRIPTION-RESPONSE-`)}-topic`;
  const response = { name: responseTopic, internal: true };
  const responseSerde = responseWrapperSerde(foreignValueSerde) as Serde<unknown>;
  const responseSink = nameOf('-subscription-response-sink', 'KTABLE-SINK-');
  // Each answer goes back to the partition of the left record that subscribed, or where TableJoined's
  // partitioner places its key (Kafka Streams' foreignResponseSinkPartitioner).
  const partitioner =
    leftPartitioner !== undefined
      ? (topic: string, key: unknown, _value: unknown, n: number) => leftPartitioner(topic, key, undefined, n)
      : (_topic: string, _key: unknown, value: unknown): number | undefined => {
          const partition = (value as ResponseWrapper).primaryPartition;
          return partition < 0 ? undefined : partition;
        };
  graph.addSink({ name: responseSink, parents: [subscriptionJoinName, foreignJoinName], topic: response, keySerde: primaryKeySerde, valueSerde: responseSerde, partitioner });
  const responseSource = nameOf('-subscription-response-source', 'KTABLE-SOURCE-');
  graph.addSource({ name: responseSource, topics: [response], keySerde: primaryKeySerde, valueSerde: responseSerde });
  graph.addRepartitionTopic({ name: responseTopic });
  graph.addCopartitionGroup(responseSource, [responseSource, left.nodeName]);

  const leftValues = left.producer.view();
  const resolverName = nameOf('-subscription-response-resolver', `${PREFIX}SUBSCRIPTION-RESPONSE-RESOLVER-PROCESSOR-`);
  graph.addProcessor({ name: resolverName, parents: [responseSource], supplier: responseJoin(leftValues, serdes, joiner, leftJoin), stores: [] });
  for (const store of leftValues.storeNames) graph.connectStore(resolverName, store);

  const resultName = nameOf('-result', `${PREFIX}OUTPUT-`);
  const resultStore = materialized?.storeName ?? graph.newStoreName(`${PREFIX}OUTPUT-`);
  const keySerde = materialized?.keySerde ?? primaryKeySerde;
  const resultValues =
    materialized?.storeName !== undefined
      ? graph.serdeFor('value', `Store '${resultStore}' of a foreign-key join`, "pass Materialized.as<K, V>('name').withValueSerde(serde)", materialized.valueSerde)
      : (materialized?.valueSerde ?? graph.defaults.defaultValueSerde ?? unknownResultSerde(resultStore));
  const producer = addTableSource(graph, resolverName, resultName, resultStore, materialized, keySerde, resultValues);
  return { name: resultName, producer, keySerde };
}

/** A result that is materialized only later (joined or grouped downstream) and has no value serde: fails when used. */
function unknownResultSerde(store: string): Serde<unknown> {
  const fail = (): never => {
    throw new TopologyError(`The store '${store}' of a foreign-key join needs a value serde: pass Materialized.with(keySerde, valueSerde) to the join.`);
  };
  return { name: 'missing', serialize: fail, deserialize: fail };
}
