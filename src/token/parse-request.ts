// Reads and parses a token request: media type, bounded body, form grammar, duplicate parameters, grant type,
// and which client authentication the request attempts (the form and the authentication are shared with the
// revocation and introspection endpoints). No crypto, no storage, no clock.

import { readBoundedText } from "../lib/bounded-body";
import { CLIENT_CREDENTIALS_GRANT, JWT_BEARER_ASSERTION_TYPE, LIMITS } from "../protocol/constants";
import { TokenServiceError } from "../protocol/errors";
import { JWT_BEARER_GRANT, JWT_SPIFFE_ASSERTION_TYPE } from "../protocol/federation";

/**
 * How the JWT was presented: as a jwt-bearer client assertion (a private_key_jwt assertion, or an external token for
 * a federated client), as a SPIFFE JWT-SVID client assertion, or as the grant itself (RFC 7523 section 2.1).
 */
export type CredentialMethod = "client_assertion" | "spiffe_assertion" | "jwt_bearer_grant";

/** How a request authenticates its client: the JWT, how it came, and the client_id parameter if sent. */
export interface ClientCredentials {
  /** The client assertion, or for the jwt-bearer grant the `assertion` parameter. */
  clientAssertion: string;
  method: CredentialMethod;
  /**
   * The client_id parameter, when sent: it must then name the assertion's client, or, for a federated client, the
   * client whose trust the external token is checked against (required then).
   */
  clientId?: string;
}

export interface TokenRequest extends ClientCredentials {
  scope?: string;
  /** RFC 8707 resource indicators, in request order. */
  resources: string[];
}

/** Parameters that may appear more than once (RFC 8707 section 2). Every other one at most once (RFC 6749 3.2). */
const REPEATABLE = new Set(["resource"]);

function isFormMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(";");
  if (type!.trim().toLowerCase() !== "application/x-www-form-urlencoded") return false;
  for (const param of params) {
    const [name, value] = param.split("=");
    if (name?.trim().toLowerCase() === "charset" && value?.trim().replace(/"/g, "").toLowerCase() !== "utf-8") {
      return false;
    }
  }
  return true;
}

/** Reads the body of a form POST, refusing other media types and anything over the size limit before parsing. */
export async function readFormBody(request: Request): Promise<string> {
  if (!isFormMediaType(request.headers.get("Content-Type"))) throw new TokenServiceError("unsupported_media_type");
  let text: string | null;
  try {
    text = await readBoundedText(request, LIMITS.maxRequestBodyBytes, LIMITS.maxDrainedBodyBytes);
  } catch {
    throw new TokenServiceError("body_malformed", "body is not UTF-8");
  }
  if (text === null) throw new TokenServiceError("body_too_large");
  return text;
}

/** Characters of an HTTP auth-scheme token (RFC 9110 section 11.1); anything else is never echoed back. */
const AUTH_SCHEME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,20}$/;

/**
 * The challenge for a request that tried HTTP authentication (RFC 6749 section 5.2: a 401 naming the scheme the
 * client used). Only a well-formed scheme name is echoed; the credentials never are.
 */
export function challengeFor(authorizationHeader: string): string {
  const scheme = authorizationHeader.trim().split(/\s+/, 1)[0] ?? "";
  return `${AUTH_SCHEME.test(scheme) ? scheme : "Basic"} realm="token"`;
}

/** A parsed form: each parameter's values, in order. An empty value counts as absent (RFC 6749 section 3.1). */
export interface FormFields {
  one(name: string): string | undefined;
  all(name: string): string[];
}

/**
 * The form grammar every endpoint shares: percent-encoding, the field count, and each parameter at most once
 * unless `repeatable` names it (RFC 6749 section 3.2).
 */
export function parseForm(body: string, repeatable: ReadonlySet<string> = new Set()): FormFields {
  if (/%(?![0-9A-Fa-f]{2})/.test(body)) throw new TokenServiceError("body_malformed", "bad percent-encoding");
  const form = new URLSearchParams(body);
  const values = new Map<string, string[]>();
  let fields = 0;
  for (const [name, value] of form) {
    if (++fields > LIMITS.maxFormFields) throw new TokenServiceError("too_many_fields");
    const list = values.get(name);
    if (list) {
      if (!repeatable.has(name)) throw new TokenServiceError("duplicate_parameter", `parameter ${name.slice(0, 40)}`);
      list.push(value);
    } else {
      values.set(name, [value]);
    }
  }
  return {
    one(name) {
      const value = values.get(name)?.[0];
      return value === undefined || value === "" ? undefined : value;
    },
    all(name) {
      return (values.get(name) ?? []).filter((v) => v !== "");
    },
  };
}

/**
 * The client authentication a request attempts: exactly one private_key_jwt assertion. `authorizationHeader` is the
 * request's HTTP authentication, if any, which is refused: with an assertion it is a second method (RFC 6749 section
 * 2.3, invalid_request); alone it is an unsupported method (invalid_client, with a challenge for the scheme it used).
 */
export function parseClientCredentials(form: FormFields, authorizationHeader: string | undefined): ClientCredentials {
  const assertion = form.one("client_assertion");
  const assertionType = form.one("client_assertion_type");
  if (authorizationHeader !== undefined) {
    if (assertion || assertionType || form.one("client_secret") !== undefined)
      throw new TokenServiceError("multiple_auth_methods");
    throw new TokenServiceError("client_secret_not_accepted", "Authorization header", {
      headers: { "WWW-Authenticate": challengeFor(authorizationHeader) },
    });
  }
  if (form.one("client_secret") !== undefined) {
    throw new TokenServiceError(assertion ? "multiple_auth_methods" : "client_secret_not_accepted");
  }
  if (assertion === undefined) throw new TokenServiceError("client_assertion_missing");
  const spiffe = assertionType === JWT_SPIFFE_ASSERTION_TYPE;
  if (assertionType !== JWT_BEARER_ASSERTION_TYPE && !spiffe)
    throw new TokenServiceError("client_assertion_type_unsupported");
  const credentials: ClientCredentials = {
    clientAssertion: assertion,
    method: spiffe ? "spiffe_assertion" : "client_assertion",
  };
  const clientId = form.one("client_id");
  if (clientId !== undefined) credentials.clientId = clientId;
  // A JWT-SVID names a workload, never our client: the client it speaks for must be named.
  else if (spiffe) throw new TokenServiceError("federated_client_id_missing", "jwt-spiffe without client_id");
  return credentials;
}

/**
 * The RFC 7523 section 2.1 grant: the external token in `assertion`, the client named by `client_id` (the token's
 * `iss` and `sub` are the workload's, not ours), and no other client authentication.
 */
function parseAssertionGrant(form: FormFields, authorizationHeader: string | undefined): ClientCredentials {
  if (authorizationHeader !== undefined || form.one("client_assertion") || form.one("client_secret") !== undefined)
    throw new TokenServiceError("multiple_auth_methods", "jwt-bearer grant with client authentication");
  const assertion = form.one("assertion");
  if (assertion === undefined) throw new TokenServiceError("client_assertion_missing", "assertion parameter");
  const clientId = form.one("client_id");
  if (clientId === undefined) throw new TokenServiceError("federated_client_id_missing", "jwt-bearer grant");
  return { clientAssertion: assertion, method: "jwt_bearer_grant", clientId };
}

/** The form of a token request (resource may repeat). */
export function parseTokenForm(body: string): FormFields {
  return parseForm(body, REPEATABLE);
}

/** Parses a token request's form: the grant type, the client authentication, scope and resources. */
export function parseTokenRequest(form: FormFields, authorizationHeader: string | undefined): TokenRequest {
  const grantType = form.one("grant_type");
  if (grantType === undefined) throw new TokenServiceError("grant_type_missing");
  if (grantType !== CLIENT_CREDENTIALS_GRANT && grantType !== JWT_BEARER_GRANT)
    throw new TokenServiceError("grant_type_unsupported");
  const credentials =
    grantType === JWT_BEARER_GRANT
      ? parseAssertionGrant(form, authorizationHeader)
      : parseClientCredentials(form, authorizationHeader);

  const resources = form.all("resource");
  if (resources.length > LIMITS.maxResourceParameters) throw new TokenServiceError("too_many_fields", "resource");
  const scope = form.one("scope");
  if (scope !== undefined && scope.length > LIMITS.maxScopeLength) throw new TokenServiceError("scope_malformed");

  const request: TokenRequest = { ...credentials, resources };
  if (scope !== undefined) request.scope = scope;
  return request;
}
