// The CLI's client side in process, against a throwaway HTTP server on loopback: metadata discovery is tried
// again after an unanswered request, and gives up with one line when the server never answers.
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { CliError } from "../../scripts/lib/cli-error";
import { discoverServer } from "../../scripts/lib/token-client";

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A server that leaves the first `silent` requests unanswered and answers the rest with metadata for itself. */
async function metadataServer(silent: number): Promise<{ issuer: string; requests: () => number }> {
  let seen = 0;
  server = createServer((_request, response) => {
    seen += 1;
    if (seen <= silent) return; // never answered
    const issuer = `http://127.0.0.1:${(server!.address() as { port: number }).port}`;
    response.setHeader("Content-Type", "application/json");
    response.end(JSON.stringify({ issuer, token_endpoint: `${issuer}/token` }));
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { issuer, requests: () => seen };
}

describe("metadata discovery", () => {
  it("asks again, on a new connection, when a request goes unanswered", async () => {
    const { issuer, requests } = await metadataServer(1);
    const metadata = await discoverServer(issuer, { timeoutMs: 500 });
    expect(metadata.token_endpoint).toBe(`${issuer}/token`);
    expect(requests()).toBe(2);
  });

  it("gives up after two unanswered requests with one line naming the URL", async () => {
    const { issuer, requests } = await metadataServer(2);
    const failure = await discoverServer(issuer, { timeoutMs: 300 }).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CliError);
    expect((failure as CliError).message).toMatch(
      new RegExp(`^cannot reach ${issuer}/\\.well-known/oauth-authorization-server: `),
    );
    expect((failure as CliError).message).not.toContain("\n");
    expect(requests()).toBe(2);
  });
});
