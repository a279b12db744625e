import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/index.js';
import { resolveConfig } from '../../src/config/streams-config.js';

const base = { applicationId: 'app', bootstrapServers: ['127.0.0.1:9092'] };

describe('resolveConfig', () => {
  const saved = process.env.KSTREAMS_LOG_LEVEL;
  afterEach(() => {
    if (saved === undefined) delete process.env.KSTREAMS_LOG_LEVEL;
    else process.env.KSTREAMS_LOG_LEVEL = saved;
  });

  it('createTopics: off by default, broker defaults with true, checked counts with an object', () => {
    expect(resolveConfig(base).createTopics).toBeUndefined();
    expect(resolveConfig({ ...base, createTopics: true }).createTopics).toEqual({ partitions: -1, replicationFactor: -1, configs: {} });
    expect(resolveConfig({ ...base, createTopics: { partitions: 6, configs: { 'retention.ms': '1000' } } }).createTopics).toEqual({
      partitions: 6,
      replicationFactor: -1,
      configs: { 'retention.ms': '1000' },
    });
    expect(() => resolveConfig({ ...base, createTopics: { partitions: 0 } })).toThrow(/createTopics\.partitions/);
  });

  it('fetch bounds: 256 KiB per partition and 4 MiB per fetch by default, too small a bound is named', () => {
    const resolved = resolveConfig(base);
    expect(resolved.maxPartitionFetchBytes).toBe(256 * 1024);
    expect(resolved.fetchMaxBytes).toBe(4 * 1024 * 1024);
    expect(resolveConfig({ ...base, maxPartitionFetchBytes: 65_536 }).maxPartitionFetchBytes).toBe(65_536);
    expect(() => resolveConfig({ ...base, maxPartitionFetchBytes: 0 })).toThrow(/maxPartitionFetchBytes must be an integer >= 1024/);
    expect(() => resolveConfig({ ...base, fetchMaxBytes: 1.5 })).toThrow(/fetchMaxBytes/);
  });

  it('KSTREAMS_LOG_LEVEL is the default level, and a wrong one is named', () => {
    process.env.KSTREAMS_LOG_LEVEL = 'loud';
    expect(() => resolveConfig(base)).toThrow(ConfigError);
    expect(() => resolveConfig(base)).toThrow(/KSTREAMS_LOG_LEVEL must be one of/);
    // An explicit level wins: the variable is not even read.
    expect(() => resolveConfig({ ...base, logLevel: 'warn' })).not.toThrow();
  });
});
