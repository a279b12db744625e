/**
 * How a serde names the registry subject of its schema, as Confluent's serializers do
 * (`key.subject.name.strategy` / `value.subject.name.strategy`).
 *
 * - `TopicNameStrategy` (the default): `<topic>-key` or `<topic>-value`; one schema per topic.
 * - `RecordNameStrategy`: the record's full name (`<namespace>.<name>`; a JSON schema's `title`); one
 *   schema per record type, whatever the topic.
 * - `TopicRecordNameStrategy`: `<topic>-<full name>`; several record types per topic.
 * - A function: any other naming.
 *
 * Records a serde writes to a store (no topic) use the subject of the store's changelog topic,
 * `<applicationId>-<storeName>-changelog`, as Kafka Streams does.
 */
export type SubjectNameStrategy =
  | 'TopicNameStrategy'
  | 'RecordNameStrategy'
  | 'TopicRecordNameStrategy'
  | ((topic: string, isKey: boolean, recordName: string | undefined) => string);

/** The subject of `topic`'s keys or values under `strategy`. */
export function subjectName(strategy: SubjectNameStrategy, topic: string, isKey: boolean, recordName: string | undefined): string {
  if (typeof strategy === 'function') return strategy(topic, isKey, recordName);
  if (strategy === 'TopicNameStrategy') return `${topic}-${isKey ? 'key' : 'value'}`;
  if (recordName === undefined) {
    throw new Error(`${strategy} needs a record name: give the serde a schema with a name (a JSON schema: a title)`);
  }
  return strategy === 'RecordNameStrategy' ? recordName : `${topic}-${recordName}`;
}
