// Bulk import files: CSV (RFC 4180: quoted fields, "" for a quote, CRLF or LF, a UTF-8 BOM is fine)
// with one device per line. Columns are named in the header, in any order; a spreadsheet's cells
// become a device the way POST /devices takes one. Anything the columns cannot say goes into the
// `connection` (JSON object) column, whose fields the columns then override.
import type { ErrorDetail } from '../../contracts/errors.js';

/** Column → what it fills. Names match case-insensitively, with or without underscores. */
export const CSV_COLUMNS = {
  id: 'device id (required)',
  name: 'display name',
  profile: 'device profile id (required)',
  edge: 'edge id (required)',
  serial: "maker's serial number",
  protocol: 'connection protocol (required unless the connection column has it)',
  host: 'connection host (modbus-tcp, modbus-rtu-tcp)',
  port: 'TCP port, or the serial device for modbus-rtu',
  unitId: 'Modbus unit id',
  baudRate: 'modbus-rtu baud rate',
  parity: 'modbus-rtu parity',
  stopBits: 'modbus-rtu stop bits',
  timeout: 'request timeout, e.g. 500ms',
  endpoint: 'OPC UA endpoint',
  nodePrefix: 'OPC UA node prefix',
  username: 'MQTT username (default: the device id)',
  topicRoot: 'MQTT topic root',
  broker: 'MQTT broker (default: the edge\'s embedded broker)',
  connection: 'JSON object: the rest of the connection block',
  lon: 'longitude (WGS84)',
  lat: 'latitude (WGS84)',
  site: 'kind of place, e.g. nursing_home',
  tags: 'tags separated by ; or |',
  pollInterval: 'e.g. 10s, or seconds',
  offlineAfterMisses: 'missed polls before offline',
  overrides: 'JSON object: rule overrides by rule id',
  disabled: 'true to register without handing it to the edge',
} as const;
type Column = keyof typeof CSV_COLUMNS;

const COLUMN_BY_KEY = new Map<string, Column>(Object.keys(CSV_COLUMNS).map((c) => [c.toLowerCase(), c as Column]));
const REQUIRED: Column[] = ['id', 'profile', 'edge'];
const CONNECTION_STRINGS: Column[] = ['host', 'parity', 'timeout', 'endpoint', 'nodePrefix', 'username', 'topicRoot', 'broker'];
const CONNECTION_INTEGERS: Column[] = ['unitId', 'baudRate', 'stopBits'];

export interface CsvRecord {
  /** The line the record starts on (1-based). */
  line: number;
  fields: string[];
}

/** Splits CSV text into records; a quote left open is reported at the line it opened on. */
export function parseCsv(text: string): { records: CsvRecord[]; errors: ErrorDetail[] } {
  const records: CsvRecord[] = [];
  const src = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let start = 1;
  let quoted = false;
  let quoteLine = 0;
  let fieldStarted = false;
  const endRecord = () => {
    fields.push(field);
    records.push({ line: start, fields });
    fields = [];
    field = '';
    fieldStarted = false;
  };
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (quoted) {
      if (ch === '"') {
        if (src[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else {
        if (ch === '\n') line++;
        field += ch;
      }
      continue;
    }
    if (ch === '"' && !fieldStarted) {
      quoted = true;
      quoteLine = line;
      fieldStarted = true;
    } else if (ch === ',') {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && src[i + 1] === '\n') i++;
      endRecord();
      line++;
      start = line;
    } else {
      field += ch;
      fieldStarted = true;
    }
  }
  if (quoted) return { records, errors: [{ path: `/rows/${quoteLine}`, message: 'a quoted field is never closed' }] };
  if (field !== '' || fields.length > 0) endRecord();
  return { records: records.filter((r) => r.fields.some((f) => f.trim() !== '')), errors: [] };
}

export interface CsvDeviceRow {
  line: number;
  /** The device as POST /devices would take it (not yet validated). */
  input: Record<string, unknown>;
  /** Cells that could not be read (numbers, JSON); paths as the device's. */
  errors: ErrorDetail[];
}

/** CSV text → one device input per line, or the header's problems (then no row is read). */
export function csvDevices(text: string): { header: ErrorDetail[]; rows: CsvDeviceRow[] } {
  const { records, errors } = parseCsv(text);
  if (errors.length > 0) return { header: errors, rows: [] };
  const [head, ...body] = records;
  if (!head) return { header: [{ path: '/rows/1', message: `the file is empty; the first line names the columns: ${Object.keys(CSV_COLUMNS).join(',')}` }], rows: [] };
  const header: ErrorDetail[] = [];
  const columns: Array<Column | undefined> = head.fields.map((raw, i) => {
    const key = raw.trim().replace(/[_\s-]/g, '').toLowerCase();
    const col = COLUMN_BY_KEY.get(key);
    if (!col) header.push({ path: `/rows/${head.line}/${i}`, message: `unknown column "${raw.trim()}" (known: ${Object.keys(CSV_COLUMNS).join(', ')})` });
    return col;
  });
  const seen = new Set<Column>();
  columns.forEach((c, i) => {
    if (!c) return;
    if (seen.has(c)) header.push({ path: `/rows/${head.line}/${i}`, message: `column "${c}" appears twice` });
    seen.add(c);
  });
  for (const r of REQUIRED) if (!seen.has(r)) header.push({ path: `/rows/${head.line}`, message: `the header needs a "${r}" column` });
  if (!seen.has('protocol') && !seen.has('connection')) header.push({ path: `/rows/${head.line}`, message: 'the header needs a "protocol" or a "connection" column' });
  if (seen.has('lon') !== seen.has('lat')) header.push({ path: `/rows/${head.line}`, message: '"lon" and "lat" go together' });
  if (header.length > 0) return { header, rows: [] };
  return { header: [], rows: body.map((rec) => rowToInput(rec, columns as Column[])) };
}

function rowToInput(rec: CsvRecord, columns: Column[]): CsvDeviceRow {
  const errors: ErrorDetail[] = [];
  const cells = new Map<Column, string>();
  rec.fields.forEach((v, i) => {
    const c = columns[i];
    if (c === undefined) {
      if (v.trim() !== '') errors.push({ path: '', message: `${rec.fields.length} cells, but the header names ${columns.length} columns` });
      return;
    }
    const t = v.trim();
    if (t !== '') cells.set(c, t);
  });
  const input: Record<string, unknown> = {};
  for (const c of ['id', 'name', 'profile', 'edge', 'serial', 'site'] as const) {
    const v = cells.get(c);
    if (v !== undefined) input[c] = v;
  }
  const json = (c: 'connection' | 'overrides'): Record<string, unknown> | undefined => {
    const v = cells.get(c);
    if (v === undefined) return undefined;
    try {
      const parsed = JSON.parse(v) as unknown;
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
      errors.push({ path: `/${c}`, message: 'must be a JSON object' });
    } catch (err) {
      errors.push({ path: `/${c}`, message: `not valid JSON: ${(err as Error).message}` });
    }
    return undefined;
  };
  const integer = (c: Column, path: string): number | undefined => {
    const v = cells.get(c);
    if (v === undefined) return undefined;
    if (/^-?\d+$/.test(v)) return Number(v);
    errors.push({ path, message: `must be a whole number, got "${v}"` });
    return undefined;
  };
  const number = (c: Column): number | undefined => {
    const v = cells.get(c);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (v !== '' && Number.isFinite(n)) return n;
    errors.push({ path: `/location/${c}`, message: `must be a number, got "${v}"` });
    return undefined;
  };

  const connection: Record<string, unknown> = { ...(json('connection') ?? {}) };
  const protocol = cells.get('protocol');
  if (protocol !== undefined) connection.protocol = protocol;
  for (const c of CONNECTION_STRINGS) {
    const v = cells.get(c);
    if (v !== undefined) connection[c] = v;
  }
  for (const c of CONNECTION_INTEGERS) {
    const v = integer(c, `/connection/${c}`);
    if (v !== undefined) connection[c] = v;
  }
  const port = cells.get('port');
  if (port !== undefined) {
    // A serial line's port is its device path; every other protocol's is a TCP port number.
    if (connection.protocol === 'modbus-rtu') connection.port = port;
    else {
      const v = integer('port', '/connection/port');
      if (v !== undefined) connection.port = v;
    }
  }
  input.connection = connection;

  const lon = number('lon');
  const lat = number('lat');
  if (cells.has('lon') !== cells.has('lat')) errors.push({ path: '/location', message: 'give both lon and lat, or neither' });
  else if (lon !== undefined && lat !== undefined) input.location = { lon, lat };

  const tags = cells.get('tags');
  if (tags !== undefined) input.tags = [...new Set(tags.split(/[;|]/).map((s) => s.trim()).filter((s) => s !== ''))];
  const poll = cells.get('pollInterval');
  if (poll !== undefined) input.pollInterval = /^\d+(\.\d+)?$/.test(poll) ? Number(poll) : poll;
  const misses = integer('offlineAfterMisses', '/offlineAfterMisses');
  if (misses !== undefined) input.offlineAfterMisses = misses;
  const overrides = json('overrides');
  if (overrides !== undefined) input.overrides = overrides;
  const disabled = cells.get('disabled');
  if (disabled !== undefined) {
    const d = disabled.toLowerCase();
    if (['true', 'yes', '1', 'y'].includes(d)) input.disabled = true;
    else if (['false', 'no', '0', 'n'].includes(d)) input.disabled = false;
    else errors.push({ path: '/disabled', message: `must be true or false, got "${disabled}"` });
  }
  return { line: rec.line, input, errors };
}
