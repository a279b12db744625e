/** Kafka Streams' client states. */
export type KafkaStreamsState = 'CREATED' | 'REBALANCING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

/** What to do after a fatal processing error, as Kafka Streams' StreamsUncaughtExceptionHandler answers. */
export type StreamThreadExceptionResponse = 'SHUTDOWN_CLIENT' | 'REPLACE_THREAD' | 'SHUTDOWN_APPLICATION';

/** Called on every state change of an instance (see `KafkaStreams.on('stateChange', ...)`). */
export type StateListener = (next: KafkaStreamsState, previous: KafkaStreamsState) => void;

/** The states each state may move to; KafkaStreams ignores any other move. */
export const TRANSITIONS: Readonly<Record<KafkaStreamsState, readonly KafkaStreamsState[]>> = {
  CREATED: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  REBALANCING: ['RUNNING', 'REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  RUNNING: ['REBALANCING', 'PENDING_SHUTDOWN', 'ERROR'],
  PENDING_SHUTDOWN: ['NOT_RUNNING', 'ERROR'],
  NOT_RUNNING: [],
  ERROR: ['PENDING_SHUTDOWN'],
};
