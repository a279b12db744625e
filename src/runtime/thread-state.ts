/** Where the parts of a thread report errors; the thread decides what they mean (see StreamThread). */
export interface ThreadErrors {
  /** A recoverable error (a broker away) or a fatal one: the thread decides. */
  handleError(error: Error): void;
  /** A fatal error: the thread stops processing. */
  fail(error: Error): void;
}

/**
 * The state of a stream thread, in one place: whether it closes or failed, whether its group is
 * rebalancing, and what its consumer lost when it crashed. The thread, its task manager, its input buffers
 * and its outage handler read it as it is now; each change is one small method, so who changes what can be
 * found by name. Single-threaded (the event loop): a read is never torn.
 */
export class ThreadState {
  private isClosing = false;
  private isFailed = false;
  private isRebalancing = true;
  private lostMembership = false;
  private down = false;

  /** `onRebalancing` hears every start of a rebalance (true) and every end of one (false). */
  constructor(private readonly onRebalancing: (rebalancing: boolean) => void) {}

  /** True once the thread closes or failed: from then on no task is created and no file written. */
  get stopped(): boolean {
    return this.isClosing || this.isFailed;
  }

  /** True once the thread failed: nothing after the last commit is trusted, so nothing more is committed. */
  get failed(): boolean {
    return this.isFailed;
  }

  /** The group is rebalancing (from the start until every assigned task runs): no periodic commit. */
  get rebalancing(): boolean {
    return this.isRebalancing;
  }

  /**
   * The consumer crashed: kafkajs dropped its group membership (a restarted consumer joins as a new member),
   * so the last assignment no longer gives us anything. No task is (re)created until the next join.
   */
  get membershipLost(): boolean {
    return this.lostMembership;
  }

  /** The consumer crashed without restarting itself (kafkajs gives up on some errors): restart it after an outage. */
  get consumerDown(): boolean {
    return this.down;
  }

  /** The thread fails; false when it had failed already or is closing (then there is nothing to report). */
  markFailed(): boolean {
    if (this.isFailed || this.isClosing) return false;
    this.isFailed = true;
    return true;
  }

  /** The thread closes; false when it was closing already. */
  markClosing(): boolean {
    if (this.isClosing) return false;
    this.isClosing = true;
    return true;
  }

  /** The group rebalances (or the broker is away, which ends the same way: tasks re-created on an assignment). */
  rebalanceStarted(): void {
    this.isRebalancing = true;
    this.onRebalancing(true);
  }

  /** Every assigned task runs: the rebalance is over for this member. */
  assignmentApplied(): void {
    this.isRebalancing = false;
    this.onRebalancing(false);
  }

  /** The consumer joined the group: its assignment is ours again. */
  joined(): void {
    this.lostMembership = false;
  }

  /** The consumer crashed and left the group; unless it restarts itself, it stays down until we restart it. */
  consumerCrashed(restarting: boolean): void {
    this.lostMembership = true;
    if (!restarting) this.down = true;
  }

  /** The consumer that was down runs again (it rejoins the group by itself). */
  consumerRestarted(): void {
    this.down = false;
  }
}
