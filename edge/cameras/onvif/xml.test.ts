import t from 'tap';
import { loadTopicMaps, normaliseTopic, notificationsIn, toCameraEvent, topicRules } from './topics.js';
import { attr, child, parseXml, path, text } from './xml.js';

const reasonOf = (fn: () => unknown) => {
  try {
    fn();
    return 'parsed';
  } catch (err) {
    return (err as Error).message;
  }
};

t.test('namespaces resolve whatever the prefix; entities and CDATA decode', async (t) => {
  const a = parseXml('<?xml version="1.0"?><s:Envelope xmlns:s="urn:env" xmlns:x="urn:x"><s:Body><x:Op a="1 &amp; 2">A &lt;b&gt; &#x4e2d;<![CDATA[<raw>]]></x:Op></s:Body></s:Envelope>');
  const b = parseXml('<Envelope xmlns="urn:env"><Body><Op xmlns="urn:x" a="1 &amp; 2"/></Body></Envelope>');
  t.same([a.ns, child(a, 'Body')?.ns, path(a, 'Body', 'Op')?.ns], ['urn:env', 'urn:env', 'urn:x']);
  t.same([b.ns, path(b, 'Body', 'Op')?.ns], ['urn:env', 'urn:x'], 'default namespaces too');
  t.equal(text(path(a, 'Body', 'Op')), 'A <b> 中<raw>');
  t.equal(attr(path(b, 'Body', 'Op'), 'a'), '1 & 2');
});

t.test('anything not well-formed is refused, DOCTYPE included', async (t) => {
  t.match(reasonOf(() => parseXml('<a><b></a>')), /closes/);
  t.match(reasonOf(() => parseXml('<a>')), /unterminated/);
  t.match(reasonOf(() => parseXml('<p:a/>')), /undeclared namespace prefix p/);
  t.match(reasonOf(() => parseXml('<a x="1" x="2"/>')), /duplicate attribute/);
  t.match(reasonOf(() => parseXml('<a>&nbsp;</a>')), /unknown entity/);
  t.match(reasonOf(() => parseXml('<!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><a>&x;</a>')), /DOCTYPE is not allowed/);
  t.match(reasonOf(() => parseXml('<a/><b/>')), /after the root/);
  t.match(reasonOf(() => parseXml('<html><body>500</body>')), /unterminated/);
  t.match(reasonOf(() => parseXml('x'.repeat(10))), /expected </);
  const deep = '<a>'.repeat(100) + '</a>'.repeat(100);
  t.match(reasonOf(() => parseXml(deep)), /too deep/);
});

t.test('topic map: vendor lists, then the standard ones; prefixes ignored; states read', async (t) => {
  const maps = loadTopicMaps();
  t.ok(['onvif', 'hikvision', 'dahua', 'uniview'].every((v) => Array.isArray(maps[v])));
  t.equal(normaliseTopic('tns1:RuleEngine/CellMotionDetector/Motion'), 'RuleEngine/CellMotionDetector/Motion');
  t.equal(normaliseTopic('ns2:VideoSource/tnsvendor:SignalLoss'), 'VideoSource/SignalLoss');
  const xml = parseXml(
    '<r xmlns:wsnt="http://docs.oasis-open.org/wsn/b-2" xmlns:tt="http://www.onvif.org/ver10/schema">' +
      '<wsnt:NotificationMessage><wsnt:Topic>tns1:RuleEngine/CellMotionDetector/Motion</wsnt:Topic><wsnt:Message><tt:Message UtcTime="2026-07-01T08:00:00Z" PropertyOperation="Changed">' +
      '<tt:Source><tt:SimpleItem Name="Rule" Value="MyMotionDetectorRule"/></tt:Source><tt:Data><tt:SimpleItem Name="IsMotion" Value="1"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
      '<wsnt:NotificationMessage><wsnt:Topic>tns1:Device/Trigger/DigitalInput</wsnt:Topic><wsnt:Message><tt:Message><tt:Data><tt:SimpleItem Name="LogicalState" Value="true"/></tt:Data></tt:Message></wsnt:Message></wsnt:NotificationMessage>' +
      '</r>',
  );
  const [motion, io] = notificationsIn(xml);
  t.match(toCameraEvent(motion!, topicRules('uniview')), { kind: 'motion', active: true, initial: false, cameraTime: Date.UTC(2026, 6, 1, 8), source: { Rule: 'MyMotionDetectorRule' } });
  t.equal(toCameraEvent(io!, topicRules('hikvision')), undefined, 'an unmapped topic is no event');
  t.match(toCameraEvent({ topic: 'tns1:VideoSource/SignalLoss', source: {}, data: { State: 'false' }, operation: 'Initialized' }, topicRules()), { kind: 'video_loss', active: false, initial: true });
  t.equal(toCameraEvent({ topic: 'tns1:VideoSource/SignalLoss', source: {}, data: { Other: 'true' } }, topicRules()), undefined, 'the state item must be there');
});
