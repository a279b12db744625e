import { ConfigError } from '../errors/errors.js';

/** Milliseconds of an ISO-8601 duration such as `PT1H`, `P1DT12H`, `PT15M30S` (days and smaller units). */
export function parseIsoDuration(text: string): number {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text);
  if (match === null || text === 'P' || text.endsWith('T')) {
    throw new ConfigError(`'${text}' is not an ISO-8601 duration such as PT1H, P1DT12H or PT15M30S`);
  }
  const [, d, h, m, s] = match;
  return ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 + Math.round(Number(s ?? 0) * 1000);
}
