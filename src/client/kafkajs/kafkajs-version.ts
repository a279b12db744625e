import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** The kafkajs release whose internals the patches and internals of this folder were written against. */
export const KAFKAJS_VERSION = '2.2.4';

/** Throws unless the installed kafkajs is the pinned release: its internals may differ in any other. */
export function checkKafkajsVersion(): void {
  const { version } = require('kafkajs/package.json') as { version: string };
  if (version !== KAFKAJS_VERSION) {
    throw new Error(
      `kstreams-ts needs kafkajs ${KAFKAJS_VERSION} (it patches and uses its internals), found ${version}: install kafkajs@${KAFKAJS_VERSION}`,
    );
  }
}
