import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import type { KafkaStreams } from '../../src/index.js';

/**
 * The applications and state folders a test file starts: push them here, and after each test every app is
 * closed and every folder removed (call once, at the top of the file).
 */
export function appsUnderTest(): { apps: KafkaStreams[]; dirs: string[] } {
  const apps: KafkaStreams[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close().catch(() => {})));
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });
  return { apps, dirs };
}
