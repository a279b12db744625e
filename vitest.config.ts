import { defineConfig } from 'vitest/config';

// The library's default logger writes JSON lines straight to stderr, past vitest's capture: silent in tests
// unless asked for (KSTREAMS_LOG_LEVEL=warn npx vitest ... to see them). Console output of tests shows only
// for failed tests.
const env = { KSTREAMS_LOG_LEVEL: process.env.KSTREAMS_LOG_LEVEL ?? 'silent' };

export default defineConfig({
  test: {
    silent: 'passed-only',
    projects: [
      {
        test: {
          name: 'unit',
          env,
          include: ['test/unit/**/*.test.ts', 'examples/**/*.test.ts'],
          // A limit for hangs, not for speed: the property tests take ~5 s alone and several times that on a
          // loaded 2-core machine.
          testTimeout: 90_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          // Kafka Streams' own TopologyTestDriver against ours (one JVM; Java 17 and Maven, see test/differential).
          name: 'differential',
          env,
          include: ['test/differential/**/*.test.ts'],
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
          env,
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/setup/broker.ts'],
          // Tests share one broker and each runs real consumer groups: few files at a time on 2 cores.
          fileParallelism: true,
          maxWorkers: 2,
          sequence: { groupOrder: 1 },
          testTimeout: 420_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
