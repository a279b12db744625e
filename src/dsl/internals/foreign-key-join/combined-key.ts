/**
 * The key of the subscription store (Kafka Streams' CombinedKeySchema): the foreign key's length as an int32,
 * its bytes, then the primary key's bytes. All subscriptions to one foreign key share the prefix
 * `prefixOf(foreignKey)`, and sort by primary key bytes within it.
 */
export function combinedKey(foreignKey: Buffer, primaryKey: Buffer): Buffer {
  return Buffer.concat([prefixOf(foreignKey), primaryKey]);
}

export function prefixOf(foreignKey: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeInt32BE(foreignKey.length);
  return Buffer.concat([length, foreignKey]);
}
