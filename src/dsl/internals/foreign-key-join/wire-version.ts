/** The version of the foreign-key join's wire formats that this release writes and reads. */
export const WIRE_VERSION = 1;

/**
 * Checks the version byte of a subscription or response: a newer version was written by a newer release
 * (during a rolling upgrade), and misreading it would corrupt the join, so it fails instead.
 */
export function wrapperVersion(bytes: Buffer, what: string): void {
  const version = bytes.readUInt8(0);
  if (version !== WIRE_VERSION) {
    throw new Error(`A foreign-key join ${what} of version ${version} cannot be read by this release (it reads version ${WIRE_VERSION}).`);
  }
}
