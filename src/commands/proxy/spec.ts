/** `c8ytoken proxy`: its row of the command table (cli/commands.ts). Cheap: the runner loads only when the command runs. */
import { defineCommand } from '../command.js';
import { keys } from './keys.js';

export const spec = defineCommand({
  name: 'proxy',
  summary: 'local auth proxy: apps call http://127.0.0.1:8001/<path> (or /c8y/<path>) and the device credential is added and kept fresh',
  examples: [
    'c8ytoken proxy --keystore device.p12',
    'curl -s http://127.0.0.1:8001/inventory/managedObjects?pageSize=1',
    'c8ytoken proxy --listen unix:/run/c8ytoken/proxy.sock --socket-mode 0660 --socket-group c8yapps',
    'c8ytoken proxy --upstream-auth mtls --cert device.pem --key device.key',
    'c8ytoken proxy --listen 0.0.0.0:8443 --tls-cert gw.pem --tls-key gw.key --client-ca child-ca.pem',
    'c8ytoken proxy --json | jq -c \'select(.event == "access" and .status >= 400)\'',
  ],
  options: keys,
  optionHelp: {
    url: 'tenant URL: requests go to port 443 with the token (8443 with --upstream-auth mtls), the token request to 8443, unless the URL names a port',
    output: 'also keep the token in FILE (mode 0600), as watch does; default: a private file removed at exit',
  },
  notes:
    'A request keeps its method, query, body and headers (hop-by-hop ones and Host excepted); Authorization: Bearer TOKEN is added unless it carries its own. The token is refreshed at its half-life (as watch); a 401 gets one refresh shared by all requests and one retry (bodies up to 1 MiB are kept for it; a larger one is preceded by HEAD /tenant/currentTenant unless the token just worked). WebSocket upgrades are forwarded the same way. ' +
    'Refused without contacting anything: apps/... and *.js (unless --allow-ui), absolute URLs, CONNECT, a Host that is not loopback. GET /_c8ytoken/health (JSON; 503 when it cannot serve) and /_c8ytoken/metrics (Prometheus). ' +
    'Signals: SIGHUP reads the identity again and refreshes; SIGTERM stops accepting, lets requests finish for --drain-timeout, exits 143.',
  load: async () => (await import('./run.js')).run,
});
