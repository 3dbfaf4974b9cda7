/**
 * The client address a request came from, for per-address sign-in limits (issue 12, fault 2).
 * Trust is explicit: with TRUSTED_PROXY_HOPS = 0 (the default) only the TCP peer address counts
 * and X-Forwarded-For is ignored, so a client cannot choose its own address. With N trusted reverse
 * proxies in front, each appending the address it saw to X-Forwarded-For, the client is the N-th
 * address from the right of "X-Forwarded-For + peer".
 *
 * The peer address reaches the app in PEER_ADDRESS_HEADER, stamped by scripts/peer-address.cjs in
 * the web process (which overwrites anything a client sent under that name); Next.js itself only
 * fills X-Forwarded-For when the client sent none, so that header alone cannot be trusted.
 */
import net from "node:net";

export const PEER_ADDRESS_HEADER = "x-rads-peer-address";
/** The bucket of requests whose address is unknown (web server started without the peer stamp). */
export const UNKNOWN_ADDRESS = "unknown";

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

function header(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/**
 * A canonical bucket for an address: IPv4 as is (also when written IPv4-mapped, ::ffff:a.b.c.d),
 * IPv6 by its /64 prefix (one subscriber usually holds a whole /64), anything unparsable → "unknown".
 */
export function addressBucket(raw: string | undefined): string {
  let value = (raw ?? "").trim();
  if (value.startsWith("[")) value = value.slice(1, value.indexOf("]") > 0 ? value.indexOf("]") : undefined);
  const zone = value.indexOf("%");
  if (zone >= 0) value = value.slice(0, zone);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(value);
  if (mapped) value = mapped[1]!;
  // "1.2.3.4:5678" as some proxies write it
  const withPort = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(value);
  if (withPort) value = withPort[1]!;
  if (net.isIPv4(value)) return value;
  if (net.isIPv6(value)) return `${expandIPv6(value).slice(0, 4).join(":")}::/64`;
  return UNKNOWN_ADDRESS;
}

function expandIPv6(value: string): string[] {
  const [head, tail] = value.includes("::") ? (value.split("::") as [string, string]) : [value, undefined];
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail counts as two groups.
  const groups = (parts: string[]) =>
    parts.flatMap((part) => {
      if (!net.isIPv4(part)) return [part];
      const [a, b, c, d] = part.split(".").map(Number) as [number, number, number, number];
      return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)];
    });
  const l = groups(left);
  const r = groups(right);
  const fill = tail === undefined ? [] : new Array(Math.max(0, 8 - l.length - r.length)).fill("0");
  return [...l, ...fill, ...r].map((g) => (parseInt(g || "0", 16) || 0).toString(16));
}

/**
 * The client's address bucket for a request's headers, trusting `trustedHops` reverse proxies.
 * Without the peer stamp the answer is UNKNOWN_ADDRESS (one shared bucket: fails closed).
 */
export function clientAddress(headers: HeaderBag, trustedHops: number): string {
  const peer = header(headers, PEER_ADDRESS_HEADER);
  if (!peer) return UNKNOWN_ADDRESS;
  if (trustedHops <= 0) return addressBucket(peer);
  const forwarded = (header(headers, "x-forwarded-for") ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter(Boolean);
  const chain = [...forwarded, peer];
  // The entry added by the outermost trusted proxy; a shorter chain means a proxy is missing: use the leftmost we have.
  return addressBucket(chain[Math.max(0, chain.length - 1 - trustedHops)]);
}

/** Longest User-Agent kept in an audit event. */
const MAX_USER_AGENT = 200;

/**
 * The request's client for the audit (issue 12, fault 7): its address bucket (as clientAddress)
 * and its User-Agent, cut to 200 characters and stripped of control characters.
 */
export function requestClient(headers: HeaderBag, trustedHops: number): { address: string; userAgent: string | null } {
  const agent = header(headers, "user-agent");
  // eslint-disable-next-line no-control-regex
  const userAgent = agent ? agent.replace(/[\u0000-\u001f\u007f]/g, " ").slice(0, MAX_USER_AGENT) : null;
  return { address: clientAddress(headers, trustedHops), userAgent };
}
