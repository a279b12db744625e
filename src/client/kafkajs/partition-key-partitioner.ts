import { Partitioners, type ICustomPartitioner } from 'kafkajs';

/**
 * kafkajs' default (Java-compatible murmur2) partitioner, hashing a record's `partitionKey` instead of its
 * key when it has one: a windowed key's inner key, so that a window result sent to a topic the task does not
 * know (picked by a TopicNameExtractor) lands where Kafka Streams' WindowedStreamPartitioner puts it, beside
 * the other results of its key.
 */
export const PartitionKeyPartitioner: ICustomPartitioner = () => {
  const byKey = Partitioners.DefaultPartitioner();
  return (args) => {
    const partitionKey = (args.message as { partitionKey?: Buffer }).partitionKey;
    return byKey(partitionKey === undefined ? args : { ...args, message: { ...args.message, key: partitionKey } });
  };
};
