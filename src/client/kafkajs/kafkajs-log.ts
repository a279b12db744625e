import { logLevel, type logCreator } from 'kafkajs';
import type { Logger } from '../../logging/logger.js';
import { isKafkajsErrorOfKind } from './kafkajs-errors.js';

/**
 * kafkajs' log lines through our logger. kafkajs logs retriable broker answers (coordinator loading,
 * rebalancing) as errors; what is fatal reaches us as an exception, so its log lines are warnings at most.
 * A broker that cannot be reached is logged once by the runtime ("broker unavailable"), not at every retry
 * and consumer restart.
 */
export function kafkajsLogCreator(logger: Logger): logCreator {
  return () =>
    ({ level, log }) => {
      const { message, ...fields } = log;
      const text = `kafkajs: ${message}`;
      const retriable =
        message.startsWith('Response ') ||
        message.includes('rebalancing') ||
        message.includes('concurrent operation') ||
        message.startsWith('Crash: ') ||
        message.startsWith('Restarting the consumer') ||
        // A fenced producer reaches the runtime as an exception, which logs what it means (a rebalance, mostly).
        isKafkajsErrorOfKind({ message }, 'fenced') ||
        // eslint-disable-next-line @typescript-eslint/no-base-to-string -- kafkajs passes a message string; String() covers anything else it might pass
        isKafkajsErrorOfKind({ message: `${message} ${String((fields as { error?: unknown }).error ?? '')}` }, 'unavailable');
      if (!retriable && (level === logLevel.ERROR || level === logLevel.WARN)) logger.warn(text, fields);
      else logger.debug(text, fields);
    };
}
