/** Window and session changelogs: compact,delete with the store's retention + an additional day, and how an
 * existing changelog of an earlier version (compact only) is received. */
import { describe, expect, it } from 'vitest';
import { Serdes } from '../../src/index.js';
import type { Logger } from '../../src/logging/logger.js';
import { changelogTopicConfig } from '../../src/processor/store-definition.js';
import { policyProblem } from '../../src/runtime/internal-topic-manager.js';
import { Stores } from '../../src/stores/stores.js';

const DAY = 86_400_000;

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  return { warnings, debug() {}, info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
}

describe('changelog topic config', () => {
  it('windowed stores: compact,delete, retention = store retention + additional retention (one day by default)', () => {
    const sessions = Stores.sessionStore('s', 60_000, Serdes.String(), Serdes.Int32());
    expect(changelogTopicConfig(sessions)).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(60_000 + DAY) });
    expect(changelogTopicConfig(sessions, 5_000)['retention.ms']).toBe('65000');
    const own = Stores.sessionStore('s', 60_000, Serdes.String(), Serdes.Int32(), { changelogConfig: { 'retention.ms': '1' } });
    expect(changelogTopicConfig(own, 5_000)['retention.ms']).toBe('1');
    expect(changelogTopicConfig(Stores.keyValueStore('kv', Serdes.String(), Serdes.Int32()))).toEqual({ 'cleanup.policy': 'compact' });
  });

  it('accepts an equal policy in any order, and a compact changelog where compact,delete is wanted (with a WARN)', () => {
    const logger = recordingLogger();
    expect(policyProblem('t', 'delete,compact', { 'cleanup.policy': 'compact,delete' }, logger)).toBeUndefined();
    expect(logger.warnings).toEqual([]);
    expect(policyProblem('t', 'compact', { 'cleanup.policy': 'compact,delete', 'retention.ms': '123' }, logger)).toBeUndefined();
    expect(logger.warnings[0]).toMatch(/--add-config cleanup.policy=\[compact,delete\],retention.ms=123/);
    // A key-value changelog with time deletion would lose data: refused.
    expect(policyProblem('t', 'compact,delete', { 'cleanup.policy': 'compact' }, logger)).toMatch(/needs compact/);
    expect(policyProblem('t', 'delete', { 'cleanup.policy': 'compact,delete' }, logger)).toMatch(/needs compact,delete/);
  });
});
