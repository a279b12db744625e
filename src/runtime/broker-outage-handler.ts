import type { Admin } from '../client/admin.js';
import { isClientError } from '../client/client-error.js';
import type { GroupConsumer } from '../client/group-consumer.js';
import type { ResolvedStreamsConfig } from '../config/streams-config.js';
import { asError } from '../errors/as-error.js';
import type { Topology } from '../processor/topology.js';
import { BrokerOutage } from './broker-outage.js';
import type { TaskManager } from './task-manager.js';
import type { ThreadState } from './thread-state.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * How a thread rides out a broker it cannot reach: suspend every task (close it without committing; under
 * exactly-once its open transaction is aborted by the next producer of its id), wait until the broker
 * answers, restart the consumer if it crashed for good, then re-create the assigned tasks from their last
 * commit, as after a rebalance. Meanwhile the instance is REBALANCING and kafkajs' consumer rejoins the
 * group by itself. The outage becomes fatal after brokerUnavailableTimeoutMs (see BrokerOutage).
 */
export class BrokerOutageHandler {
  private readonly outage: BrokerOutage;
  /** The suspend-wait-resume cycle of a broker outage in progress. */
  private recovery: Promise<void> | undefined;

  constructor(
    private readonly config: ResolvedStreamsConfig,
    private readonly topology: Topology,
    private readonly state: ThreadState,
    private readonly manager: Pick<TaskManager, 'suspendAll' | 'reconcileAgain'>,
    private readonly consumer: () => GroupConsumer,
    private readonly admin: () => Admin,
    private readonly fail: (error: Error) => void,
  ) {
    this.outage = new BrokerOutage(config.brokerUnavailableTimeoutMs, config.logger);
  }

  /** Resolves once the outage in progress (if any) has been ridden out, or given up. */
  settled(): Promise<void> {
    return this.recovery?.catch(() => {}) ?? Promise.resolve();
  }

  /** The broker cannot be reached: starts riding the outage out, unless that is already under way. */
  brokerUnavailable(error: Error): void {
    const fatal = this.outage.report(error);
    if (fatal !== undefined) {
      this.fail(fatal);
      return;
    }
    this.state.rebalanceStarted();
    if (this.recovery !== undefined) return;
    // Fatal on time even while a kafkajs call is still retrying.
    const deadline = setTimeout(() => {
      const expired = this.outage.expired(error);
      if (expired !== undefined) this.fail(expired);
    }, Math.max(0, this.config.brokerUnavailableTimeoutMs - this.outage.elapsedMs) + 10);
    deadline.unref();
    this.recovery = this.rideOutOutage(error).finally(() => {
      clearTimeout(deadline);
      this.recovery = undefined;
    });
  }

  private async rideOutOutage(first: Error): Promise<void> {
    let last = first;
    for (;;) {
      await this.manager.suspendAll();
      if (!(await this.waitForBroker(last))) return;
      if (this.state.consumerDown) {
        try {
          await this.consumer().connect();
          await this.consumer().run();
          this.state.consumerRestarted();
        } catch (err) {
          last = asError(err);
          continue;
        }
      }
      if (this.state.membershipLost) {
        // Crashed for good meanwhile (after the check above): restart it first.
        if (this.state.consumerDown) continue;
        // The last assignment is void: the join of the restarted consumer re-creates the tasks.
        if (!this.state.stopped) this.outage.ended();
        return;
      }
      try {
        await this.manager.reconcileAgain();
      } catch (err) {
        if (this.state.stopped) return;
        if (!isClientError(err, 'unavailable')) {
          this.fail(asError(err));
          return;
        }
        last = asError(err);
        this.outage.stillUnavailable(last);
        const fatal = this.outage.report(last);
        if (fatal !== undefined) {
          this.fail(fatal);
          return;
        }
        continue;
      }
      if (!this.state.stopped) this.outage.ended();
      return;
    }
  }

  /** Polls the group coordinator until it answers; false when the thread stopped or the outage became fatal. */
  private async waitForBroker(first: Error): Promise<boolean> {
    let last = first;
    for (let delay = 200; ; delay = Math.min(delay * 2, 3000)) {
      if (this.state.stopped) return false;
      const fatal = this.outage.expired(last);
      if (fatal !== undefined) {
        this.fail(fatal);
        return false;
      }
      try {
        await this.admin().fetchOffsets({ groupId: this.config.applicationId, topics: this.topology.subtopologies[0]!.sourceTopics.slice(0, 1) });
        return !this.state.stopped;
      } catch (err) {
        last = asError(err);
        this.outage.stillUnavailable(last);
      }
      await sleep(delay);
    }
  }
}
