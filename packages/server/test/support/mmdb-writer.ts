// A minimal MaxMind DB writer for test fixtures (MaxMind DB File Format Specification 2.0): a
// binary search tree over address bits with 24-bit records, a 16-byte separator, a data section,
// and the metadata map after "\xAB\xCD\xEFMaxMind.com". Enough for small geo fixtures: IPv4-only
// databases, or IPv6 databases with IPv4 networks under ::/96 (as MaxMind ships them); strings,
// doubles, unsigned integers, booleans, maps and arrays. No overlapping networks, no pointers.
import { isIP } from 'node:net';

/** An unsigned integer of the given width; plain numbers are written as doubles. */
export class Uint {
  constructor(
    readonly bits: 16 | 32 | 64,
    readonly value: number | bigint,
  ) {}
}
export const uint16 = (value: number) => new Uint(16, value);
export const uint32 = (value: number) => new Uint(32, value);
export const uint64 = (value: number | bigint) => new Uint(64, value);

export type MmdbValue = string | number | boolean | Uint | MmdbValue[] | MmdbMap;
export interface MmdbMap {
  readonly [key: string]: MmdbValue;
}

export interface MmdbNetwork {
  /** CIDR, e.g. `192.0.2.0/24` or `2001:db8::/32`. */
  readonly network: string;
  readonly data: MmdbMap;
}

export interface MmdbOptions {
  readonly ipVersion: 4 | 6;
  readonly databaseType?: string;
  readonly networks: readonly MmdbNetwork[];
  /** Seconds since the epoch written as build_epoch. */
  readonly buildEpoch?: number;
}

const TYPE = {
  pointer: 1,
  string: 2,
  double: 3,
  bytes: 4,
  uint16: 5,
  uint32: 6,
  map: 7,
  int32: 8,
  uint64: 9,
  uint128: 10,
  array: 11,
  boolean: 14,
} as const;

const METADATA_MARKER = Buffer.concat([
  Buffer.from([0xab, 0xcd, 0xef]),
  Buffer.from('MaxMind.com', 'ascii'),
]);

/** The control byte(s) of a field: type (extended types take a second byte) and payload size. */
function control(type: number, size: number): Buffer {
  const extended = type > 7;
  let sizeBits: number;
  let sizeBytes: Buffer;
  if (size < 29) {
    sizeBits = size;
    sizeBytes = Buffer.alloc(0);
  } else if (size < 29 + 256) {
    sizeBits = 29;
    sizeBytes = Buffer.from([size - 29]);
  } else if (size < 285 + 65_536) {
    sizeBits = 30;
    sizeBytes = Buffer.alloc(2);
    sizeBytes.writeUInt16BE(size - 285);
  } else {
    sizeBits = 31;
    sizeBytes = Buffer.alloc(3);
    sizeBytes.writeUIntBE(size - 65_821, 0, 3);
  }
  const first = ((extended ? 0 : type) << 5) | sizeBits;
  return Buffer.concat([Buffer.from(extended ? [first, type - 7] : [first]), sizeBytes]);
}

/** The shortest big-endian form of an unsigned integer (zero is no bytes at all). */
function unsignedBytes(value: number | bigint): Buffer {
  let rest = BigInt(value);
  if (rest < 0n) throw new Error('unsigned integers only');
  const bytes: number[] = [];
  while (rest > 0n) {
    bytes.unshift(Number(rest & 0xffn));
    rest >>= 8n;
  }
  return Buffer.from(bytes);
}

export function encodeValue(value: MmdbValue): Buffer {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return Buffer.concat([control(TYPE.string, bytes.length), bytes]);
  }
  if (typeof value === 'number') {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return Buffer.concat([control(TYPE.double, 8), bytes]);
  }
  if (typeof value === 'boolean') return control(TYPE.boolean, value ? 1 : 0);
  if (value instanceof Uint) {
    const bytes = unsignedBytes(value.value);
    if (bytes.length > value.bits / 8)
      throw new Error(`${value.value} does not fit ${value.bits} bits`);
    const type = value.bits === 16 ? TYPE.uint16 : value.bits === 32 ? TYPE.uint32 : TYPE.uint64;
    return Buffer.concat([control(type, bytes.length), bytes]);
  }
  if (Array.isArray(value)) {
    return Buffer.concat([control(TYPE.array, value.length), ...value.map(encodeValue)]);
  }
  const entries = Object.entries(value);
  return Buffer.concat([
    control(TYPE.map, entries.length),
    ...entries.flatMap(([key, item]) => [encodeValue(key), encodeValue(item)]),
  ]);
}

/** The bits of a network, most significant first, as the tree of an `ipVersion` database sees it. */
function networkBits(cidr: string, ipVersion: 4 | 6): boolean[] {
  const [address = '', prefixText] = cidr.split('/');
  const family = isIP(address);
  if (family === 0 || prefixText === undefined) throw new Error(`not a CIDR network: ${cidr}`);
  const prefix = Number(prefixText);
  let bytes: number[];
  if (family === 4) {
    bytes = address.split('.').map(Number);
  } else {
    if (ipVersion === 4) throw new Error(`an IPv4 database cannot hold ${cidr}`);
    const halves = address.split('::');
    const parse = (part: string) =>
      part === '' ? [] : part.split(':').map((g) => parseInt(g, 16));
    const head = parse(halves[0] ?? '');
    const tail = halves.length > 1 ? parse(halves[1] ?? '') : [];
    const groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
    bytes = groups.flatMap((g) => [g >> 8, g & 0xff]);
  }
  const bits = bytes.flatMap((byte) =>
    Array.from({ length: 8 }, (_, i) => ((byte >> (7 - i)) & 1) === 1),
  );
  // IPv4 networks in an IPv6 database live under ::/96 (96 zero bits first).
  const lead = family === 4 && ipVersion === 6 ? new Array<boolean>(96).fill(false) : [];
  return [...lead, ...bits.slice(0, prefix)];
}

type RecordSlot =
  { kind: 'empty' } | { kind: 'node'; index: number } | { kind: 'data'; key: string };

export function writeMmdb(options: MmdbOptions): Buffer {
  const nodes: [RecordSlot, RecordSlot][] = [[{ kind: 'empty' }, { kind: 'empty' }]];
  const values = new Map<string, MmdbValue>();

  for (const { network, data } of options.networks) {
    const bits = networkBits(network, options.ipVersion);
    if (bits.length === 0) throw new Error('a /0 network is not supported');
    const key = JSON.stringify(data);
    values.set(key, data);
    let node = 0;
    bits.forEach((bit, depth) => {
      const side = bit ? 1 : 0;
      const slot = nodes[node]![side];
      if (depth === bits.length - 1) {
        if (slot.kind !== 'empty') throw new Error(`${network} overlaps another network`);
        nodes[node]![side] = { kind: 'data', key };
        return;
      }
      if (slot.kind === 'data') throw new Error(`${network} overlaps another network`);
      if (slot.kind === 'node') {
        node = slot.index;
        return;
      }
      nodes.push([{ kind: 'empty' }, { kind: 'empty' }]);
      nodes[node]![side] = { kind: 'node', index: nodes.length - 1 };
      node = nodes.length - 1;
    });
  }

  const nodeCount = nodes.length;
  const offsets = new Map<string, number>();
  const chunks: Buffer[] = [];
  let size = 0;
  for (const [key, value] of values) {
    const encoded = encodeValue(value);
    offsets.set(key, size);
    chunks.push(encoded);
    size += encoded.length;
  }
  const dataSection = Buffer.concat(chunks);

  const recordValue = (slot: RecordSlot): number => {
    if (slot.kind === 'node') return slot.index;
    if (slot.kind === 'empty') return nodeCount;
    return nodeCount + 16 + offsets.get(slot.key)!;
  };
  const tree = Buffer.alloc(nodeCount * 6);
  nodes.forEach(([left, right], index) => {
    const l = recordValue(left);
    const r = recordValue(right);
    if (Math.max(l, r) >= 2 ** 24) throw new Error('too large for 24-bit records');
    tree.writeUIntBE(l, index * 6, 3);
    tree.writeUIntBE(r, index * 6 + 3, 3);
  });

  const metadata = encodeValue({
    binary_format_major_version: uint16(2),
    binary_format_minor_version: uint16(0),
    build_epoch: uint64(options.buildEpoch ?? 1_767_225_600),
    database_type: options.databaseType ?? 'Latchkey-Test-City',
    description: { en: 'Latchkey test fixture' },
    ip_version: uint16(options.ipVersion),
    languages: ['en'],
    node_count: uint32(nodeCount),
    record_size: uint16(24),
  });
  return Buffer.concat([tree, Buffer.alloc(16), dataSection, METADATA_MARKER, metadata]);
}

/** A GeoIP2-City-shaped record. */
export function cityRecord(
  country: string,
  latitude: number,
  longitude: number,
  accuracyRadiusKm = 20,
): MmdbMap {
  return {
    country: { iso_code: country },
    location: { latitude, longitude, accuracy_radius: uint16(accuracyRadiusKm) },
  };
}
