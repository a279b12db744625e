import { isSchemaEvolving } from '../serdes/avro-serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';

/** The changelog record header that names the writer schema of the record's value. */
export const SCHEMA_HEADER = 'kstreams.value.schema';

/** The headers a store's changelog records carry: the writer schema, when its value serde evolves (Avro). */
export function changelogHeaders(definition: StoreDefinition): Record<string, Buffer> {
  const serde = definition.valueSerde;
  return isSchemaEvolving(serde) ? { [SCHEMA_HEADER]: Buffer.from(serde.writerSchema) } : {};
}
