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

  it('KSTREAMS_LOG_LEVEL is the default level, and a wrong one is named', () => {
    process.env.KSTREAMS_LOG_LEVEL = 'loud';
    expect(() => resolveConfig(base)).toThrow(ConfigError);
    expect(() => resolveConfig(base)).toThrow(/KSTREAMS_LOG_LEVEL must be one of/);
    // An explicit level wins: the variable is not even read.
    expect(() => resolveConfig({ ...base, logLevel: 'warn' })).not.toThrow();
  });
});
