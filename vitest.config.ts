import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts', 'examples/**/*.test.ts'],
          testTimeout: 20_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          // Kafka Streams' own TopologyTestDriver against ours (one JVM; Java 17 and Maven, see test/differential).
          name: 'differential',
          include: ['test/differential/**/*.test.ts'],
          testTimeout: 60_000,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          name: 'integration',
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
