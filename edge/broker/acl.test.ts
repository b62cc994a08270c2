import t from 'tap';
import { defaultTopicRoot, isTopicRoot, mayPublish, maySubscribe } from './acl.js';

const root = defaultTopicRoot('sd-001');

t.test('a device publishes only below its own root', async (t) => {
  t.equal(root, 'devices/sd-001/');
  t.ok(mayPublish(root, 'devices/sd-001/telemetry'));
  t.ok(mayPublish(root, 'devices/sd-001/events/door'));
  t.notOk(mayPublish(root, 'devices/sd-001/'), 'the root itself is no topic');
  t.notOk(mayPublish(root, 'devices/sd-002/telemetry'), 'another device');
  t.notOk(mayPublish(root, 'devices/sd-0011/telemetry'), 'a longer id that shares the prefix');
  t.notOk(mayPublish(root, 'devices/sd-001'), 'the root without its slash');
  t.notOk(mayPublish(root, '$SYS/broker/load'));
});

t.test('subscriptions stay below the root; wildcards only after it', async (t) => {
  t.ok(maySubscribe(root, 'devices/sd-001/cmd/#'));
  t.ok(maySubscribe(root, 'devices/sd-001/+'));
  t.notOk(maySubscribe(root, '#'));
  t.notOk(maySubscribe(root, 'devices/+/cmd/#'));
  t.notOk(maySubscribe(root, 'devices/#'));
  t.notOk(maySubscribe(root, '$share/g/devices/sd-001/cmd'));
});

t.test('roots are plain prefixes ending in a slash', async (t) => {
  for (const ok of ['devices/a/', 'town/qingquan/sd-1/', 'x/']) t.ok(isTopicRoot(ok), ok);
  for (const bad of ['devices/a', '/devices/a/', 'devices//a/', 'devices/+/', 'devices/#/', '$SYS/a/', '/']) t.notOk(isTopicRoot(bad), bad);
});
