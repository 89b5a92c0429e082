// Unit tests for strict JOSE segment decoding: canonical base64url only, duplicate JSON members found at any depth.
import { describe, expect, it } from "vitest";
import { isAcceptedAssertionType } from "../../../src/assertion/decode";
import { decodeBase64url, hasDuplicateMembers } from "../../../src/lib/strict-json";

describe("strict segment decoding", () => {
  it("refuses non-canonical base64url (stray trailing bits)", () => {
    expect(decodeBase64url("QQ")).not.toBeNull();
    expect(decodeBase64url("QR")).toBeNull();
  });

  it("finds duplicate members at any depth, but not across objects", () => {
    expect(hasDuplicateMembers('{"a":1,"b":{"c":1,"c":2}}')).toBe(true);
    expect(hasDuplicateMembers('{"a":{"x":1},"b":{"x":1}}')).toBe(false);
    expect(hasDuplicateMembers('{"a":"\\"","\\u0061":2}')).toBe(true);
    expect(hasDuplicateMembers('{"a":[{"k":1},{"k":2}]}')).toBe(false);
  });

  it("compares typ case-insensitively with an optional application/ prefix", () => {
    expect(isAcceptedAssertionType("Client-Authentication+JWT")).toBe(true);
    expect(isAcceptedAssertionType("application/jwt")).toBe(true);
    expect(isAcceptedAssertionType("jwt ")).toBe(false);
  });
});
