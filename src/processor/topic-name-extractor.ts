import type { StreamRecord } from './record.js';

/** Chooses the output topic of a record, for `to(extractor)`. */
export type TopicNameExtractor<K, V> = (record: StreamRecord<K, V>) => string;
