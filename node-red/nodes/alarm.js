// `gridsense alarm`: a message raises, updates or clears an alarm in the edge's outbox, through the same
// commit as the edge's rule alarms. A message it cannot take is reported (GS_ERR_NODE_RED_MSG) and
// the flow keeps running.
import { asNodeError, bridgeOf, noEdge } from './common.js';

export default function (RED) {
  function GridsenseAlarm(config) {
    RED.nodes.createNode(this, config);
    // Arrow functions below keep `this`, the node.
    const settings = { action: config.action || 'msg', alarmType: config.alarmType || undefined, severity: config.severity || undefined };
    this.on('input', (msg, send, done) => {
      const bridge = bridgeOf(RED);
      if (!bridge) {
        done(noEdge(this));
        return;
      }
      let envelopes;
      try {
        envelopes = bridge.alarm(msg, settings);
      } catch (err) {
        this.status({ fill: 'red', shape: 'ring', text: String(err.code || 'error') });
        done(asNodeError(err));
        return;
      }
      if (envelopes.length > 0) {
        const e = envelopes[envelopes.length - 1];
        this.status({ fill: e.action === 'clear' ? 'green' : 'red', shape: 'dot', text: `${e.action} ${e.type} ${e.deviceId}` });
        msg.alarm = e;
        send(msg);
      }
      done();
    });
  }
  RED.nodes.registerType('gridsense-alarm', GridsenseAlarm);
}
