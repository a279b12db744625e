/**
 * Avro's 64-bit Rabin fingerprint (CRC-64-AVRO) of a schema's Parsing Canonical Form, as the Avro
 * specification defines it for single-object encoding. Computed once per schema, so BigInt is fine here.
 */
const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
    table.push(fp);
  }
  return table;
})();

/** The fingerprint as 8 little-endian bytes (the layout single-object encoding puts after its marker). */
export function rabinFingerprint(canonicalSchema: string): Buffer {
  let fp = EMPTY;
  for (const byte of Buffer.from(canonicalSchema, 'utf8')) fp = (fp >> 8n) ^ TABLE[Number((fp ^ BigInt(byte)) & 0xffn)]!;
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp & MASK);
  return out;
}
