/**
 * `npx tsx bench/fk-prefix-scan.ts`: no broker. A foreign-key join in the TopologyTestDriver holding
 * FK_SUBSCRIPTIONS subscriptions (default 100 000 orders, FK_PER_KEY (default 10) per customer), then
 * FK_UPDATES updates of the right table (default 10 000 customers' rows, each answering its subscribers).
 * Prints the time of the updates and per update; compare two commits by running it on each (the figures
 * depend on the machine, their ratio does not much).
 */
import { Consumed, Produced, Serdes, StreamsBuilder, TopologyTestDriver } from '../src/index.js';

const subscriptions = Number(process.env.FK_SUBSCRIPTIONS ?? 100_000);
const perKey = Number(process.env.FK_PER_KEY ?? 10);
const updates = Number(process.env.FK_UPDATES ?? 10_000);
const customers = Math.max(1, Math.floor(subscriptions / perKey));

const S = Serdes.String();
const builder = new StreamsBuilder();
const orders = builder.table('orders', Consumed.with(S, S));
const customerTable = builder.table('customers', Consumed.with(S, S));
orders
  .join(customerTable, (order: string) => order.split(':')[0]!, (order: string, tier: string) => `${order}/${tier}`)
  .toStream()
  .to('out', Produced.with(S, S));
const driver = new TopologyTestDriver(builder.build({ applicationId: 'fk-bench' }));
const orderInput = driver.createInputTopic('orders', S, S);
const customerInput = driver.createInputTopic('customers', S, S);
const output = driver.createOutputTopic('out', S, S);

const customerId = (i: number): string => `c${String(i % customers).padStart(7, '0')}`;
let started = performance.now();
for (let i = 0; i < subscriptions; i++) orderInput.pipeInput(`o${String(i).padStart(8, '0')}`, `${customerId(i)}:item${i}`, i);
const loadMs = performance.now() - started;

let results = 0;
started = performance.now();
for (let u = 0; u < updates; u++) {
  // Spread over the customers, so that each update answers FK_PER_KEY subscribers.
  customerInput.pipeInput(customerId((u * 7919) % customers), `tier${u}`, subscriptions + u);
  if (u % 1000 === 999) results += output.readRecordsToList().length;
}
const updateMs = performance.now() - started;
results += output.readRecordsToList().length;
driver.close();

console.log(
  JSON.stringify({
    subscriptions,
    perKey,
    updates,
    results,
    loadSeconds: +(loadMs / 1000).toFixed(2),
    updateSeconds: +(updateMs / 1000).toFixed(2),
    microsPerUpdate: Math.round((updateMs * 1000) / updates),
  }),
);
