/**
 * Whether an IP address lies in address space a server must never be steered into by data it
 * received: loopback, private (RFC 1918, unique-local), link-local (cloud metadata services live
 * there), carrier-grade NAT, multicast, reserved and unspecified ranges. IPv6 forms that embed an
 * IPv4 address (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible, NAT64 `64:ff9b::/96`, 6to4
 * `2002::/16`) are judged by the IPv4 address inside.
 *
 * @example
 * ```ts
 * import { isNonPublicAddress } from "./private_address.ts";
 *
 * isNonPublicAddress("10.0.0.7"); // true
 * isNonPublicAddress("::ffff:127.0.0.1"); // true
 * isNonPublicAddress("34.117.59.81"); // false
 * ```
 *
 * @module
 */

import { isIP } from "node:net";

/** IPv4 ranges that are not public: [first octets as a number, prefix length]. */
const V4_BLOCKS: readonly (readonly [string, number])[] = [
  ["0.0.0.0", 8], // "this network", unspecified
  ["10.0.0.0", 8], // private
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8], // loopback
  ["169.254.0.0", 16], // link-local (cloud metadata)
  ["172.16.0.0", 12], // private
  ["192.0.0.0", 24], // IETF protocol assignments
  ["192.0.2.0", 24], // documentation
  ["192.88.99.0", 24], // 6to4 relay anycast
  ["192.168.0.0", 16], // private
  ["198.18.0.0", 15], // benchmarking
  ["198.51.100.0", 24], // documentation
  ["203.0.113.0", 24], // documentation
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved, broadcast
];

function v4ToNumber(address: string): number {
  return address.split(".").reduce((n, part) => n * 256 + Number(part), 0);
}

const V4_RANGES = V4_BLOCKS.map(([base, bits]) => {
  const size = 2 ** (32 - bits);
  const start = v4ToNumber(base);
  return [start, start + size] as const;
});

function isNonPublicV4(n: number): boolean {
  return V4_RANGES.some(([start, end]) => n >= start && n < end);
}

/** The eight 16-bit groups of an IPv6 address (an embedded dotted IPv4 tail expanded). */
function v6Groups(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, "");
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const n = v4ToNumber(dotted[1]!);
    text = `${text.slice(0, dotted.index)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 0) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail]
    .map((g) => parseInt(g, 16));
  return groups.length === 8 && groups.every((g) => g >= 0 && g <= 0xffff) ? groups : undefined;
}

function isNonPublicV6(g: readonly number[]): boolean {
  const embedded = (hi: number, lo: number) => isNonPublicV4(hi * 65536 + lo);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 8)) return true; // ::
  if (zeros(0, 7) && g[7] === 1) return true; // ::1
  if (zeros(0, 5) && g[5] === 0xffff) return embedded(g[6]!, g[7]!); // ::ffff:a.b.c.d
  if (zeros(0, 6)) return embedded(g[6]!, g[7]!); // ::a.b.c.d (deprecated compatible form)
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return embedded(g[6]!, g[7]!); // NAT64
  if (g[0] === 0x2002) return embedded(g[1]!, g[2]!); // 6to4
  const first = g[0]!;
  if ((first & 0xfe00) === 0xfc00) return true; // fc00::/7 unique-local
  if ((first & 0xffc0) === 0xfe80) return true; // fe80::/10 link-local
  if ((first & 0xffc0) === 0xfec0) return true; // fec0::/10 site-local (deprecated)
  if ((first & 0xff00) === 0xff00) return true; // multicast
  if (first === 0x2001 && g[1] === 0x0db8) return true; // documentation
  if (first === 0x0100 && zeros(1, 4)) return true; // discard-only 100::/64
  return false;
}

/**
 * Whether `address` (an IPv4 or IPv6 literal, brackets allowed) is loopback, private,
 * link-local or otherwise not a public unicast address. Anything that does not parse as an IP
 * address counts as non-public, so callers fail closed.
 */
export function isNonPublicAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, "");
  const kind = isIP(bare.replace(/%.*$/, ""));
  if (kind === 4) return isNonPublicV4(v4ToNumber(bare));
  if (kind === 6) {
    const groups = v6Groups(bare);
    return groups === undefined || isNonPublicV6(groups);
  }
  return true;
}
