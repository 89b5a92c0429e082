// Unit tests for the client record rules shared by the Worker (every read) and the CLI (every write).
import { describe, expect, it } from "vitest";
import { JwkError } from "../../../src/protocol/jwk";
import { RecordError, validateClientRecord } from "../../../src/registry/record";
import { messageOf } from "../verdict";

const errorOf = (fn: () => unknown) => messageOf(fn, JwkError, RecordError);

const b64 = (bytes: number, fill = 0xab) =>
  btoa(String.fromCharCode(...new Uint8Array(bytes).fill(fill)))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
const EC_P256 = { kty: "EC", crv: "P-256", x: b64(32), y: b64(32) };

describe("validateClientRecord", () => {
  const record = {
    client_id: "svc-a",
    status: "active",
    jwks: { keys: [EC_P256] },
    scopes: ["read"],
    audiences: ["https://api.example.test"],
  };
  it("accepts a minimal record", () => expect(errorOf(() => validateClientRecord(record, "svc-a"))).toBe("accepted"));
  it("ignores unknown fields so later versions can add some", () => {
    expect(errorOf(() => validateClientRecord({ ...record, future_field: 1 }))).toBe("accepted");
  });
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["rejects when client_id disagrees with the key", {}, /does not match the registry key/],
    ["rejects an unknown status", { status: "paused" }, /status/],
    ["rejects a jwks that is not a JWK Set", { jwks: [] }, /jwks: a JWK Set/],
    ["rejects an invalid scope token", { scopes: ["bad scope"] }, /scopes holds an invalid entry/],
    ["rejects duplicate scopes", { scopes: ["a", "a"] }, /duplicates/],
    ["rejects an audience with a fragment", { audiences: ["https://api.example.test/#x"] }, /audiences/],
    ["rejects an audience that is not absolute", { audiences: ["/relative"] }, /audiences/],
    ["rejects default scopes outside the allowed scopes", { default_scopes: ["admin"] }, /subset/],
    ["rejects a fractional token_ttl", { token_ttl: 1.5 }, /token_ttl/],
    [
      "rejects both jwks and jwks_uri",
      { jwks_uri: "https://keys.example/jwks" },
      /one of jwks \(inline keys\) and jwks_uri, not both/,
    ],
    ["rejects neither jwks nor jwks_uri", { jwks: undefined, jwks_uri: undefined }, /exactly one of jwks/],
    [
      "rejects an http jwks_uri off loopback",
      { jwks: undefined, jwks_uri: "http://keys.example/jwks" },
      /jwks_uri must use https/,
    ],
    [
      "rejects a jwks_uri with credentials",
      { jwks: undefined, jwks_uri: "https://u:p@keys.example/jwks" },
      /jwks_uri must carry no credentials/,
    ],
    [
      "rejects a jwks_uri at an IPv4 address",
      { jwks: undefined, jwks_uri: "https://203.0.113.7/jwks" },
      /jwks_uri must name its host, not an IP address/,
    ],
    [
      "rejects a jwks_uri at an IPv4 address written as one number (the URL parser's spelling of 169.254.169.254)",
      { jwks: undefined, jwks_uri: "https://2852039166/latest/meta-data" },
      /not an IP address/,
    ],
    [
      "rejects a jwks_uri at an IPv6 address",
      { jwks: undefined, jwks_uri: "https://[fd00::1]/jwks" },
      /jwks_uri must name its host, not an IP address/,
    ],
    [
      "rejects a jwks_uri on another port than 443",
      { jwks: undefined, jwks_uri: "https://keys.example:8443/jwks" },
      /jwks_uri must use the default https port, 443/,
    ],
    [
      "rejects a jwks_uri on a single-label host",
      { jwks: undefined, jwks_uri: "https://keyserver/jwks" },
      /jwks_uri must name a public host/,
    ],
    [
      "rejects a jwks_uri on a .internal host",
      { jwks: undefined, jwks_uri: "https://keys.corp.internal/jwks" },
      /jwks_uri must name a public host/,
    ],
    ["rejects a jwks_uri on a .local host", { jwks: undefined, jwks_uri: "https://keys.local./jwks" }, /public host/],
    [
      "accepts a jwks_uri naming port 443, which is the default",
      { jwks: undefined, jwks_uri: "https://keys.example:443/jwks" },
      /^accepted$/,
    ],
    [
      "accepts a loopback jwks_uri, over http, on any port (the fetch needs ALLOW_INSECURE_JWKS_URI)",
      { jwks: undefined, jwks_uri: "http://127.0.0.1:8788/jwks" },
      /^accepted$/,
    ],
    [
      "accepts an https jwks_uri instead of jwks",
      { jwks: undefined, jwks_uri: "https://keys.example/jwks" },
      /^accepted$/,
    ],
  ];
  for (const [name, overrides, expected] of cases) {
    it(name, () => {
      const expectedId = name.includes("disagrees") ? "svc-b" : "svc-a";
      expect(errorOf(() => validateClientRecord({ ...record, ...overrides }, expectedId))).toMatch(expected);
    });
  }
});
