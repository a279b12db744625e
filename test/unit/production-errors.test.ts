import { describe, expect, it } from 'vitest';
import { Consumed, ProductionError, Produced, Serdes, StreamsBuilder, TopologyTestDriver, type Serde } from '../../src/index.js';

/** A serde that cannot write the value 'poison'. */
const picky: Serde<string> = {
  name: 'Picky',
  serialize: (value) => {
    if (value === 'poison') throw new Error('cannot write poison');
    return Buffer.from(value);
  },
  deserialize: (bytes) => bytes.toString(),
};

function topology() {
  const builder = new StreamsBuilder();
  builder.stream('in', Consumed.with(Serdes.String(), Serdes.String())).mapValues((v) => (v === 'big' ? 'x'.repeat(2048) : v)).to('out', Produced.with(Serdes.String(), picky));
  return builder.build({ applicationId: 'production' });
}

describe('production exception handler', () => {
  it('fails by default, naming the sink, topic and input record', () => {
    const driver = new TopologyTestDriver(topology());
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    expect(() => input.pipeInput('k', 'poison')).toThrow(ProductionError);
    expect(() => input.pipeInput('k', 'poison')).toThrow(/topic out \(from in-0@\d+\) could not be serialized .*cannot write poison/);
  });

  it("with 'continue', drops records that cannot be written or are too large, and keeps going", () => {
    const driver = new TopologyTestDriver(topology(), { productionExceptionHandler: 'continue', maxRecordBytes: 1024 });
    const input = driver.createInputTopic('in', Serdes.String(), Serdes.String());
    const output = driver.createOutputTopic('out', Serdes.String(), Serdes.String());
    input.pipeInput('a', 'ok-1');
    input.pipeInput('b', 'poison');
    input.pipeInput('c', 'big');
    input.pipeInput('d', 'ok-2');
    expect(output.readKeyValuesToList()).toEqual([
      { key: 'a', value: 'ok-1' },
      { key: 'd', value: 'ok-2' },
    ]);
  });
});
