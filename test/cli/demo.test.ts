// `npm run demo` end to end, as a new user runs it (with throwaway state): it must print every step, end with
// a verified token, exit 0, and leave no server running behind it.
import { execFile } from "node:child_process";
import { describe, expect, it } from "vitest";
import { PROJECT_ROOT, temporaryFolder } from "./support";

function runDemo(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const env = { ...process.env };
  delete env.INIT_CWD;
  return new Promise((resolvePromise) => {
    execFile(
      "npm",
      ["run", "demo", "--", ...args],
      { cwd: PROJECT_ROOT, env, timeout: 240_000 },
      (error, stdout, stderr) => {
        resolvePromise({ status: error ? (typeof error.code === "number" ? error.code : 1) : 0, stdout, stderr });
      },
    );
  });
}

function processesListeningOn(port: string): Promise<string[]> {
  return new Promise((resolvePromise) => {
    execFile("ps", ["-eo", "stat=,args="], (_error, stdout) => {
      resolvePromise(stdout.split("\n").filter((line) => line.includes(`--port ${port}`) && !/^Z/.test(line.trim())));
    });
  });
}

describe("npm run demo", () => {
  it("starts a server, registers a client, gets a token, verifies it, and stops the server", {
    timeout: 300_000,
  }, async () => {
    const state = await temporaryFolder("demo");
    try {
      const result = await runDemo(["--persist-to", state.path]);
      expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0);
      const out = result.stdout;
      const issuer = /a local server was started at (http:\/\/127\.0\.0\.1:(\d+))\./.exec(out);
      expect(issuer, out).not.toBeNull();
      expect(out).toMatch(/^2\. Generated the client's ES256 key pair/m);
      expect(out).toMatch(/^3\. Registered client "demo-[0-9a-f]{8}" in the local registry at /m);
      expect(out).toMatch(/^4\. Found the token endpoint http:\/\/127\.0\.0\.1:\d+\/token in the server's metadata/m);
      expect(out).toMatch(
        /^5\. Verified the token's ES256 signature against http:\/\/127\.0\.0\.1:\d+\/\.well-known\/jwks\.json .* typ at\+jwt, iss http:\/\/127\.0\.0\.1:\d+, aud https:\/\/api\.example\.test, sub demo-[0-9a-f]{8}/m,
      );
      expect(out).toMatch(/^Done: a verified access token for "demo-[0-9a-f]{8}":\neyJ[\w-]+\.[\w-]+\.[\w-]+$/m);
      expect(out).toContain("The local server started for the demo has been stopped.");

      // Nothing of the server is left: the port is closed and no process of it remains.
      await expect(fetch(`${issuer![1]}/.well-known/oauth-authorization-server`)).rejects.toThrow();
      expect(await processesListeningOn(issuer![2]!)).toEqual([]);
    } finally {
      await state.remove();
    }
  });
});
