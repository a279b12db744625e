import type { InternalBuilder } from './internals/internal-builder.js';
import type { Predicate } from './internals/processors/functions.js';
import { branch, passThrough } from './internals/processors/stateless.js';
import { KStream } from './kstream.js';
import type { Branched } from './options.js';

/**
 * The branches of `split()`. Add branches in order with `branch`, then finish with `defaultBranch()` or
 * `noDefaultBranch()`, which return the branches by name: `<split name><branch name or index>`.
 */
export class BranchedKStream<K, V> {
  private readonly predicates: Array<Predicate<unknown, unknown> | undefined> = [];
  private readonly branches: Array<Branched<K, V> | undefined> = [];

  /** @internal */
  constructor(
    private readonly graph: InternalBuilder,
    private readonly parent: KStream<K, V>,
    private readonly splitName: string,
    private readonly prefix: string,
  ) {}

  /** Adds a branch: the records that match `predicate` and no earlier branch, e.g. `.branch((k, v) => v.status >= 500, Branched.as('errors'))`. */
  branch(predicate: Predicate<K, V>, branched?: Branched<K, V>): this {
    this.predicates.push(predicate as Predicate<unknown, unknown>);
    this.branches.push(branched);
    return this;
  }

  /** Adds a last branch for the records no other branch took, and returns the branches by name. */
  defaultBranch(branched?: Branched<K, V>): Record<string, KStream<K, V>> {
    this.predicates.push(undefined);
    this.branches.push(branched);
    return this.finish();
  }

  /** Returns the branches by name; records no branch took are dropped. */
  noDefaultBranch(): Record<string, KStream<K, V>> {
    return this.finish();
  }

  private finish(): Record<string, KStream<K, V>> {
    const names = this.branches.map((b, i) => `${this.prefix}${b?.name ?? String(i + 1)}`);
    this.graph.addProcessor({
      name: this.splitName,
      parents: [this.parent.nodeName],
      supplier: branch(this.predicates, names),
      stores: [],
    });
    const result: Record<string, KStream<K, V>> = {};
    names.forEach((name, i) => {
      this.graph.addProcessor({ name, parents: [this.splitName], supplier: passThrough(), stores: [] });
      const stream = new KStream<K, V>(this.graph, name, this.parent.keySerde, this.parent.valueSerde, this.parent.repartitionRequired);
      const chained = this.branches[i]?.chain?.(stream);
      if (this.branches[i]?.chain === undefined) result[name] = stream;
      else if (chained instanceof KStream) result[name] = chained;
    });
    return result;
  }
}
