// Reading the parts of an admin request: a bounded, strict JSON object body, an If-Match precondition naming a record
// version, and the ETag of a version. Refusals are TokenServiceErrors that tell the (authenticated) operator what
// was wrong. No storage, no clock.
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { readBoundedText } from "../lib/bounded-body";
import { hasDuplicateMembers } from "../lib/strict-json";
import { LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";

function invalid(publicDetail: string): TokenServiceError {
  return new TokenServiceError("admin_request_invalid", publicDetail, { publicDetail });
}

/** The strong entity tag of a record version: `"<version>"`. */
export function etagOf(version: number): string {
  return `"${version}"`;
}

/**
 * The version an If-Match header names, undefined when there is none or it is `*` (any current record). A weak tag
 * or a list of tags is refused: a write names the one version it was prepared against.
 */
export function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (value === "*") return undefined;
  const match = /^"([1-9][0-9]{0,15})"$/.exec(value);
  if (!match) throw invalid('If-Match must be one strong entity tag, as the ETag header gives it (for example "3")');
  return Number(match[1]);
}

/** The request body as a JSON object, for the media types given. */
export async function readJsonObject(
  c: Context<AppEnv>,
  mediaTypes: readonly string[] = ["application/json"],
): Promise<Record<string, unknown>> {
  const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (type === undefined || !mediaTypes.includes(type)) {
    throw invalid(`the body must be ${mediaTypes.join(" or ")}`);
  }
  let text: string | null;
  try {
    text = await readBoundedText(c.req.raw, LIMITS.maxAdminBodyBytes, LIMITS.maxDrainedBodyBytes);
  } catch {
    throw invalid("the body is not UTF-8");
  }
  if (text === null) throw invalid(`the body is larger than ${LIMITS.maxAdminBodyBytes} bytes`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalid("the body is not JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw invalid("the body must be a JSON object");
  if (hasDuplicateMembers(text)) throw invalid("the body repeats a member name");
  return value as Record<string, unknown>;
}
