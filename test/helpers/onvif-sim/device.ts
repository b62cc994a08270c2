// Device management (devicemgmt.wsdl) and media (media.wsdl, Profile S) replies of the simulated
// camera, written from the WSDL/XSD element structure (tds:, trt:, tt: types).
import { child, text, type XmlElement } from '../../../edge/cameras/onvif/xml.js';
import { escapeText as e, faults, NS, SoapFault } from './soap.js';
import type { SimVendor } from './vendors.js';

export interface SimProfile {
  token: string;
  name: string;
  width: number;
  height: number;
  fps: number;
  bitrateKbps: number;
  gop: number;
  encoding: 'H264' | 'H265' | 'JPEG';
}

export interface DeviceContext {
  vendor: SimVendor;
  serial: string;
  /** http://127.0.0.1:<port> */
  base: string;
  cameraNow: number;
  /** Minutes east of UTC for LocalDateTime and the POSIX TZ string (China: 480). */
  tzOffsetMin: number;
  profiles: SimProfile[];
  streamUri(token: string): string;
}

export function deviceAction(action: string, c: DeviceContext): string {
  switch (action) {
    case 'GetSystemDateAndTime':
      return systemDateAndTime(c);
    case 'GetDeviceInformation':
      return (
        '<tds:GetDeviceInformationResponse>' +
        `<tds:Manufacturer>${e(c.vendor.manufacturer)}</tds:Manufacturer><tds:Model>${e(c.vendor.model)}</tds:Model>` +
        `<tds:FirmwareVersion>${e(c.vendor.firmware)}</tds:FirmwareVersion><tds:SerialNumber>${e(c.serial)}</tds:SerialNumber>` +
        `<tds:HardwareId>${e(c.vendor.model)}-HW</tds:HardwareId></tds:GetDeviceInformationResponse>`
      );
    case 'GetCapabilities':
      return (
        '<tds:GetCapabilitiesResponse><tds:Capabilities>' +
        `<tt:Device><tt:XAddr>${c.base}/onvif/device_service</tt:XAddr></tt:Device>` +
        `<tt:Events><tt:XAddr>${c.base}/onvif/event_service</tt:XAddr><tt:WSSubscriptionPolicySupport>false</tt:WSSubscriptionPolicySupport>` +
        '<tt:WSPullPointSupport>true</tt:WSPullPointSupport><tt:WSPausableSubscriptionManagerInterfaceSupport>false</tt:WSPausableSubscriptionManagerInterfaceSupport></tt:Events>' +
        `<tt:Media><tt:XAddr>${c.base}/onvif/media_service</tt:XAddr><tt:StreamingCapabilities><tt:RTPMulticast>false</tt:RTPMulticast>` +
        '<tt:RTP_TCP>true</tt:RTP_TCP><tt:RTP_RTSP_TCP>true</tt:RTP_RTSP_TCP></tt:StreamingCapabilities></tt:Media>' +
        '</tds:Capabilities></tds:GetCapabilitiesResponse>'
      );
    case 'GetServices': {
      const svc = (ns: string, path: string, minor: number) =>
        `<tds:Service><tds:Namespace>${ns}</tds:Namespace><tds:XAddr>${c.base}${path}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>${minor}</tt:Minor></tds:Version></tds:Service>`;
      return `<tds:GetServicesResponse>${svc(NS.tds, '/onvif/device_service', 60)}${svc(NS.trt, '/onvif/media_service', 60)}${svc(NS.tev, '/onvif/event_service', 60)}</tds:GetServicesResponse>`;
    }
    case 'GetScopes':
      return `<tds:GetScopesResponse><tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>onvif://www.onvif.org/Profile/Streaming</tt:ScopeItem></tds:Scopes><tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>onvif://www.onvif.org/hardware/${e(c.vendor.model)}</tt:ScopeItem></tds:Scopes></tds:GetScopesResponse>`;
    default:
      throw new SoapFault(faults.actionNotSupported(action));
  }
}

function systemDateAndTime(c: DeviceContext): string {
  const dt = (ms: number) => {
    const d = new Date(ms);
    return (
      `<tt:Time><tt:Hour>${d.getUTCHours()}</tt:Hour><tt:Minute>${d.getUTCMinutes()}</tt:Minute><tt:Second>${d.getUTCSeconds()}</tt:Second></tt:Time>` +
      `<tt:Date><tt:Year>${d.getUTCFullYear()}</tt:Year><tt:Month>${d.getUTCMonth() + 1}</tt:Month><tt:Day>${d.getUTCDate()}</tt:Day></tt:Date>`
    );
  };
  // POSIX TZ counts west of UTC as positive: China Standard Time (UTC+8) is CST-8.
  const tz = `CST${c.tzOffsetMin >= 0 ? '-' : '+'}${Math.abs(c.tzOffsetMin / 60)}`;
  return (
    '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime>' +
    '<tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
    `<tt:TimeZone><tt:TZ>${tz}</tt:TZ></tt:TimeZone>` +
    `<tt:UTCDateTime>${dt(c.cameraNow)}</tt:UTCDateTime><tt:LocalDateTime>${dt(c.cameraNow + c.tzOffsetMin * 60_000)}</tt:LocalDateTime>` +
    '</tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>'
  );
}

export function mediaAction(action: string, body: XmlElement, c: DeviceContext): string {
  const req = body.children[0];
  const profile = (): SimProfile => {
    const token = text(child(req, 'ProfileToken'));
    const p = c.profiles.find((x) => x.token === token);
    if (!p) throw new SoapFault(faults.invalidArg('NoProfile', `no profile ${token ?? '(none given)'}`));
    return p;
  };
  switch (action) {
    case 'GetProfiles':
      return `<trt:GetProfilesResponse>${c.profiles.map(profileXml).join('')}</trt:GetProfilesResponse>`;
    case 'GetProfile':
      return `<trt:GetProfileResponse>${profileXml(profile()).replaceAll('trt:Profiles', 'trt:Profile')}</trt:GetProfileResponse>`;
    case 'GetVideoSources': {
      const p = c.profiles[0]!;
      return `<trt:GetVideoSourcesResponse><trt:VideoSources token="VideoSource_1"><tt:Framerate>${p.fps}</tt:Framerate><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>`;
    }
    case 'GetStreamUri': {
      const p = profile();
      const protocol = text(child(child(child(req, 'StreamSetup'), 'Transport'), 'Protocol'));
      if (protocol && !['RTSP', 'UDP', 'TCP'].includes(protocol)) throw new SoapFault(faults.invalidArg('InvalidStreamSetup', `transport ${protocol} is not supported`));
      return `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>${e(c.streamUri(p.token))}</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`;
    }
    case 'GetSnapshotUri': {
      const p = profile();
      return `<trt:GetSnapshotUriResponse><trt:MediaUri><tt:Uri>${c.base}/onvif/snapshot/${encodeURIComponent(p.token)}.jpg</tt:Uri><tt:InvalidAfterConnect>false</tt:InvalidAfterConnect><tt:InvalidAfterReboot>false</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetSnapshotUriResponse>`;
    }
    default:
      throw new SoapFault(faults.actionNotSupported(action));
  }
}

function profileXml(p: SimProfile): string {
  const codec =
    p.encoding === 'H264'
      ? `<tt:H264><tt:GovLength>${p.gop}</tt:GovLength><tt:H264Profile>Baseline</tt:H264Profile></tt:H264>`
      : '';
  return (
    `<trt:Profiles token="${e(p.token)}" fixed="true"><tt:Name>${e(p.name)}</tt:Name>` +
    '<tt:VideoSourceConfiguration token="VideoSourceConfig_1"><tt:Name>VideoSourceConfig_1</tt:Name><tt:UseCount>2</tt:UseCount>' +
    `<tt:SourceToken>VideoSource_1</tt:SourceToken><tt:Bounds x="0" y="0" width="${p.width}" height="${p.height}"/></tt:VideoSourceConfiguration>` +
    `<tt:VideoEncoderConfiguration token="VideoEncoder_${e(p.token)}"><tt:Name>VideoEncoder_${e(p.token)}</tt:Name><tt:UseCount>1</tt:UseCount>` +
    `<tt:Encoding>${p.encoding}</tt:Encoding><tt:Resolution><tt:Width>${p.width}</tt:Width><tt:Height>${p.height}</tt:Height></tt:Resolution>` +
    `<tt:Quality>5</tt:Quality><tt:RateControl><tt:FrameRateLimit>${p.fps}</tt:FrameRateLimit><tt:EncodingInterval>1</tt:EncodingInterval><tt:BitrateLimit>${p.bitrateKbps}</tt:BitrateLimit></tt:RateControl>` +
    codec +
    '<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address><tt:Port>0</tt:Port><tt:TTL>0</tt:TTL><tt:AutoStart>false</tt:AutoStart></tt:Multicast>' +
    '<tt:SessionTimeout>PT60S</tt:SessionTimeout></tt:VideoEncoderConfiguration></trt:Profiles>'
  );
}
