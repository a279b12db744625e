/**
 * `node --import tsx --import ./bench/lib/allocation-sampling.ts …`: samples every allocation of the process
 * (V8's sampling heap profiler, keeping objects that were collected since, so that it counts bytes allocated,
 * not bytes alive) from start to exit, and writes the profile to ALLOCATION_PROFILE (default
 * `allocation.heapprofile`). `tsx bench/allocation-top.ts <file>` prints where the bytes were allocated.
 */
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const session = new Session();
session.connect();
const post = (method: string, params: object = {}): Promise<unknown> =>
  new Promise((resolve, reject) => session.post(method, params, (err, result) => (err ? reject(err) : resolve(result))));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 65536, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });

// The bench processes end with process.exit: the profile is taken there, synchronously enough for a bench.
const exit = process.exit.bind(process);
process.exit = ((code?: number) => {
  session.post('HeapProfiler.stopSampling', {}, (err, result) => {
    if (err === null) writeFileSync(process.env.ALLOCATION_PROFILE ?? 'allocation.heapprofile', JSON.stringify((result as { profile: unknown }).profile));
    exit(code);
  });
}) as typeof process.exit;
