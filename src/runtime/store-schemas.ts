import { isSchemaEvolving } from '../serdes/avro-serde.js';
import type { StoreDefinition } from '../processor/store-definition.js';
import { rabinFingerprint } from '../serdes/rabin-fingerprint.js';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Topology } from '../processor/topology.js';
import { LocalStores, type LocalBytesStore } from '../stores/local-store.js';

const SCHEMA_PREFIX = 'schema:';

/**
 * Writer schemas of a store's values, for serdes that evolve (Avro): kept in the store's LevelDB metadata
 * and in schema records of the changelog (written by ChangeLogging, see changelog-schemas.ts), taught to
 * the serde before any value written with them is read.
 */
export const StoreSchemas = {
  /**
   * Teaches the serde every schema the local store was written with, then records the current one. Throws
   * SchemaEvolutionError before anything is written when the current schema cannot read an old one.
   */
  async checkLocal(definition: StoreDefinition, store: LocalBytesStore, record = true): Promise<void> {
    const serde = definition.valueSerde;
    if (!isSchemaEvolving(serde)) return;
    for (const [, schema] of await store.metadata(SCHEMA_PREFIX)) serde.learnWriterSchema(schema.toString(), definition.name);
    if (record) await store.putMetadata(`${SCHEMA_PREFIX}${rabinFingerprint(serde.writerSchema).toString('hex')}`, Buffer.from(serde.writerSchema));
  },

  /**
   * Checks every local store of the application under `stateDir` (read-only) before the instance joins its
   * group, so that an incompatible upgrade fails `start()` and leaves state untouched.
   */
  async checkStateDir(topology: Topology, stateDir: string, applicationId: string): Promise<void> {
    const root = join(stateDir, applicationId);
    if (!existsSync(root)) return;
    for (const taskDir of readdirSync(root)) {
      for (const definition of topology.stores.values()) {
        if (!definition.persistent || !isSchemaEvolving(definition.valueSerde)) continue;
        const path = join(root, taskDir, definition.name);
        if (!existsSync(path)) continue;
        let store: LocalBytesStore;
        try {
          store = await LocalStores.open(definition, path);
        } catch {
          continue; // a store that cannot open is wiped and restored by its task anyway
        }
        try {
          await StoreSchemas.checkLocal(definition, store, false);
        } finally {
          await store.close();
        }
      }
    }
  },

  /** Schemas met in the changelog (schema records, or headers of the earlier format) during restoration: learned (and recorded locally) before applying. */
  async learnFromChangelog(definition: StoreDefinition, schemas: ReadonlySet<string>, store: LocalBytesStore | undefined): Promise<void> {
    const serde = definition.valueSerde;
    if (!isSchemaEvolving(serde)) return;
    for (const schema of schemas) {
      serde.learnWriterSchema(schema, definition.name);
      await store?.putMetadata(`${SCHEMA_PREFIX}${rabinFingerprint(schema).toString('hex')}`, Buffer.from(schema));
    }
  },
};
