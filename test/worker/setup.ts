// Runs before every in-workerd test file: captures the service's audit lines (so tests can assert the internal reason
// of a refusal, which the wire never shows), and after each test empties storage, the isolate caches and the clock.
import { reset } from "cloudflare:test";
import { afterEach, vi } from "vitest";
import { clearIsolateCaches } from "../../src/lib/bounded-cache";
import { clearAuditLog, installAuditCapture } from "./audit-capture";

installAuditCapture();

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  await reset();
  clearIsolateCaches();
  clearAuditLog();
});
