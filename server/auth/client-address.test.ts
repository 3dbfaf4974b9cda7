import { describe, expect, it } from "vitest";
import { addressBucket, clientAddress, PEER_ADDRESS_HEADER, UNKNOWN_ADDRESS } from "./client-address";

describe("client address for per-address limits (issue 12, fault 2)", () => {
  it("with no trusted proxy, only the TCP peer counts: X-Forwarded-For cannot choose the address", () => {
    expect(clientAddress({ [PEER_ADDRESS_HEADER]: "203.0.113.9", "x-forwarded-for": "1.2.3.4" }, 0)).toBe("203.0.113.9");
    expect(clientAddress(new Headers({ [PEER_ADDRESS_HEADER]: "::ffff:203.0.113.9", "x-forwarded-for": "1.2.3.4" }), 0)).toBe("203.0.113.9");
  });

  it("with N trusted hops, takes the address the outermost trusted proxy saw", () => {
    // client → nginx (appends the client's address) → app; a forged first entry is ignored.
    const headers = { [PEER_ADDRESS_HEADER]: "10.0.0.5", "x-forwarded-for": "6.6.6.6, 198.51.100.20" };
    expect(clientAddress(headers, 1)).toBe("198.51.100.20");
    expect(clientAddress({ [PEER_ADDRESS_HEADER]: "10.0.0.5", "x-forwarded-for": "6.6.6.6, 198.51.100.20, 10.0.0.9" }, 2)).toBe("198.51.100.20");
    // Fewer entries than hops: the leftmost known, never something past the chain.
    expect(clientAddress({ [PEER_ADDRESS_HEADER]: "10.0.0.5" }, 3)).toBe("10.0.0.5");
  });

  it("without the peer stamp, every request shares one bucket (fails closed)", () => {
    expect(clientAddress({ "x-forwarded-for": "1.2.3.4" }, 0)).toBe(UNKNOWN_ADDRESS);
    expect(clientAddress({}, 1)).toBe(UNKNOWN_ADDRESS);
  });

  it("buckets IPv6 by /64 and drops zones, ports and brackets", () => {
    expect(addressBucket("2001:db8:1:2:aaaa:bbbb:cccc:dddd")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("2001:db8:1:2::1")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("[2001:db8:1:2::1]")).toBe("2001:db8:1:2::/64");
    expect(addressBucket("fe80::1%eth0")).toBe("fe80:0:0:0::/64");
    expect(addressBucket("::1")).toBe("0:0:0:0::/64");
    expect(addressBucket("203.0.113.9:4711")).toBe("203.0.113.9");
    expect(addressBucket("not-an-address")).toBe(UNKNOWN_ADDRESS);
    expect(addressBucket(undefined)).toBe(UNKNOWN_ADDRESS);
  });
});
