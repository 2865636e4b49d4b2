// The network an address belongs to, as the risk checks compare it: the /24 of an IPv4 address
// and the /48 of an IPv6 one (the usual size of one site's assignment), so a new address from the
// same provider pool is not a change of network.
import { isIP } from 'node:net';

export const IPV4_PREFIX_BITS = 24;
export const IPV6_PREFIX_BITS = 48;

/** The eight 16-bit groups of an IPv6 address, or null when it is not one. */
function ipv6Groups(text: string): number[] | null {
  if (isIP(text) !== 6) return null;
  let address = text;
  const groups: number[] = [];
  // A trailing dotted quad (`::ffff:192.0.2.1`, `64:ff9b::192.0.2.1`) is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[2]!.split('.').map(Number);
    address = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = address.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => parseInt(group, 16));
  const head = parse(halves[0] ?? '');
  const tail = halves.length > 1 ? parse(halves[1] ?? '') : [];
  const missing = 8 - head.length - tail.length;
  groups.push(...head, ...new Array<number>(halves.length > 1 ? missing : 0).fill(0), ...tail);
  return groups.length === 8 ? groups : null;
}

/**
 * An address in canonical form: IPv4 dotted quad (also for IPv4-mapped IPv6, `::ffff:a.b.c.d`, as
 * dual-stack sockets report IPv4 clients), or IPv6 as eight groups. Zone IDs are dropped. `null`
 * when the text is not an address.
 */
export function parseAddress(
  ip: string | null,
): { family: 4; octets: number[] } | { family: 6; groups: number[] } | null {
  if (ip === null) return null;
  const text = ip.split('%')[0] ?? '';
  if (isIP(text) === 4) return { family: 4, octets: text.split('.').map(Number) };
  const groups = ipv6Groups(text);
  if (!groups) return null;
  const mapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (mapped) {
    const [hi = 0, lo = 0] = groups.slice(6);
    return { family: 4, octets: [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff] };
  }
  return { family: 6, groups };
}

/**
 * The network of an address, written as a CIDR prefix: `192.0.2.0/24`, `2001:db8:1::/48`. `null`
 * when the address is missing or not an address.
 */
export function networkOf(ip: string | null): string | null {
  const address = parseAddress(ip);
  if (!address) return null;
  if (address.family === 4) {
    const [a, b, c] = address.octets;
    return `${a}.${b}.${c}.0/${IPV4_PREFIX_BITS}`;
  }
  const [a = 0, b = 0, c = 0] = address.groups;
  return `${[a, b, c].map((group) => group.toString(16)).join(':')}::/${IPV6_PREFIX_BITS}`;
}
