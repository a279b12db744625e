/** `kstreams topics create`: a dry run lists what a topology needs; --execute creates the missing topics. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { brokers, uniqueName, withAdmin } from './kafka-env.js';

const { ConfigResourceTypes } = kafkajs;
const run = promisify(execFile);
const cli = (env: Record<string, string>, ...args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'src/cli/kstreams.ts', ...args], { env: { ...process.env, KAFKA_BROKERS: '', ...env } });

describe('kstreams topics create', () => {
  it('dry-runs by default, then creates the missing source and sink topics with --execute', async () => {
    const env = { PIPE_SOURCE: uniqueName('cli-in'), PIPE_SINK: uniqueName('cli-out'), PIPE_APP: uniqueName('cli-app') };
    const topology = ['--topology', 'test/integration/fixtures/pipe-topology.ts', '--bootstrap-servers', brokers().join(',')];
    const options = ['--partitions', '2', '--config', 'retention.ms=86400000'];

    const { stdout: dry } = await cli(env, 'topics', 'create', ...topology, ...options);
    expect(dry).toContain('Dry run: nothing created');
    expect(dry).toMatch(new RegExp(`source\\s+${env.PIPE_SOURCE}\\s+missing, would create: partitions 2, replication broker default, retention.ms=86400000`));
    expect(dry).toMatch(new RegExp(`sink\\s+${env.PIPE_SINK}\\s+missing, would create`));
    const before = await withAdmin((admin) => admin.listTopics());
    expect(before).not.toContain(env.PIPE_SOURCE);

    const { stdout } = await cli(env, 'topics', 'create', ...topology, ...options, '--execute');
    expect(stdout).toContain('Created 2 topic(s)');
    const { topics } = await withAdmin((admin) => admin.fetchTopicMetadata({ topics: [env.PIPE_SOURCE, env.PIPE_SINK] }));
    expect(topics.map((t) => t.partitions.length)).toEqual([2, 2]);
    const described = await withAdmin((admin) =>
      admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: env.PIPE_SINK, configNames: ['retention.ms'] }] }),
    );
    expect(described.resources[0]?.configEntries[0]?.configValue).toBe('86400000');

    const { stdout: again } = await cli(env, 'topics', 'create', ...topology);
    expect(again).toContain(': all exist.');
    expect(again).toMatch(new RegExp(`sink\\s+${env.PIPE_SINK}\\s+exists \\(2 partitions\\)`));
  });

  it("creates the dead-letter topics the module's config and --dead-letter-topic name", async () => {
    const env = {
      PIPE_SOURCE: uniqueName('cli-dlq-in'),
      PIPE_SINK: uniqueName('cli-dlq-out'),
      PIPE_APP: uniqueName('cli-dlq-app'),
      PIPE_DESERIALIZATION_DLQ: uniqueName('cli-dlq-unreadable'),
      PIPE_PROCESSING_DLQ: uniqueName('cli-dlq-failed'),
    };
    const extra = uniqueName('cli-dlq-extra');
    const topology = ['--topology', 'test/integration/fixtures/pipe-topology.ts', '--bootstrap-servers', brokers().join(',')];
    const letters = [env.PIPE_DESERIALIZATION_DLQ, env.PIPE_PROCESSING_DLQ, extra];

    const { stdout: dry } = await cli(env, 'topics', 'create', ...topology, '--dead-letter-topic', extra);
    for (const topic of letters) expect(dry).toMatch(new RegExp(`dead-letter\\s+${topic}\\s+missing, would create`));

    const { stdout } = await cli(env, 'topics', 'create', ...topology, '--dead-letter-topic', extra, '--partitions', '1', '--execute');
    expect(stdout).toContain('Created 5 topic(s)');
    const existing = await withAdmin((admin) => admin.listTopics());
    expect(letters.filter((t) => !existing.includes(t))).toEqual([]);

    const { stdout: again } = await cli(env, 'topics', 'create', ...topology);
    expect(again).toContain(': all exist.');
    expect(again).toMatch(new RegExp(`dead-letter\\s+${env.PIPE_PROCESSING_DLQ}\\s+exists \\(1 partitions\\)`));
  });

  it('prints its version', async () => {
    const { version } = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const { stdout } = await cli({}, '--version');
    expect(stdout.trim()).toBe(version);
  });
});
