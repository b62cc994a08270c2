// How each simulated vendor names its events (topic, the Data item carrying the state, the Source
// items) and its auth quirks. The topics are the ONVIF standard ones (ONVIF Core, topic namespace
// tns1 = http://www.onvif.org/ver10/topics, and the Analytics spec's RuleEngine detectors) that the
// vendors' firmware is publicly documented to emit; they are written here independently of the
// client's map (edge/cameras/onvif/topics.yaml), so a test shows that map covers them.
export type SimEventKind = 'motion' | 'tamper' | 'video_loss';

export interface SimTopic {
  /** Topic path with its tns1: prefixes (the simulator may write another prefix, see topicPrefix). */
  topic: string;
  /** The Data SimpleItem holding the state. */
  item: string;
  /** Source SimpleItems sent with it. */
  source: Record<string, string>;
}

export interface SimVendor {
  manufacturer: string;
  model: string;
  firmware: string;
  topics: Record<SimEventKind, SimTopic>;
  /** Fault a PullMessages / Renew on an unknown subscription gets. */
  unknownSubscription: 'resource-unknown' | 'destination-unreachable';
  /** Credentials taken: WS-Security, HTTP digest, or either. */
  auth: 'wsse' | 'digest' | 'either';
}

const SOURCE = { VideoSourceConfigurationToken: 'VideoSourceConfig_1' };
const RULE = (rule: string) => ({ VideoSourceConfigurationToken: 'VideoSourceConfig_1', VideoAnalyticsConfigurationToken: 'VideoAnalyticsConfig_1', Rule: rule });

export const VENDORS: Record<'onvif' | 'hikvision' | 'dahua', SimVendor> = {
  /** The topics ONVIF itself defines for a video source. */
  onvif: {
    manufacturer: 'ONVIF Simulator',
    model: 'SIM-1',
    firmware: '1.0.0',
    topics: {
      motion: { topic: 'tns1:VideoSource/MotionAlarm', item: 'State', source: { Source: 'VideoSource_1' } },
      tamper: { topic: 'tns1:VideoSource/GlobalSceneChange/ImagingService', item: 'State', source: { Source: 'VideoSource_1' } },
      video_loss: { topic: 'tns1:VideoSource/SignalLoss', item: 'State', source: { Source: 'VideoSource_1' } },
    },
    unknownSubscription: 'resource-unknown',
    auth: 'wsse',
  },
  /** Rule-engine detectors (cell motion, tamper), as Hikvision IPCs publish them. */
  hikvision: {
    manufacturer: 'HIKVISION',
    model: 'DS-2CD2T47G2-L',
    firmware: 'V5.7.3 build 220112',
    topics: {
      motion: { topic: 'tns1:RuleEngine/CellMotionDetector/Motion', item: 'IsMotion', source: RULE('MyMotionDetectorRule') },
      tamper: { topic: 'tns1:RuleEngine/TamperDetector/Tamper', item: 'IsTamper', source: RULE('MyTamperDetectorRule') },
      video_loss: { topic: 'tns1:VideoSource/SignalLoss', item: 'State', source: { Source: 'VideoSource_1' } },
    },
    unknownSubscription: 'resource-unknown',
    auth: 'either',
  },
  /** Video-source alarms, as Dahua IPCs publish them; answers an old pull point with a WS-Addressing fault. */
  dahua: {
    manufacturer: 'Dahua',
    model: 'IPC-HFW2431S-S-S2',
    firmware: '2.800.0000000.36.R',
    topics: {
      motion: { topic: 'tns1:VideoSource/MotionAlarm', item: 'State', source: { Source: 'VideoSource_1' } },
      tamper: { topic: 'tns1:RuleEngine/TamperDetector/Tamper', item: 'IsTamper', source: RULE('TamperDetectorRule') },
      video_loss: { topic: 'tns1:VideoSource/SignalLoss', item: 'State', source: SOURCE },
    },
    unknownSubscription: 'destination-unreachable',
    auth: 'either',
  },
};
