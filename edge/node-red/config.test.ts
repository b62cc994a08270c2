// edge.yaml's nodeRed section: an editor that can deploy code into the edge never starts without a login,
// except on loopback when allowed in so many words.
import t from 'tap';
import { parseEdgeConfig } from '../config.js';

const HASH = '$2b$10$' + 'a'.repeat(53);
const base = (nodeRed: string) => `
edge: { id: town-nr, dataDir: ./data }
cloud: { url: http://127.0.0.1:8080, token: gse_x }
devices: []
nodeRed: ${nodeRed}
`;
const parse = (nodeRed: string) => parseEdgeConfig(base(nodeRed), '/tmp/edge.yaml');

t.test('defaults: loopback, port 1880, not enabled; the login as given', async (t) => {
  t.same(parse(`{ adminUser: technician, adminPasswordHash: "${HASH}" }`).nodeRed, { enabled: false, host: '127.0.0.1', port: 1880, admin: { user: 'technician', passwordHash: HASH } });
  t.same(parse('{ enabled: true, allowNoAuth: true, port: 0 }').nodeRed, { enabled: true, host: '127.0.0.1', port: 0 }, 'no login on loopback when allowed');
  t.equal(parseEdgeConfig(base('{}').replace('nodeRed: {}', ''), '/tmp/edge.yaml').nodeRed, undefined, 'no section, no editor settings');
});

t.test('every unsafe or broken section is GS_ERR_CONFIG_INVALID with its path and line', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['{ enabled: true }', '/nodeRed', /needs adminUser and adminPasswordHash/],
    ['{ host: 0.0.0.0, allowNoAuth: true }', '/nodeRed/allowNoAuth', /only allowed on a loopback address, not 0\.0\.0\.0/],
    ['{ adminUser: technician }', '/nodeRed/adminPasswordHash', /go together/],
    [`{ adminPasswordHash: "${HASH}" }`, '/nodeRed/adminUser', /go together/],
    ['{ adminUser: technician, adminPasswordHash: "plain-password" }', '/nodeRed/adminPasswordHash', /pattern/],
    [`{ adminUser: technician, adminPasswordHash: "${HASH}", allowNoAuth: true }`, '/nodeRed/allowNoAuth', /not both/],
    [`{ adminUser: technician, adminPasswordHash: "${HASH}", port: 70000 }`, '/nodeRed/port', /65535/],
    [`{ adminUser: technician, adminPasswordHash: "${HASH}", editor: true }`, '/nodeRed/editor', /not a known field/],
  ];
  for (const [section, path, message] of cases) {
    const err = t.throws(() => parse(section), { code: 'GS_ERR_CONFIG_INVALID' }, section) as { details?: Array<{ path: string; message: string; line?: number }> };
    t.match(err?.details, [{ path, message, file: '/tmp/edge.yaml' }], `${section}: ${path}`);
  }
});
