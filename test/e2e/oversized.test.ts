// Oversized token requests against the shared `npm run dev`: a body declared over the limit (10,000 form fields,
// about 79 KB) and one streamed over it without a Content-Length each get the JSON 413, twenty times in a row, never
// wrangler's 503 "Your worker restarted mid-request"; and a well-formed request afterwards on the same keep-alive
// agent is answered as usual.
import { Agent, request } from "node:http";
import { afterAll, describe, expect, inject, it } from "vitest";

const issuer = inject("issuer");
const agent = new Agent({ keepAlive: true, maxSockets: 1 });

afterAll(() => agent.destroy());

/** POSTs `chunks` to /token (chunked when `declared` is false) and returns the status and the parsed JSON body. */
function post(chunks: string[], declared: boolean): Promise<{ status: number; body: Record<string, unknown> }> {
  const url = new URL("/token", issuer);
  const length = chunks.reduce((sum, chunk) => sum + Buffer.byteLength(chunk), 0);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        agent,
        headers: {
          "Content-Type": "application/x-www-form-urlencoded",
          ...(declared ? { "Content-Length": String(length) } : { "Transfer-Encoding": "chunked" }),
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (part: string) => (text += part));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, unknown> });
          } catch {
            reject(new Error(`status ${res.statusCode}, not JSON: ${text.slice(0, 120)}`));
          }
        });
      },
    );
    req.on("error", reject);
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

const FIELDS = Array.from({ length: 10_000 }, (_, i) => `f${i}=v${i}`).join("&");

describe("an oversized token request", () => {
  it.each([
    ["declared in Content-Length", true],
    ["streamed without a Content-Length", false],
  ])("%s gets the JSON 413 every time, and the next request is served", async (_how, declared) => {
    const chunks = declared ? [FIELDS] : FIELDS.match(/.{1,8192}/gs)!;
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await post(chunks, declared));
    expect(answers.map((a) => `${a.status} ${a.body.error}`)).toEqual(Array(20).fill("413 invalid_request"));
    const next = await post(["grant_type=password"], true);
    expect({ status: next.status, error: next.body.error }).toEqual({ status: 400, error: "unsupported_grant_type" });
  });
});
