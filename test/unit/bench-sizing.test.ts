/**
 * The pure parts of the Sizing benchmark (bench/): how LATENCY_RATES is read and a share of the maximum
 * resolved, how /proc and folders are measured, and how the Sizing table is printed. The benchmark itself
 * runs on a broker and is not a test.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseRates, rateFor } from '../../bench/lib/max-rate.js';
import { folderBytes, processCpuSeconds, residentMb } from '../../bench/lib/proc-stats.js';
import { sizingTable } from '../../bench/lib/sizing-table.js';

describe('LATENCY_RATES', () => {
  it('reads views/s and shares of the maximum', () => {
    expect(parseRates('2000, 10000,80%,12.5%')).toEqual([{ viewsPerSecond: 2000 }, { viewsPerSecond: 10000 }, { shareOfMax: 0.8 }, { shareOfMax: 0.125 }]);
  });

  it('names a token it cannot read', () => {
    expect(() => parseRates('2000,fast')).toThrow(/'fast' is neither views\/s/);
  });

  it('runs both contenders at the share of the slower maximum, and says whose', () => {
    const max = { guarantee: 'at_least_once' as const, events: 1000, commitMs: 1000, ours: 20_000, kafkaStreams: 25_000 };
    expect(rateFor({ shareOfMax: 0.8 }, max)).toEqual({ rate: 16_000, note: '80% of ours max 20000' });
    expect(rateFor({ shareOfMax: 0.8 }, { ...max, kafkaStreams: 10_000 })).toEqual({ rate: 8000, note: "80% of Kafka Streams' max 10000" });
    expect(rateFor({ viewsPerSecond: 2000 }, undefined)).toEqual({ rate: 2000, note: '' });
    expect(() => rateFor({ shareOfMax: 0.8 }, undefined)).toThrow(/measured first/);
  });
});

describe('process and folder figures', () => {
  it('reads this process: CPU seconds and resident memory', () => {
    expect(processCpuSeconds(process.pid)).toBeGreaterThan(0);
    expect(residentMb(process.pid)).toBeGreaterThan(1);
  });

  it('gives NaN for a process that is not there', () => {
    expect(processCpuSeconds(2 ** 30)).toBeNaN();
    expect(residentMb(2 ** 30)).toBeNaN();
  });

  it('sums the files of a folder and its subfolders', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-sizing-'));
    try {
      writeFileSync(join(dir, 'a'), Buffer.alloc(100));
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'b'), Buffer.alloc(23));
      expect(folderBytes(dir)).toBe(123);
      expect(folderBytes(join(dir, 'missing'))).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the Sizing table', () => {
  const header = ['| figure | ours | Kafka Streams 3.9.1 | ours ÷ KS | measured alone by |', '| --- | ---: | ---: | ---: | --- |'];

  it('prints only the rows of the suites that ran', () => {
    expect(sizingTable({})).toEqual(header);
  });

  it('prints open sessions, failover and latency beside Kafka Streams, with their ratios and commands', () => {
    const failover = (seconds: number, standbys: number) => ({ standbys, failoverSeconds: seconds, restoredRecords: 0, changelogRecords: 0 });
    const lines = sizingTable({
      openSessions: [
        { contender: 'ours', baselineRssMb: 100, steps: [[21_000, 120]], mbPer10kSessions: 10 },
        { contender: 'Kafka Streams', baselineRssMb: 200, steps: [[21_000, 240]], mbPer10kSessions: 20 },
      ],
      failover: { sessions: 20_000, without: failover(6, 0), kafkaStreams: { without: failover(8, 0), withStandby: failover(7, 1) } },
      latency: {
        maxRates: [{ guarantee: 'at_least_once', events: 30_000, commitMs: 1000, ours: 8152, kafkaStreams: 6233 }],
        runs: [{ guarantee: 'at_least_once', commitMs: 1000, rate: 4986, rateNote: "80% of Kafka Streams' max 6233", seconds: 5,
          ours: { p50: 849, p99: 1369 }, kafkaStreams: { p50: 1501, p99: 3119 } }],
      },
    });
    expect(lines.slice(2)).toEqual([
      '| memory per 10 000 open sessions (MB of RSS above the baseline, 20 000 opened) | 10 | 20 | 0.50 | `OPEN_SESSIONS=20000 npm run bench -- sessions` |',
      '| failover seconds, no standby (20 000 sessions, 6 s session timeout) | 6.0 | 8.0 | 0.75 | `FAILOVER_SESSIONS=20000 npm run bench -- failover` |',
      '| failover seconds, one standby replica | – | 7.0 | – | `FAILOVER_SESSIONS=20000 npm run bench -- failover` |',
      '| maximum views/s, one instance, at_least_once (backlog of 30 000, from RUNNING) | 8 152 | 6 233 | 1.31 | `LATENCY_RATES=80% LATENCY_MAX_EVENTS=30000 npm run bench -- latency` |',
      "| latency p50 / p99 (ms), at_least_once, commit 1000 ms, 4 986 views/s (80% of Kafka Streams' max 6233) | 849 / 1 369 | 1 501 / 3 119 | 0.44 (p99) | " +
        '`LATENCY_SECONDS=5 LATENCY_RATES=2000,10000,80% npm run bench -- latency` |',
    ]);
  });
});
