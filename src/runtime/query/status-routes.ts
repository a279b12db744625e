import type { QueryBackend } from './query-backend.js';
import type { RouteAnswer, Forwarder } from './store-routes.js';
import { STATUS_PAGE_HTML } from './status-page-html.js';
import { topologySvg } from './topology-svg.js';

/**
 * The status page and its data: `/status` (the page), `/status.json` (the group's members, each with its
 * own figures asked of it: `/status/local.json`), `/status/topology.svg` (the diagram).
 */
export class StatusRoutes {
  private svg: string | undefined;

  constructor(
    private readonly backend: QueryBackend,
    private readonly forward: Forwarder,
  ) {}

  page(): string {
    return STATUS_PAGE_HTML;
  }

  topologySvg(): string {
    this.svg ??= topologySvg(this.backend.topology);
    return this.svg;
  }

  /** Every member of the group with its figures; a member that does not answer is listed as unreachable. */
  async group(): Promise<RouteAnswer> {
    let members: Awaited<ReturnType<QueryBackend['members']>> = [];
    let error: string | undefined;
    try {
      members = await this.backend.members();
    } catch (err) {
      error = `the group cannot be described now: ${(err as Error).message}`;
    }
    const instances = await Promise.all(
      members.map(async (member) => {
        if (member.applicationServer === this.backend.self) return { ...member, status: await this.backend.localStatus() };
        if (member.applicationServer === undefined) return { ...member, error: 'it sets no applicationServer' };
        try {
          const answer = await this.forward(member.applicationServer, '/status/local.json');
          if (answer.status !== 200) return { ...member, error: `it answered ${answer.status}` };
          return { ...member, status: JSON.parse(answer.body.toString('utf8')) as unknown };
        } catch (err) {
          return { ...member, error: (err as Error).message };
        }
      }),
    );
    return {
      status: 200,
      json: { applicationId: this.backend.topology.applicationId, self: this.backend.self, time: Date.now(), instances, ...(error === undefined ? {} : { error }) },
    };
  }
}
