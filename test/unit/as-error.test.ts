import { describe, expect, it } from 'vitest';
import { asError } from '../../src/errors/as-error.js';
import { StreamsRuntimeError } from '../../src/errors/errors.js';

describe('asError', () => {
  it('returns an Error as it is and wraps anything else', () => {
    const err = new StreamsRuntimeError('x');
    expect(asError(err)).toBe(err);
    expect(asError('boom')).toEqual(new Error('boom'));
    expect(asError(undefined).message).toBe('undefined');
  });
});
