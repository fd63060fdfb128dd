/**
 * What the proxy counts: the Prometheus metrics (GET /_c8ytoken/metrics); the health document
 * (core/token/health.ts) gives their token and certificate gauges. Data in, text out: no server here.
 */
import type { HealthDocument } from '../../core/token/health.js';

/** Upper bounds (seconds) of the upstream latency histogram. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The proxy's counters; rendered as Prometheus text exposition format 0.0.4. */
export class Metrics {
  readonly requests = new Map<string, number>();
  retries = 0;
  /** New tokens received from the platform (the token holder counts them). */
  refreshes: () => number = () => 0;
  refused = new Map<string, number>();
  bytesIn = 0;
  bytesOut = 0;
  inFlight = 0;
  private readonly latency = new Array<number>(BUCKETS.length + 1).fill(0);
  private latencySum = 0;
  private latencyCount = 0;

  /** One answered request, by status class (2xx ... 5xx). */
  countRequest(status: number): void {
    const cls = `${Math.floor(status / 100)}xx`;
    this.requests.set(cls, (this.requests.get(cls) ?? 0) + 1);
  }

  countRefused(reason: string): void {
    this.refused.set(reason, (this.refused.get(reason) ?? 0) + 1);
  }

  /** Time from sending a request upstream to its answer's headers. */
  observeLatency(seconds: number): void {
    const i = BUCKETS.findIndex((b) => seconds <= b);
    this.latency[i < 0 ? BUCKETS.length : i]! += 1;
    this.latencySum += seconds;
    this.latencyCount += 1;
  }

  /** The exposition text; the health document gives the token and certificate gauges. */
  render(health: HealthDocument, nowMs: number): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]): void => {
      lines.push(`# HELP c8ytoken_${name} ${help}`, `# TYPE c8ytoken_${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`c8ytoken_${name}${labels} ${value}`);
    };
    metric(
      'proxy_requests_total',
      'counter',
      'Requests answered, by status class.',
      ['2xx', '3xx', '4xx', '5xx'].map((c) => [`{class="${c}"}`, this.requests.get(c) ?? 0]),
    );
    metric(
      'proxy_refused_total',
      'counter',
      'Requests refused without contacting the platform, by reason.',
      [...this.refused].map(([r, n]) => [`{reason="${r}"}`, n]),
    );
    metric('proxy_retries_total', 'counter', 'Requests sent again after the platform answered 401.', [['', this.retries]]);
    metric('proxy_token_refreshes_total', 'counter', 'New tokens received from the platform.', [['', this.refreshes()]]);
    metric('proxy_in_flight', 'gauge', 'Requests being served.', [['', this.inFlight]]);
    metric('proxy_received_bytes_total', 'counter', 'Request body bytes received from clients.', [['', this.bytesIn]]);
    metric('proxy_sent_bytes_total', 'counter', 'Answer body bytes sent to clients.', [['', this.bytesOut]]);
    lines.push('# HELP c8ytoken_proxy_upstream_seconds Time from a request sent to the platform to its answer headers.', '# TYPE c8ytoken_proxy_upstream_seconds histogram');
    let cumulative = 0;
    BUCKETS.forEach((b, i) => {
      cumulative += this.latency[i]!;
      lines.push(`c8ytoken_proxy_upstream_seconds_bucket{le="${b}"} ${cumulative}`);
    });
    lines.push(`c8ytoken_proxy_upstream_seconds_bucket{le="+Inf"} ${this.latencyCount}`);
    lines.push(`c8ytoken_proxy_upstream_seconds_sum ${this.latencySum}`, `c8ytoken_proxy_upstream_seconds_count ${this.latencyCount}`);
    const tokenLeft = health.token?.expiresAt ? Math.round((Date.parse(health.token.expiresAt) - nowMs) / 1000) : undefined;
    if (tokenLeft !== undefined) metric('token_seconds_left', 'gauge', 'Seconds until the held token expires.', [['', tokenLeft]]);
    if (health.certificate) metric('certificate_seconds_left', 'gauge', 'Seconds until the device certificate expires.', [['', Math.round((Date.parse(health.certificate.notAfter) - nowMs) / 1000)]]);
    metric('up', 'gauge', '1 while the proxy can serve.', [['', health.ok ? 1 : 0]]);
    return `${lines.join('\n')}\n`;
  }
}
