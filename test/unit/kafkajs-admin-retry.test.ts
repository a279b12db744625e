/**
 * Offset lookups ride out moving partition leadership: kafkajs fails a ListOffsets on the first NOT_LEADER
 * answer (a CI run failed so, right after the runtime created its topics). The client asks again after
 * refreshing the topic's metadata, for a bounded time; other errors reach the caller at once.
 */
import type { Admin as KafkajsAdminClient } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { KafkajsAdmin } from '../../src/client/kafkajs/kafkajs-admin.js';

function protocolError(type: string): Error {
  return Object.assign(new Error(type), { name: 'KafkaJSProtocolError', type });
}

/** A kafkajs admin whose lookups answer with the given errors first. */
function adminAnswering(errors: Error[]): { admin: KafkajsAdmin; calls: string[] } {
  const calls: string[] = [];
  const fake = {
    fetchTopicOffsets: async (topic: string) => {
      calls.push(`offsets ${topic}`);
      const error = errors.shift();
      if (error !== undefined) throw error;
      return [{ partition: 0, offset: '7', high: '7', low: '0' }];
    },
    fetchTopicMetadata: async ({ topics }: { topics: string[] }) => {
      calls.push(`metadata ${topics.join(',')}`);
      return { topics: [] };
    },
  };
  return { admin: new KafkajsAdmin(fake as unknown as KafkajsAdminClient), calls };
}

describe('offset lookups while leadership moves', () => {
  it('refresh the metadata and ask again after NOT_LEADER answers', async () => {
    const { admin, calls } = adminAnswering([protocolError('NOT_LEADER_FOR_PARTITION'), protocolError('LEADER_NOT_AVAILABLE')]);
    await expect(admin.fetchTopicOffsets('views')).resolves.toEqual([{ partition: 0, offset: '7', high: '7', low: '0' }]);
    expect(calls).toEqual(['offsets views', 'metadata views', 'offsets views', 'metadata views', 'offsets views']);
  });

  it('pass any other error to the caller at once', async () => {
    const { admin, calls } = adminAnswering([protocolError('TOPIC_AUTHORIZATION_FAILED')]);
    await expect(admin.fetchTopicOffsets('views')).rejects.toThrow('TOPIC_AUTHORIZATION_FAILED');
    expect(calls).toEqual(['offsets views']);
  });
});
