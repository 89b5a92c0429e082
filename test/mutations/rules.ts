// The security rules the mutation check removes one at a time, grouped by the requirement they enforce, each with the
// tests that must then fail on an assertion. docs/rfc-traceability.md is generated from this list (traceability.ts),
// so the table claims exactly what the check proves. Data only.

export interface MutationRule {
  /** Stable id, named in the docs. */
  id: string;
  /** The source file holding the check, relative to the project root. */
  file: string;
  /** Text that occurs exactly once in the file: the check. */
  find: string;
  /** What it becomes: the check removed or defeated. */
  replace: string;
  /** Tests that must fail on an assertion without the check: "test file › test title" (the title may be preceded by its describe blocks). */
  tests: string[];
}

export interface Requirement {
  requirement: string;
  /** The specification clause, or "security model" for a rule of this service's own. */
  source: string;
  rules: MutationRule[];
}

const ENDPOINT = "test/worker/token/endpoint.test.ts";
const ATTACKS = "test/security/attacks.test.ts";
const CLAIMS = "test/worker/assertion/claims.test.ts";
const DECODE = "test/worker/assertion/decode.test.ts";
const STRICT_JSON = "test/worker/lib/strict-json.test.ts";
const KEY_SELECTION = "test/worker/assertion/key-selection.test.ts";
const JWK = "test/worker/protocol/jwk.test.ts";
const RECORD = "test/worker/registry/record.test.ts";
const CACHE = "test/worker/registry/client-registry.test.ts";
const REMOTE = "test/worker/registry/remote-jwks.test.ts";
const GUARD = "test/worker/client-authority/authority.test.ts";
const RATE = "test/worker/client-authority/rate-limit.test.ts";
const OUTCOMES = "test/worker/token/storage-outcomes.test.ts";
const ADMIN = "test/worker/admin/api.test.ts";
const ADMIN_TOKEN = "test/worker/admin/admin-token.test.ts";
const CONFIG = "test/worker/config.test.ts";
const SIGNING = "test/worker/issuer/signing-keys.test.ts";
const METADATA = "test/worker/issuer/metadata.test.ts";
const FUZZ = "test/security/fuzz.test.ts";
const PROFILES = "test/worker/token/profiles.test.ts";
const DPOP = "test/worker/token/dpop.test.ts";
const DPOP_DECODE = "test/worker/dpop/decode.test.ts";
const DPOP_CLAIMS = "test/worker/dpop/claims.test.ts";
const DPOP_NONCE = "test/worker/dpop/nonce.test.ts";
const RS = "test/worker/resource-server/verifier.test.ts";
const RS_REPLAY = "test/worker/resource-server/proof-replay.test.ts";
const INTROSPECTION = "test/worker/issued-tokens/introspection.test.ts";
const RS_ONLINE = "test/worker/resource-server/introspection.test.ts";
const REVOCATION = "test/worker/issued-tokens/revocation.test.ts";
const FEDERATION = "test/worker/federation/token.test.ts";
const TRUST = "test/worker/federation/trust.test.ts";

const t = (file: string, ...titles: string[]) => titles.map((title) => `${file} › ${title}`);

export const REQUIREMENTS: Requirement[] = [
  {
    requirement: "the token request is an `application/x-www-form-urlencoded` body in UTF-8",
    source: "RFC 6749 §4.4.2, §B",
    rules: [
      {
        id: "form-media-type",
        file: "src/token/parse-request.ts",
        find: 'if (!isFormMediaType(request.headers.get("Content-Type"))) throw new TokenServiceError("unsupported_media_type");',
        replace: "",
        tests: t(ENDPOINT, "rejects a valid form sent as application/json with unsupported_media_type"),
      },
      {
        id: "form-charset",
        file: "src/token/parse-request.ts",
        find: 'value?.trim().replace(/"/g, "").toLowerCase() !== "utf-8"',
        replace: "false",
        tests: t(ENDPOINT, "rejects a valid form declared in a charset other than UTF-8 with unsupported_media_type"),
      },
      {
        id: "body-utf8",
        file: "src/lib/bounded-body.ts",
        find: 'const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });',
        replace: 'const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });',
        tests: t(ATTACKS, "rejects an otherwise valid token request whose body is not UTF-8"),
      },
      {
        id: "form-percent-encoding",
        file: "src/token/parse-request.ts",
        find: 'if (/%(?![0-9A-Fa-f]{2})/.test(body)) throw new TokenServiceError("body_malformed", "bad percent-encoding");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_request when the body has broken percent-encoding"),
      },
    ],
  },
  {
    requirement:
      "request size is bounded before parsing: the body (declared and streamed), the form fields, the `resource` values, the `scope` length",
    source: "security model",
    rules: [
      {
        id: "body-size-declared",
        file: "src/lib/bounded-body.ts",
        find: "!(Number(declared) <= maxBytes)",
        replace: "false",
        tests: t(ATTACKS, "rejects a declared Content-Length over the limit without reading a small body"),
      },
      {
        id: "body-size-streamed",
        file: "src/lib/bounded-body.ts",
        find: "if (size > maxBytes) {",
        replace: "if (false) {",
        tests: t(ENDPOINT, "rejects with 413 when a streamed body without Content-Length grows over the limit"),
      },
      {
        id: "form-field-count",
        file: "src/token/parse-request.ts",
        find: 'if (++fields > LIMITS.maxFormFields) throw new TokenServiceError("too_many_fields");',
        replace: "++fields;",
        tests: t(ATTACKS, "rejects too many form fields"),
      },
      {
        id: "resource-count",
        file: "src/token/parse-request.ts",
        find: 'if (resources.length > LIMITS.maxResourceParameters) throw new TokenServiceError("too_many_fields", "resource");',
        replace: "",
        tests: t(ATTACKS, "rejects more resource parameters than the limit"),
      },
      {
        id: "scope-length",
        file: "src/token/parse-request.ts",
        find: 'if (scope !== undefined && scope.length > LIMITS.maxScopeLength) throw new TokenServiceError("scope_malformed");',
        replace: "",
        tests: t(
          ENDPOINT,
          "rejects with invalid_scope a scope parameter longer than the limit, before looking at its tokens",
        ),
      },
    ],
  },
  {
    requirement:
      "no request over plain http to an https issuer, and no credential or token in a query string, at any endpoint",
    source: "RFC 6749 §1.6, §3.2, RFC 6750 §2.3, security model",
    rules: [
      {
        id: "transport-https",
        file: "src/protocol/transport.ts",
        find: 'if (url.protocol === "http:" && issuer.startsWith("https:")) return "insecure_transport";',
        replace: "",
        tests: t(ATTACKS, "rejects plain http when the issuer is https, before any credential is read"),
      },
      {
        id: "transport-origin-is-issuer",
        file: "src/protocol/transport.ts",
        find: 'if (!loopback && url.origin !== expected.origin) return "origin_not_issuer";',
        replace: "",
        tests: t(
          ATTACKS,
          "refuses a request that reached the Worker at another origin (421), before any credential is read",
        ),
      },
      {
        id: "transport-no-query-credentials",
        file: "src/protocol/transport.ts",
        find: 'if (CREDENTIAL_PARAMETERS.some((name) => url.searchParams.has(name))) return "credentials_in_query";',
        replace: "",
        tests: t(
          ATTACKS,
          "refuses credentials in the query string, at the token, revocation and introspection endpoints alike",
        ),
      },
    ],
  },
  {
    requirement: "every parameter at most once, except `resource`",
    source: "RFC 6749 §3.2, RFC 8707 §2",
    rules: [
      {
        id: "parameter-once",
        file: "src/token/parse-request.ts",
        find: 'if (!repeatable.has(name)) throw new TokenServiceError("duplicate_parameter", `parameter ${name.slice(0, 40)}`);',
        replace: "",
        tests: [
          ...t(ENDPOINT, "rejects with invalid_request when a parameter is repeated"),
          ...t(ATTACKS, "rejects a duplicated grant_type"),
        ],
      },
    ],
  },
  {
    requirement: "`grant_type` is required, and only `client_credentials` is served",
    source: "RFC 6749 §4.4.2, §5.2",
    rules: [
      {
        id: "grant-type-required",
        file: "src/token/parse-request.ts",
        find: 'if (grantType === undefined) throw new TokenServiceError("grant_type_missing");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_request when grant_type is missing"),
      },
      {
        id: "grant-type-client-credentials",
        file: "src/token/parse-request.ts",
        find: "if (grantType !== CLIENT_CREDENTIALS_GRANT && grantType !== JWT_BEARER_GRANT)",
        replace: "if (false)",
        tests: t(ENDPOINT, "rejects with unsupported_grant_type for the password grant"),
      },
    ],
  },
  {
    requirement:
      "exactly one client authentication method: a `client_secret` or an `Authorization` header beside the assertion is `invalid_request`; either alone is an unsupported method, `invalid_client`, with a challenge for the scheme used",
    source: "RFC 6749 §2.3, §5.2",
    rules: [
      {
        id: "auth-secret",
        file: "src/token/parse-request.ts",
        find: 'throw new TokenServiceError(assertion ? "multiple_auth_methods" : "client_secret_not_accepted");',
        replace: "",
        tests: t(
          ENDPOINT,
          "rejects with invalid_request when a client_secret is sent with the assertion",
          "rejects a client_secret alone with 401 invalid_client: an unsupported authentication method",
        ),
      },
      {
        id: "auth-header-with-assertion",
        file: "src/token/parse-request.ts",
        find: 'if (assertion || assertionType || form.one("client_secret") !== undefined)\n      throw new TokenServiceError("multiple_auth_methods");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_request when an Authorization header comes with the assertion"),
      },
      {
        id: "auth-header-alone",
        file: "src/token/parse-request.ts",
        find: 'throw new TokenServiceError("client_secret_not_accepted", "Authorization header", {\n      headers: { "WWW-Authenticate": challengeFor(authorizationHeader) },\n    });',
        replace: "",
        tests: t(
          ENDPOINT,
          "rejects HTTP authentication alone (Bearer abc.def) with 401 invalid_client and a challenge for its scheme",
        ),
      },
      {
        id: "assertion-required",
        file: "src/token/parse-request.ts",
        find: 'if (assertion === undefined) throw new TokenServiceError("client_assertion_missing");',
        replace: "",
        tests: t(ENDPOINT, "rejects when the client_assertion is missing"),
      },
    ],
  },
  {
    requirement: "`client_assertion_type` is `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`",
    source: "RFC 7523 §2.2",
    rules: [
      {
        id: "assertion-type",
        file: "src/token/parse-request.ts",
        find: "if (assertionType !== JWT_BEARER_ASSERTION_TYPE && !spiffe)",
        replace: "if (false)",
        tests: t(ENDPOINT, "rejects when client_assertion_type is not jwt-bearer"),
      },
    ],
  },
  {
    requirement: "the assertion is a bounded compact JWS: size caps, three segments, canonical base64url, no JWE",
    source: "RFC 7515 §7.1, RFC 7523 §3 (8)",
    rules: [
      {
        id: "assertion-size",
        file: "src/assertion/decode.ts",
        find: 'if (compact.length > LIMITS.maxAssertionLength) throw new TokenServiceError("assertion_too_large");',
        replace: "",
        tests: t(DECODE, "rejects an assertion over the size limit"),
      },
      {
        id: "header-size",
        file: "src/assertion/decode.ts",
        find: "if (headerPart.length > Math.ceil((LIMITS.maxAssertionHeaderBytes * 4) / 3)) {",
        replace: "if (false) {",
        tests: t(DECODE, "rejects an oversized header"),
      },
      {
        id: "no-jwe-compact",
        file: "src/assertion/decode.ts",
        find: 'if (parts.length === 5) throw new TokenServiceError("assertion_encrypted", "JWE compact serialisation");',
        replace: "",
        tests: [...t(ATTACKS, "rejects a JWE (nested/encrypted token)"), ...t(DECODE, "rejects a JWE (five segments)")],
      },
      {
        id: "no-jwe-members",
        file: "src/assertion/decode.ts",
        find: 'if ("enc" in raw || "zip" in raw) throw new TokenServiceError("assertion_encrypted", "JWE header members");',
        replace: "",
        tests: t(ATTACKS, "rejects JWE header members in a three-segment token"),
      },
      {
        id: "signature-segment-canonical",
        file: "src/assertion/decode.ts",
        find: 'if (!decodeBase64url(signaturePart)) throw new TokenServiceError("assertion_malformed", "signature segment");',
        replace: "",
        tests: t(ATTACKS, "rejects a signature re-encoded with non-canonical base64url, without spending its jti"),
      },
      {
        id: "base64url-canonical",
        file: "src/lib/strict-json.ts",
        find: '.replace(/\\//g, "_") !== segment) return null;',
        replace: '.replace(/\\//g, "_") !== segment && false) return null;',
        tests: [
          ...t(STRICT_JSON, "refuses non-canonical base64url (stray trailing bits)"),
          ...t(ATTACKS, "rejects a signature re-encoded with non-canonical base64url, without spending its jti"),
        ],
      },
    ],
  },
  {
    requirement:
      "header and claims are strict UTF-8 JSON objects without duplicate members, so two parsers never disagree",
    source: "RFC 7515 §5.2, RFC 8259 §4, RFC 8725 §3.2",
    rules: [
      {
        id: "json-no-duplicates",
        file: "src/lib/strict-json.ts",
        find: "if (hasDuplicateMembers(text)) return null;",
        replace: "",
        tests: t(
          ATTACKS,
          "rejects duplicate aud members (wrong first, right last)",
          "rejects duplicate alg members in the header",
        ),
      },
      {
        id: "json-utf8",
        file: "src/lib/strict-json.ts",
        find: 'const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });',
        replace: 'const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });',
        tests: t(DECODE, "rejects a header whose JSON strings are not UTF-8"),
      },
      {
        id: "json-object-only",
        file: "src/lib/strict-json.ts",
        find: 'if (typeof value !== "object" || value === null || Array.isArray(value)) return null;',
        replace: "",
        tests: t(ATTACKS, "rejects a header that is a JSON string"),
      },
    ],
  },
  {
    requirement: "asymmetric signature algorithms only: no `none`, no HMAC",
    source: "RFC 8725 §3.1, §3.2; RFC 7518 §3.1",
    rules: [
      {
        id: "alg-allowlist",
        file: "src/assertion/decode.ts",
        find: "!isAssertionAlgorithm(raw.alg) || !algorithms.includes(raw.alg)",
        replace: "typeof raw.alg !== 'string'",
        tests: [
          ...t(ATTACKS, "rejects HS256 keyed with the client's public key (PEM)", "rejects alg None in another case"),
          ...t(DECODE, "rejects when alg is HS256 (HMAC keyed with a public key)"),
        ],
      },
      {
        id: "metadata-algs",
        file: "src/issuer/metadata.ts",
        find: "token_endpoint_auth_signing_alg_values_supported: [...config.algorithms],",
        replace: 'token_endpoint_auth_signing_alg_values_supported: [...config.algorithms, "HS256"],',
        tests: t(METADATA, "serves RFC 8414 metadata at /.well-known/oauth-authorization-server"),
      },
    ],
  },
  {
    requirement: "keys never come from the token: `jwk`, `jku`, `x5u`, `x5c` refused; `crit` and `b64` refused",
    source: "RFC 8725 §3.10, RFC 7515 §4.1.11, RFC 7797",
    rules: [
      {
        id: "no-header-keys",
        file: "src/assertion/decode.ts",
        find: 'if (member in raw) throw new TokenServiceError("header_key_material", `header member ${member}`);',
        replace: "",
        tests: t(
          ATTACKS,
          "rejects an embedded jwk that verifies the signature",
          "rejects a jku pointing at an attacker's JWKS",
          "rejects an x5c chain in the header",
        ),
      },
      {
        id: "no-crit",
        file: "src/assertion/decode.ts",
        find: 'if ("crit" in raw || "b64" in raw) throw new TokenServiceError("crit_not_supported");',
        replace: "",
        tests: t(ATTACKS, "rejects crit naming an unknown extension", "rejects b64:false (unencoded payload)"),
      },
    ],
  },
  {
    requirement:
      "an explicit `typ` must mark a client assertion (`JWT`, `client-authentication+jwt`); a missing `typ` is accepted",
    source: "RFC 8725 §3.11, RFC 10070",
    rules: [
      {
        id: "typ-allowlist",
        file: "src/assertion/decode.ts",
        find: "!isAcceptedAssertionType(raw.typ)",
        replace: "false",
        tests: t(ATTACKS, "rejects typ at+jwt", "rejects typ dpop+jwt"),
      },
      {
        id: "typ-string",
        file: "src/assertion/decode.ts",
        find: 'typeof raw.typ !== "string" || !isAcceptedAssertionType(raw.typ)',
        replace: "!isAcceptedAssertionType(raw.typ as string)",
        tests: t(DECODE, "rejects when typ is not a string"),
      },
    ],
  },
  {
    requirement: "`kid` is a bounded string",
    source: "RFC 7515 §4.1.4, security model",
    rules: [
      {
        id: "kid-bounded",
        file: "src/assertion/decode.ts",
        find: 'if (typeof raw.kid !== "string" || raw.kid.length === 0 || raw.kid.length > LIMITS.maxKidLength) {',
        replace: "if (false) {",
        tests: t(ATTACKS, "rejects an oversized kid", "rejects a kid that is an object"),
      },
    ],
  },
  {
    requirement: "`iss` and `sub` are both the client_id",
    source: "RFC 7523 §3 (1, 2), OIDC Core §9",
    rules: [
      {
        id: "iss-sub-client-id",
        file: "src/assertion/claims.ts",
        find: "if (!isValidClientId(iss) || !isValidClientId(sub)) {",
        replace: "if (false) {",
        tests: [...t(ATTACKS, "rejects iss as an array"), ...t(CLAIMS, "rejects when iss holds control characters")],
      },
      {
        id: "iss-equals-sub",
        file: "src/assertion/claims.ts",
        find: 'if (iss !== sub) throw new TokenServiceError("iss_sub_mismatch");',
        replace: "",
        tests: [...t(ENDPOINT, "rejects when iss and sub differ"), ...t(CLAIMS, "rejects when iss and sub differ")],
      },
      {
        id: "client-id-parameter",
        file: "src/assertion/claims.ts",
        find: 'if (clientIdParam !== undefined && clientIdParam !== iss) throw new TokenServiceError("client_id_mismatch");',
        replace: "",
        tests: t(ENDPOINT, "rejects when the client_id parameter names another client"),
      },
    ],
  },
  {
    requirement:
      "`aud` is the issuer identifier as its sole value, compared exactly (no trailing-slash, case, port or whitespace folding): a JSON string, or in the default profile the only member of an array; FAPI 2.0 takes only the string",
    source: "RFC 7523 §3 (3), RFC 10070 §4, FAPI 2.0 Security Profile §5.3.2.1",
    rules: [
      {
        id: "aud-exact",
        file: "src/assertion/audience.ts",
        find: 'if (!policy.acceptedAudiences.includes(aud)) throw new TokenServiceError("aud_invalid", "aud is not the issuer");',
        replace: "",
        // For a client without legacy_audience the legacy check refuses these too (defence in depth): the legacy
        // client and the pure claims check are where this rule alone decides.
        tests: [
          ...t(ATTACKS, "still rejects the token endpoint with a trailing slash for a legacy client"),
          ...t(CLAIMS, "rejects when aud has a trailing slash", "rejects when aud differs in case"),
        ],
      },
      {
        id: "aud-array-sole",
        file: "src/assertion/audience.ts",
        find: "if (aud.length !== 1 || aud[0] !== policy.arrayAudience) {",
        replace: "if (!aud.includes(policy.arrayAudience)) {",
        tests: [
          ...t(ATTACKS, "rejects aud as the issuer twice in an array"),
          ...t(CLAIMS, "rejects when aud is an array holding the issuer among others"),
        ],
      },
      {
        id: "aud-array-issuer-only",
        file: "src/assertion/audience.ts",
        find: "aud[0] !== policy.arrayAudience",
        replace: "!policy.acceptedAudiences.includes(aud[0] as string)",
        tests: [
          ...t(ATTACKS, "still rejects the token endpoint alone in an array for a legacy client"),
          ...t(CLAIMS, "accepts an extra audience only when the policy lists it, and only as a string"),
        ],
      },
      {
        id: "aud-array-fapi2-string",
        file: "src/token/authenticate-client.ts",
        find: '...(config.profile === "fapi2" ? {} : { arrayAudience: config.issuer }),',
        replace: "arrayAudience: config.issuer,",
        tests: t(
          "test/worker/token/profiles.test.ts",
          "refuses the issuer in a one-member array: FAPI 2.0 takes the audience as a string only",
        ),
      },
      {
        id: "aud-legacy-flag",
        file: "src/assertion/audience.ts",
        find: "if (aud !== issuer && !legacyAudienceAllowed) {",
        replace: "if (false) {",
        tests: [
          ...t(ATTACKS, "rejects aud as the token endpoint (no legacy flag)"),
          ...t(ENDPOINT, "rejects when the audience is the token endpoint URL"),
        ],
      },
    ],
  },
  {
    requirement: "`exp` is required, a NumericDate, and not passed (with `CLOCK_SKEW`)",
    source: "RFC 7523 §3 (4), RFC 7519 §4.1.4",
    rules: [
      {
        id: "exp-required",
        file: "src/assertion/claims.ts",
        find: 'if (exp === undefined) throw new TokenServiceError("exp_missing");\n  if (!isNumericDate(exp))',
        replace: "if (exp !== undefined && !isNumericDate(exp))",
        tests: [...t(ENDPOINT, "rejects when exp is missing"), ...t(CLAIMS, "rejects when exp is missing")],
      },
      {
        id: "exp-numeric",
        file: "src/assertion/claims.ts",
        find: 'if (!isNumericDate(exp)) throw new TokenServiceError("claims_invalid", "exp is not a NumericDate");',
        replace: "",
        tests: t(ATTACKS, "rejects a negative exp", "rejects exp as a string"),
      },
      {
        id: "exp-passed",
        file: "src/assertion/claims.ts",
        find: "now - policy.clockSkew >= exp",
        replace: "false",
        tests: [
          ...t(CLAIMS, "rejects when exp has passed beyond the skew"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
    ],
  },
  {
    requirement: "`nbf` and `iat` are NumericDates and not in the future (with `CLOCK_SKEW`)",
    source: "RFC 7523 §3 (5, 6)",
    rules: [
      {
        id: "nbf-honoured",
        file: "src/assertion/claims.ts",
        find: "nbf > now + policy.clockSkew",
        replace: "false",
        tests: [
          ...t(ENDPOINT, "rejects when nbf is in the future"),
          ...t(CLAIMS, "rejects when nbf is in the future beyond the skew"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
      {
        id: "iat-not-future",
        file: "src/assertion/claims.ts",
        find: "iat > now + policy.clockSkew",
        replace: "false",
        tests: [
          ...t(ENDPOINT, "rejects when iat is in the future"),
          ...t(CLAIMS, "rejects when iat is in the future beyond the skew"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
      {
        id: "nbf-numeric",
        file: "src/assertion/claims.ts",
        find: 'if (nbf !== undefined && !isNumericDate(nbf))\n    throw new TokenServiceError("claims_invalid", "nbf is not a NumericDate");',
        replace: "",
        tests: t(CLAIMS, "rejects when nbf is not a number"),
      },
      {
        id: "iat-numeric",
        file: "src/assertion/claims.ts",
        find: 'if (iat !== undefined && !isNumericDate(iat))\n    throw new TokenServiceError("claims_invalid", "iat is not a NumericDate");',
        replace: "",
        tests: t(ATTACKS, "rejects iat as a boolean"),
      },
    ],
  },
  {
    requirement:
      "the assertion's lifetime is capped by `ASSERTION_MAX_LIFETIME`: `exp - iat`, and `exp - now` when `iat` is absent",
    source: "RFC 7523 §3 (4, 6)",
    rules: [
      {
        id: "lifetime-cap-now",
        file: "src/assertion/claims.ts",
        find: "exp - now > policy.maxLifetime + policy.clockSkew",
        replace: "false",
        tests: [
          ...t(ATTACKS, "rejects exp far in the future (1e20)"),
          ...t(CLAIMS, "rejects when exp is too far ahead and iat is absent"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
      {
        id: "lifetime-cap-iat",
        file: "src/assertion/claims.ts",
        find: "exp - iat > policy.maxLifetime",
        replace: "false",
        tests: [
          ...t(CLAIMS, "rejects when exp - iat exceeds the lifetime cap"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
    ],
  },
  {
    requirement: "`jti` is required, a bounded non-empty string",
    source: "RFC 7523 §3 (7), OIDC Core §9",
    rules: [
      {
        id: "jti-required",
        file: "src/assertion/claims.ts",
        find: 'if (jti === undefined) throw new TokenServiceError("jti_missing");\n  if (typeof jti',
        replace: "if (jti !== undefined && typeof jti",
        tests: [...t(ENDPOINT, "rejects when jti is missing"), ...t(CLAIMS, "rejects when jti is missing")],
      },
      {
        id: "jti-bounded",
        file: "src/assertion/claims.ts",
        find: 'if (typeof jti !== "string" || jti.length === 0 || jti.length > LIMITS.maxJtiLength) {',
        replace: "if (false) {",
        tests: [
          ...t(ATTACKS, "rejects an oversized jti", "rejects jti as an object"),
          ...t(
            FUZZ,
            "validly signed random claims: a token exactly when the claims are valid, by iss, sub, aud, exp, nbf, iat, lifetime and jti",
          ),
        ],
      },
    ],
  },
  {
    requirement:
      "the client is registered, active, and its record valid and stored under its own id; a broken record is `invalid_client`, never a 500",
    source: "RFC 6749 §5.2, security model",
    rules: [
      {
        id: "client-active",
        file: "src/registry/client-registry.ts",
        find: 'if (record.status !== "active") throw new TokenServiceError("client_disabled");',
        replace: "",
        tests: t(
          ENDPOINT,
          "refuses a disabled client from its record, before any signature check or call to its authority",
        ),
      },
      {
        id: "record-matches-key",
        file: "src/registry/record.ts",
        find: "raw.client_id !== expectedClientId",
        replace: "false",
        tests: t(ENDPOINT, "rejects when the record stored under the client's key names another client"),
      },
      {
        id: "record-size",
        file: "src/registry/client-registry.ts",
        find: "if (text.length > LIMITS.maxClientRecordBytes) {",
        replace: "if (false) {",
        tests: t(ENDPOINT, "rejects when the stored record is over the size limit, however valid its fields"),
      },
      {
        id: "record-json-refused",
        file: "src/registry/client-registry.ts",
        find: 'throw new TokenServiceError("client_record_invalid", "record is not JSON");',
        replace: 'throw new Error("record is not JSON");',
        tests: t(ENDPOINT, "rejects when the client record is broken JSON"),
      },
      {
        id: "record-invalid-refused",
        file: "src/registry/client-registry.ts",
        find: 'if (err instanceof RecordError) throw new TokenServiceError("client_record_invalid", err.message);',
        replace: "",
        tests: t(ENDPOINT, "rejects when the client record fails validation"),
      },
    ],
  },
  {
    requirement:
      "a client record, or the absence of one, cached by an isolate is reused for at most `CLIENT_CACHE_TTL` seconds, and an id the admin API registers is not refused as unknown by that isolate",
    source: "security model",
    rules: [
      {
        id: "client-cache-ttl",
        file: "src/registry/client-registry.ts",
        find: "if (cache.now < cached.freshUntil && cache.ttlSeconds > 0) return cached.record;",
        replace: "if (cache.ttlSeconds > 0) return cached.record;",
        tests: t(CACHE, "reads KV again once the TTL has passed, and refuses a client disabled meanwhile"),
      },
      {
        id: "client-cache-off",
        file: "src/registry/client-registry.ts",
        find: "if (cache.now < cached.freshUntil && cache.ttlSeconds > 0) return cached.record;",
        replace: "if (cache.now < cached.freshUntil) return cached.record;",
        tests: t(CACHE, "reads KV on every call when the TTL is 0, and ignores what an earlier policy cached"),
      },
      {
        id: "unknown-client-ttl",
        file: "src/registry/client-registry.ts",
        find: "if (cache.now < unknownUntil && cache.ttlSeconds > 0) {",
        replace: "if (cache.ttlSeconds > 0) {",
        tests: t(CACHE, "remembers an unknown id for the TTL: one KV read, however often it is named, then read again"),
      },
      {
        id: "unknown-client-forgotten-on-registration",
        file: "src/admin/api.ts",
        find: "forgetUnknownClient(id);",
        replace: "",
        tests: t(
          ADMIN,
          "registers an id this isolate refused as unknown a moment ago: its first token follows at once",
        ),
      },
    ],
  },
  {
    requirement:
      "the signature verifies with one of the client's registered keys, chosen by `kid`, whose type, curve and pinned `alg` fit the header's `alg`; at most 4 keys are tried without a `kid`",
    source: "RFC 7523 §3 (9), RFC 8725 §3.1",
    rules: [
      {
        id: "signature-verified",
        file: "src/assertion/signature.ts",
        find: "await compactVerify(compact, key, { algorithms: [header.alg] });",
        replace: "",
        tests: [
          ...t(ENDPOINT, "rejects when the signature was made by another key"),
          ...t(ATTACKS, "rejects an ES256 signature of all zeros (r = s = 0)"),
        ],
      },
      {
        id: "kid-selects-key",
        file: "src/assertion/key-selection.ts",
        find: "return fitting.filter((key) => key.kid === header.kid);",
        replace: "return fitting;",
        tests: t(ENDPOINT, "rejects when the header names a kid the client does not have"),
      },
      {
        id: "kidless-bound",
        file: "src/assertion/key-selection.ts",
        find: "const tried = fitting.slice(0, LIMITS.maxKeysTriedPerRequest);",
        replace: "const tried = fitting.slice();",
        tests: t(KEY_SELECTION, "never tries a key beyond the limit, remembered or not"),
      },
      {
        id: "key-type-fits",
        file: "src/protocol/jwk.ts",
        find: "if (jwk.kty !== need.kty) return false;",
        replace: "",
        tests: t(ATTACKS, "rejects an RS256 header over an EC key (key type must fit)"),
      },
      {
        id: "key-curve-fits",
        file: "src/protocol/jwk.ts",
        find: "if (need.crv !== undefined && jwk.crv !== need.crv) return false;",
        replace: "",
        tests: [
          ...t(ATTACKS, "rejects an ES512 header with a P-256 registered key (curve must fit)"),
          ...t(
            ENDPOINT,
            "rejects when the header alg does not fit the registered key's curve (ES384 against a P-256 key)",
          ),
        ],
      },
      {
        id: "key-alg-pinned",
        file: "src/protocol/jwk.ts",
        find: "if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, alg)) return false;",
        replace: "",
        tests: t(
          ENDPOINT,
          "rejects when the registered key pins another alg (key registered for PS256, assertion RS256)",
        ),
      },
      {
        id: "no-fitting-key-named",
        file: "src/assertion/signature.ts",
        find: 'if (candidates.length === 0) throw new TokenServiceError("no_matching_key");',
        replace: "",
        tests: t(ATTACKS, "rejects an unknown kid"),
      },
    ],
  },
  {
    requirement:
      "client keys are public signature keys: no private or symmetric members, RSA 2048 to 8192 bits with an odd public exponent from 3 to 2^32 - 1, signature curves only, `use`/`key_ops` for signatures, at most 20 keys with distinct kids; checked at registration and at every use",
    source: "RFC 7517 §4.2–4.3, RFC 7518 §3.3, RFC 8725 §3.5",
    rules: [
      {
        id: "no-private-members",
        file: "src/protocol/jwk.ts",
        find: "if (member in jwk) {",
        replace: "if (false) {",
        tests: [...t(ATTACKS, "refuses a client whose stored key is private"), ...t(JWK, "rejects a private EC key")],
      },
      {
        id: "rsa-min-bits",
        file: "src/protocol/jwk.ts",
        find: "bits < LIMITS.minRsaModulusBits",
        replace: "false",
        tests: [
          ...t(ATTACKS, "refuses a client whose stored record holds an RSA key under 2048 bits, signing with it"),
          ...t(JWK, "rejects RSA under 2048 bits"),
        ],
      },
      {
        id: "rsa-max-bits",
        file: "src/protocol/jwk.ts",
        find: "bits > LIMITS.maxRsaModulusBits",
        replace: "false",
        tests: t(JWK, "rejects RSA over 8192 bits"),
      },
      {
        id: "rsa-exponent",
        file: "src/protocol/jwk.ts",
        find: "if (exponent < 3 || exponent % 2 === 0) {",
        replace: "if (false) {",
        tests: t(
          JWK,
          "rejects an RSA exponent of 1, which makes every message its own signature",
          "rejects an even RSA exponent",
          "rejects an RSA exponent longer than four bytes",
        ),
      },
      {
        id: "key-use-sig",
        file: "src/protocol/jwk.ts",
        find: `if (jwk.use !== "sig") throw new JwkError('the key is marked for "use" other than "sig"');`,
        replace: "",
        tests: [
          ...t(ATTACKS, "refuses a client whose stored key is marked use: enc"),
          ...t(JWK, "rejects a key marked for encryption"),
        ],
      },
      {
        id: "key-ops-verify-only",
        file: "src/protocol/jwk.ts",
        find: 'if (jwk.key_ops.some((op) => op !== "verify")) {',
        replace: "if (false) {",
        tests: t(ATTACKS, "refuses a client whose stored key allows operations other than verify"),
      },
      {
        id: "key-ops-verify",
        file: "src/protocol/jwk.ts",
        find: 'if (!Array.isArray(jwk.key_ops) || !jwk.key_ops.includes("verify")) {',
        replace: "if (!Array.isArray(jwk.key_ops)) {",
        tests: t(JWK, "rejects key_ops without verify"),
      },
      {
        id: "curve-allowlist",
        file: "src/protocol/jwk.ts",
        find: 'if (typeof crv !== "string" || !allowed.includes(crv)) {',
        replace: 'if (typeof crv !== "string") {',
        tests: t(JWK, "rejects the secp256k1 curve", "rejects X25519 (an encryption curve)"),
      },
      {
        id: "coordinate-size",
        file: "src/protocol/jwk.ts",
        find: "if (base64urlByteLength(jwk.x) !== size)",
        replace: "if (false)",
        tests: t(JWK, "rejects a coordinate of the wrong size"),
      },
      {
        id: "key-alg-allowlist",
        file: "src/protocol/jwk.ts",
        find: "if (!isAssertionAlgorithm(jwk.alg)) {",
        replace: "if (false) {",
        tests: t(JWK, "rejects an HMAC alg"),
      },
      {
        id: "key-alg-fits",
        file: "src/protocol/jwk.ts",
        find: "if (!keyFitsAlgorithm(out, jwk.alg)) throw new JwkError(`alg ${jwk.alg} does not match the key type or curve`);",
        replace: "",
        tests: t(JWK, "rejects an alg that does not fit the key", "rejects an alg that does not fit the curve"),
      },
      {
        id: "key-count",
        file: "src/protocol/jwk.ts",
        find: "if (keys.length > LIMITS.maxKeysPerClient) {",
        replace: "if (false) {",
        tests: t(JWK, "rejects more keys than the limit"),
      },
      {
        id: "kid-unique",
        file: "src/protocol/jwk.ts",
        find: "if (seen.has(id)) throw new JwkError(`two ${jwk.kty} keys share the kid ${JSON.stringify(jwk.kid)}`);",
        replace: "",
        tests: t(JWK, "rejects two keys of one type that share a kid"),
      },
    ],
  },
  {
    requirement:
      "client records: `jwks_uri` https without credentials, on port 443, naming a public host (no IP literal, no single-label or private name: the service fetches it); a loopback host only with `ALLOW_INSECURE_JWKS_URI`; `default_scopes` within `scopes`",
    source: "RFC 7591 §2, security model",
    rules: [
      {
        id: "jwks-uri-https",
        file: "src/protocol/syntax.ts",
        find: 'if (url.protocol !== "https:") return "must use https (http only for localhost)";',
        replace: "",
        tests: t(RECORD, "rejects an http jwks_uri off loopback"),
      },
      {
        id: "jwks-uri-no-credentials",
        file: "src/protocol/syntax.ts",
        find: 'if (url.username || url.password) return "must carry no credentials";',
        replace: "",
        tests: t(RECORD, "rejects a jwks_uri with credentials"),
      },
      {
        id: "jwks-uri-insecure-flag",
        file: "src/registry/remote-jwks.ts",
        find: "(isLoopbackHost(new URL(uri).hostname) && !options.allowInsecure)",
        replace: '(new URL(uri).protocol === "http:" && !options.allowInsecure)',
        tests: t(
          REMOTE,
          "refuses a loopback host, over http or https, unless ALLOW_INSECURE_JWKS_URI, and plain http elsewhere always",
        ),
      },
      {
        id: "jwks-uri-ip-literal",
        file: "src/protocol/syntax.ts",
        find: 'if (isIpLiteral(host)) return "must name its host, not an IP address";',
        replace: "",
        tests: t(RECORD, "rejects a jwks_uri at an IPv4 address", "rejects a jwks_uri at an IPv6 address"),
      },
      {
        id: "jwks-uri-default-port",
        file: "src/protocol/syntax.ts",
        find: 'if (url.port !== "") return "must use the default https port, 443";',
        replace: "",
        tests: t(RECORD, "rejects a jwks_uri on another port than 443"),
      },
      {
        id: "jwks-uri-public-host",
        file: "src/protocol/syntax.ts",
        find: 'if (!host.includes(".") || PRIVATE_HOST_SUFFIXES.some((suffix) => host.endsWith(suffix))) {',
        replace: "if (false) {",
        tests: t(RECORD, "rejects a jwks_uri on a single-label host", "rejects a jwks_uri on a .internal host"),
      },
      {
        id: "default-scopes-subset",
        file: "src/registry/record.ts",
        find: 'if (outside.length > 0) throw new RecordError("default_scopes must be a subset of scopes");',
        replace: "",
        tests: t(RECORD, "rejects default scopes outside the allowed scopes"),
      },
    ],
  },
  {
    requirement:
      "keys at a `jwks_uri`: fetched within bounds (size, same-origin redirects, 200 only), each key held to the inline rules, cached within a clamped max-age, refetched at most once per cooldown (also after a failure), no wait on a shared fetch past a bound, the last good set served for a bounded time",
    source: "RFC 7591 §2 (`jwks_uri`), RFC 8725 §3.10",
    rules: [
      {
        id: "jwks-uri-size",
        file: "src/registry/bounded-fetch.ts",
        find: "readBoundedText(response, options.maxBytes)",
        replace: "readBoundedText(response, 1e9)",
        tests: t(REMOTE, "refuses a JWK Set over the size cap"),
      },
      {
        id: "jwks-uri-same-origin",
        file: "src/registry/bounded-fetch.ts",
        find: "next.origin !== url.origin",
        replace: "false",
        tests: t(REMOTE, "refuses a redirect to another origin and follows one on the same origin"),
      },
      {
        id: "jwks-uri-status",
        file: "src/registry/bounded-fetch.ts",
        find: "if (response.status !== 200) {",
        replace: "if (false) {",
        tests: t(REMOTE, "refuses a non-200 answer, even one whose body is a valid key set"),
      },
      {
        id: "jwks-uri-max-keys",
        file: "src/registry/remote-jwks.ts",
        find: "if (usable.length > LIMITS.maxKeysPerClient)",
        replace: "if (false)",
        tests: t(REMOTE, "is held to the bounds of an inline one: at most 20 signature keys, no kid twice"),
      },
      {
        id: "jwks-uri-unique-kids",
        file: "src/registry/remote-jwks.ts",
        find: 'if (new Set(kids).size !== kids.length) throw new JwkError("the JWK Set names a kid twice");',
        replace: "",
        tests: t(REMOTE, "is held to the bounds of an inline one: at most 20 signature keys, no kid twice"),
      },
      {
        id: "jwks-cache-api-mac",
        file: "src/registry/remote-jwks.ts",
        find: 'if (!(await crypto.subtle.verify("HMAC", options.cacheIntegrityKey, base64url.decode(mac), input))) return null;',
        replace: "",
        tests: t(
          REMOTE,
          "written by anyone without this Worker's key (no MAC, or another key's) are ignored: the key server is asked",
        ),
      },
      {
        id: "jwks-cache-api-clamp",
        file: "src/registry/remote-jwks.ts",
        find: "const fetchedAtMs = Math.min(fetched_at, options.nowMs);",
        replace: "const fetchedAtMs = fetched_at;",
        tests: t(REMOTE, "are fresh from no later than now, whatever fetch time they claim"),
      },
      {
        id: "jwks-uri-key-rules",
        file: "src/registry/remote-jwks.ts",
        find: "usable.push(validatePublicJwk(key));",
        replace: "usable.push(key as ClientJwk);",
        tests: t(REMOTE, "skips keys for other uses and refuses a set with no signature key"),
      },
      {
        id: "jwks-uri-scan-bound",
        file: "src/registry/remote-jwks.ts",
        find: "keys.slice(0, LIMITS.maxPublishedKeysScanned)",
        replace: "keys",
        tests: t(REMOTE, "looks at no more than the first 100 entries of a published set"),
      },
      {
        id: "jwks-uri-fresh",
        file: "src/registry/remote-jwks.ts",
        find: "const fresh = entry !== undefined && options.nowMs < entry.freshUntilMs;",
        replace: "const fresh = entry !== undefined;",
        tests: t(REMOTE, "fetches once and serves the cached set while fresh"),
      },
      {
        id: "jwks-uri-max-age-clamp",
        file: "src/registry/remote-jwks.ts",
        find: "return Math.min(JWKS_URI.maxFreshSeconds, Math.max(JWKS_URI.minFreshSeconds, value));",
        replace: "return value;",
        tests: t(REMOTE, "clamps max-age to the floor and the ceiling"),
      },
      {
        id: "jwks-uri-refetch-cooldown",
        file: "src/registry/remote-jwks.ts",
        find: "refetch ? coolingDown : fresh",
        replace: "refetch ? false : fresh",
        tests: t(
          REMOTE,
          "refetches for an unknown kid at most once per cooldown",
          "lets an unknown-kid storm cause no fetch within the cooldown",
        ),
      },
      {
        id: "jwks-uri-failure-cooldown",
        file: "src/registry/remote-jwks.ts",
        find: "if (failedAtMs !== undefined && options.nowMs - failedAtMs < COOLDOWN_MS) {",
        replace: "if (false) {",
        tests: t(
          REMOTE,
          "fetches at most once per cooldown when the key server is down and nothing is cached",
          "lets requests for a client whose key server is down and uncached cause one fetch per cooldown",
        ),
      },
      {
        id: "jwks-uri-wait-bound",
        file: "src/lib/shared-flights.ts",
        find: "return settleWithin(flight.promise, this.#boundMs, this.#timeout);",
        replace: "return flight.promise;",
        tests: t(REMOTE, "refuses a request waiting on a shared fetch that never settles, once the bound has passed"),
      },
      {
        id: "jwks-uri-stale-bound",
        file: "src/registry/remote-jwks.ts",
        find: "nowMs - entry.fetchedAtMs < JWKS_URI.maxStaleSeconds * 1000",
        replace: "true",
        tests: t(REMOTE, "serves the last good set when a refresh fails, for a bounded time"),
      },
    ],
  },
  {
    requirement:
      "the `jti` is spent once per client, atomically, after every other check, and kept until `exp` + `CLOCK_SKEW`, then purged; only a fresh `jti` issues a token",
    source: "RFC 7523 §3 (7), OIDC Core §9",
    rules: [
      {
        id: "replay-refused",
        file: "src/token/spend-jti.ts",
        find: 'throw new TokenServiceError("replayed");',
        replace: "return next();",
        tests: [
          ...t(GUARD, "rejects the second use of an assertion as a replay"),
          ...t(ATTACKS, "rejects a sequential replay"),
        ],
      },
      {
        id: "replay-guard-expired",
        file: "src/token/spend-jti.ts",
        find: 'throw new TokenServiceError("expired", "assertion expired before its jti could be spent");',
        replace: "return next();",
        tests: t(OUTCOMES, "expired by the guard's clock before it could be spent: no token"),
      },
      {
        id: "only-fresh-issues",
        file: "src/token/spend-jti.ts",
        find: `throw new TokenServiceError("replay_guard_unavailable", "unknown outcome from the client's authority");`,
        replace: "return next();",
        tests: t(OUTCOMES, "an outcome this Worker does not know: no token"),
      },
      {
        id: "jti-per-client",
        file: "src/token/spend-jti.ts",
        find: "c.env.CLIENT_AUTHORITY.getByName(client.record.client_id)",
        replace: 'c.env.CLIENT_AUTHORITY.getByName("one-authority-for-all")',
        tests: [
          ...t(GUARD, "keeps jti spaces of different clients apart"),
          ...t(ATTACKS, "treats the same jti at two clients as two assertions"),
        ],
      },
      {
        id: "jti-retention",
        file: "src/token/spend-jti.ts",
        find: "retainUntilMs: (client.exp + config.clockSkew) * 1000,",
        replace: "retainUntilMs: client.exp * 1000,",
        tests: t(GUARD, "retains a spent jti until the assertion's exp plus the clock skew"),
      },
      {
        id: "jti-spent-last",
        file: "src/token/pipeline.ts",
        find: "  checkDpop,\n  authorizeGrant,\n  spendJti,\n",
        replace: "  spendJti,\n  checkDpop,\n  authorizeGrant,\n",
        tests: [
          ...t(GUARD, "does not spend the jti when the grant is refused (invalid_target)"),
          ...t(ENDPOINT, "rejects with invalid_scope when a scope is not allowed, without spending the jti"),
        ],
      },
      {
        id: "guard-retention-passed",
        file: "src/client-authority/authority.ts",
        find: 'if (request.retainUntilMs <= now) return { outcome: "expired" };',
        replace: "",
        tests: t(
          GUARD,
          "refuses to spend a jti whose retention has already passed by its own clock, and writes no row",
          "cannot be made to spend one assertion twice at the end of its life",
        ),
      },
      {
        id: "guard-replay-before-rate-limit",
        file: "src/client-authority/authority.ts",
        find: 'if (spends && this.#replay.isSpent(request.jti, now)) return { outcome: "replayed" };',
        replace: "",
        tests: t(GUARD, "refuses a replay before the rate limit, so replays never use up the client's budget"),
      },
      {
        id: "guard-purge",
        file: "src/client-authority/replay-store.ts",
        find: "this.#sql.exec(`DELETE FROM ${this.#table} WHERE expires_at <= ?`, nowMs);",
        replace: "",
        tests: t(GUARD, "schedules an alarm that purges expired rows and keeps live ones"),
      },
    ],
  },
  {
    requirement:
      "a spent jti costs one SQLite row written when it is spent and one when it is purged: no secondary index, and the one older versions made is dropped",
    source: "cost model (docs/cost.md)",
    rules: [
      {
        id: "replay-no-expiry-index",
        file: "src/client-authority/replay-store.ts",
        find: 'if (table === "spent_jti") sql.exec("DROP INDEX IF EXISTS spent_jti_expiry");',
        replace:
          'if (table === "spent_jti") sql.exec("CREATE INDEX IF NOT EXISTS spent_jti_expiry ON spent_jti (expires_at)");',
        tests: t(
          GUARD,
          "writes one SQLite row to spend a jti and one to purge it, and drops the expiry index older versions made",
        ),
      },
    ],
  },
  {
    requirement:
      "per-client rate limit: `429` with `Retry-After`, the bucket in SQLite (it survives eviction, hibernation and deploys), refused requests write nothing, and the `jti` stays unspent",
    source: "RFC 6585 §4",
    rules: [
      {
        id: "rate-limit-enforced",
        file: "src/token/spend-jti.ts",
        find: 'throw new TokenServiceError("rate_limited", undefined, { retryAfterSeconds: result.retryAfterSeconds });',
        replace: "return next();",
        tests: t(RATE, "gets 429 with Retry-After over its rate while another client is served"),
      },
      {
        id: "rate-limit-persisted",
        file: "src/client-authority/authority.ts",
        find: "takeToken(this.#state.readBucket(), limit, now)",
        replace: "takeToken(undefined, limit, now)",
        tests: [
          ...t(
            GUARD,
            "still refuses over the limit when the object is rebuilt on the same storage (eviction, a deploy)",
          ),
          ...t(RATE, "gets 429 with Retry-After over its rate while another client is served"),
        ],
      },
      {
        id: "rate-limit-bucket-written",
        file: "src/client-authority/authority.ts",
        find: "this.#state.writeBucket(decision.bucket);",
        replace: "",
        tests: t(
          GUARD,
          "still refuses over the limit when the object is rebuilt on the same storage (eviction, a deploy)",
        ),
      },
    ],
  },
  {
    requirement:
      "the client's authority (its Durable Object) holds the one current record: a change made there reaches the next token request, whatever the isolate cache and KV still hold (the Worker's record must be the authority's version, else the request is checked again against the authority's record)",
    source: "security model",
    rules: [
      {
        id: "authority-version-check",
        file: "src/client-authority/authority.ts",
        find: "if (state.version !== request.recordVersion) {",
        replace: "if (false) {",
        tests: [
          ...t(ADMIN, "grants only the scopes of the authority's record when KV still serves wider ones"),
          ...t(GUARD, "answers stale, with its own record, to a request made with another version, and spends nothing"),
        ],
      },
      {
        id: "stale-recheck-signature",
        file: "src/token/spend-jti.ts",
        find: ": await checkAgainstRecord(c, record, { compact, header, aud, jti, exp }),",
        replace: ": client,",
        tests: t(ADMIN, "refuses a retired inline key on the next request while the client's other key still works"),
      },
      {
        id: "stale-recheck-grant",
        file: "src/token/spend-jti.ts",
        find: 'c.set("grant", grantFor(c, record));',
        replace: 'c.set("grant", grantFor(c, client.record));',
        tests: t(ADMIN, "grants only the scopes of the authority's record when KV still serves wider ones"),
      },
      {
        id: "key-miss-asks-authority",
        file: "src/token/authenticate-client.ts",
        find: "const fresh = record.jwks && isKeyMiss(err) ? await fresherRecord(c, record) : null;",
        replace: "const fresh = null;",
        tests: t(
          ADMIN,
          "adds a key that the client can sign with at once, though the isolate still caches the older record",
        ),
      },
      {
        id: "authority-disabled",
        file: "src/client-authority/authority.ts",
        find: 'if (record.status !== "active") return { outcome: "disabled" };',
        replace: "",
        tests: t(GUARD, "refuses a disabled client and a retired kid, writing nothing for either refusal"),
      },
      {
        id: "authority-disabled-refuses",
        file: "src/token/spend-jti.ts",
        find: 'case "disabled":\n        throw new TokenServiceError("client_disabled", "disabled by its authority");',
        replace: 'case "disabled":\n        return next();',
        tests: t(OUTCOMES, "disabled by the client's authority: no token"),
      },
      {
        id: "authority-key-retired",
        file: "src/client-authority/authority.ts",
        find: 'if (retiredKidsOf(record).includes(request.keyId)) return { outcome: "key_retired" };',
        replace: "",
        tests: [
          ...t(ADMIN, "retires a key of a jwks_uri client, which it may still publish, and restores it"),
          ...t(GUARD, "refuses a disabled client and a retired kid, writing nothing for either refusal"),
        ],
      },
      {
        id: "authority-unknown-refuses",
        file: "src/token/spend-jti.ts",
        find: 'throw new TokenServiceError("client_unknown", "its authority holds no record");',
        replace: "return next();",
        tests: t(ADMIN, "deletes a client: no more tokens, 404 after, KV record gone; added again, it starts clean"),
      },
      {
        id: "authority-adopts-legacy-kill-switch",
        file: "src/client-authority/authority.ts",
        find: "foldLegacyRevocations(replica, this.#state.takeLegacyRevocations())",
        replace: "{ record: replica, changed: false }",
        tests: t(GUARD, "folds the kill switch an older version of the object kept into the record it adopts"),
      },
      {
        id: "readopt-after-propagation-window",
        file: "src/client-authority/client-state.ts",
        find: "nowMs - state.changedAtMs >= LIMITS.kvPropagationSeconds * 1000",
        replace: "true",
        tests: t(
          GUARD,
          "never adopts KV's copy within the window, where a stale read of the removed record may still be served",
        ),
      },
      {
        id: "readopt-only-bootstrap-records",
        file: "src/client-authority/authority.ts",
        find: "if (already !== null && (!mayReadopt(already, Date.now()) || replicaVersion !== 0)) return already;",
        replace: "if (already !== null && !mayReadopt(already, Date.now())) return already;",
        tests: t(GUARD, "never adopts a record with a version over a removal: that is its own replica from before"),
      },
      {
        id: "authority-state-survives-rebuild",
        file: "src/client-authority/client-state.ts",
        find: "        .toArray()[0];\n      this.#cached = row",
        replace: "        .toArray()[0] && undefined; // memory only\n      this.#cached = row",
        tests: t(
          GUARD,
          "keeps its record, version and spent jtis when rebuilt on the same storage, and never re-adopts KV's older copy",
        ),
      },
    ],
  },
  {
    requirement:
      "every change goes through the client's authority in arrival order and is validated by the registry's rules; a write naming another version (If-Match) is refused with 412, so no concurrent write is silently undone; KV gets the replica after the commit, retried from the alarm; a replacement keeps the client's retired kids unless it names them; a removed client's budget goes with it while its spent `jti`s stay spent",
    source: "RFC 9110 §13.1.1, security model",
    rules: [
      {
        id: "change-if-match",
        file: "src/client-authority/authority.ts",
        find: "if (ifVersion !== undefined && ifVersion !== versionBefore) {",
        replace: "if (false) {",
        tests: [
          ...t(ADMIN, "lets only one of two racing updates that name the same version through; the other gets 412"),
          ...t(GUARD, "refuses a change that names another version, and applies one that names the current one"),
        ],
      },
      {
        id: "replace-keeps-retired-kids",
        file: "src/client-authority/changes.ts",
        find: 'if (!("retired_kids" in next) && retiredKids(base).length > 0) next.retired_kids = retiredKids(base);',
        replace: "",
        tests: t(ADMIN, "keeps the retired kids of a jwks_uri client across a replacement that does not name them"),
      },
      {
        id: "change-validated",
        file: "src/client-authority/changes.ts",
        find: "    validateClientRecord(next, clientId);\n",
        replace: "",
        tests: t(ADMIN, "refuses a record the registry rules refuse, and says why"),
      },
      {
        id: "change-retire-unknown-kid",
        file: "src/client-authority/changes.ts",
        find: "if (!keys.some((k) => k.kid === change.kid))",
        replace: "if (false)",
        tests: t(ADMIN, "refuses to retire a kid the client does not have, and sets nothing"),
      },
      {
        id: "change-create-once",
        file: "src/client-authority/changes.ts",
        find: 'if (current !== null) throw new ChangeRefused("exists", "the client already exists: replace or update it");',
        replace: "",
        tests: t(
          ADMIN,
          "creates a client that gets tokens at once, with ETag and Location, and refuses to create it twice",
        ),
      },
      {
        id: "replica-written",
        file: "src/client-authority/kv-replica.ts",
        find: "await this.#kv.put(key, JSON.stringify(state.record), { metadata });",
        replace: "",
        tests: t(
          GUARD,
          "adopts the KV record of a client it has never held, as version 1, and writes the version back to KV",
        ),
      },
      {
        id: "replica-retried",
        file: "src/client-authority/kv-replica.ts",
        find: "    await this.#retryLater();\n",
        replace: "",
        tests: t(GUARD, "keeps the change it committed when KV refuses the replica, and writes it from its alarm"),
      },
      {
        id: "delete-clears-budget",
        file: "src/client-authority/authority.ts",
        find: 'if (change.kind === "delete" || change.kind === "create") this.#state.clearBucket();',
        replace: "",
        tests: t(ADMIN, "deletes a client: no more tokens, 404 after, KV record gone; added again, it starts clean"),
      },
    ],
  },
  {
    requirement:
      "the admin API accepts only access tokens this server signed, `typ` `at+jwt`, for its issuer with the admin audience as their sole audience, unexpired, with a `client_id`, the `client_key` that obtained them and the `admin` scope; and only while that operator is active, that key registered and not retired, and admin still granted",
    source: "RFC 6750 §3.1, RFC 9068 §4",
    rules: [
      {
        id: "admin-issuer",
        file: "src/admin/admin-token.ts",
        find: "issuer: config.issuer,",
        replace: "",
        tests: t(ADMIN_TOKEN, "rejects one naming another issuer"),
      },
      {
        // jwtVerify's own audience option also refuses other audiences, and the operator check refuses a token
        // without client_id or client_key; this check alone refuses the admin audience listed beside another.
        id: "admin-audience-alone",
        file: "src/admin/admin-token.ts",
        find: "if (!hasOnlyAudience(payload, config.adminAudience)) {",
        replace: "if (false) {",
        tests: t(ADMIN_TOKEN, "rejects one with the admin audience beside another"),
      },
      {
        id: "admin-typ",
        file: "src/admin/admin-token.ts",
        find: 'typ: "at+jwt",',
        replace: "",
        tests: t(ADMIN_TOKEN, "rejects one whose typ is not at+jwt"),
      },
      {
        id: "admin-expiry",
        file: "src/admin/admin-token.ts",
        find: 'currentDate: new Date(c.get("now") * 1000),',
        replace: "currentDate: new Date(0),",
        tests: t(ADMIN_TOKEN, "rejects an expired one"),
      },
      {
        id: "admin-scope",
        file: "src/admin/admin-token.ts",
        find: '!scope.split(" ").includes(ADMIN_SCOPE)',
        replace: "false",
        tests: t(ADMIN_TOKEN, "rejects a token without the admin scope with 403"),
      },
      {
        id: "admin-operator-standing",
        file: "src/admin/admin-token.ts",
        find: 'if (!verdict.ok) throw new TokenServiceError("admin_token_invalid", verdict.detail);',
        replace: "",
        tests: t(
          ADMIN_TOKEN,
          "refuses the still unexpired tokens of an operator once it is disabled",
          "refuses a token as soon as the key that obtained it is retired, while the operator's other key still works",
        ),
      },
      {
        id: "operator-active",
        file: "src/client-authority/token-status.ts",
        find: 'if (record.status !== "active") return { active: false, reason: "client_disabled" };',
        replace: "",
        tests: [
          ...t(ADMIN_TOKEN, "refuses the still unexpired tokens of an operator once it is disabled"),
          ...t(
            INTROSPECTION,
            "for the tokens of a client once it is disabled, from the next call, whatever KV still serves",
          ),
        ],
      },
      {
        id: "operator-key-registered",
        file: "src/client-authority/token-status.ts",
        find: "return ids.includes(keyId);",
        replace: "return true;",
        tests: [
          ...t(
            ADMIN_TOKEN,
            "refuses a token as soon as the key that obtained it is retired, while the operator's other key still works",
            "rejects one with a client_key the operator never registered",
          ),
          ...t(
            INTROSPECTION,
            "for a token obtained with a key since retired (an inline key leaves the record), the other key's still active",
          ),
        ],
      },
      {
        id: "operator-still-admin",
        file: "src/client-authority/token-status.ts",
        find: "if (!scopes.includes(check.adminScope) || !audiences.includes(check.adminAudience)) {",
        replace: "if (false) {",
        tests: t(ADMIN_TOKEN, "refuses the tokens of an operator whose record no longer grants the admin scope"),
      },
    ],
  },
  {
    requirement: "admin tokens live at most 300 s and are issued only for the admin audience alone",
    source: "security model, RFC 8707 §2",
    rules: [
      {
        id: "admin-token-ttl",
        file: "src/token/authorize-grant.ts",
        find: "if (audience === defaults.adminAudience) ttl = Math.min(ttl, LIMITS.maxAdminTokenTtl);",
        replace: "",
        tests: t(ADMIN_TOKEN, "live at most 300 s whatever ACCESS_TOKEN_TTL is, and carry the key that obtained them"),
      },
      {
        id: "admin-audience-exclusive",
        file: "src/token/authorize-grant.ts",
        find: 'if (unique.length > 1 && unique.includes(defaults.adminAudience))\n      throw new TokenServiceError("admin_audience_not_alone");',
        replace: "",
        tests: t(ADMIN_TOKEN, "are never issued for the admin audience together with another"),
      },
    ],
  },
  {
    requirement: "scopes within the client's `scopes` (`default_scopes` when none is asked), in scope-token syntax",
    source: "RFC 6749 §3.3, §5.2",
    rules: [
      {
        id: "scope-allowed",
        file: "src/token/authorize-grant.ts",
        find: 'if (scopes.some((s) => !record.scopes.includes(s))) throw new TokenServiceError("scope_not_allowed");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_scope when a scope is not allowed, without spending the jti"),
      },
      {
        id: "scope-syntax",
        file: "src/token/authorize-grant.ts",
        find: 'if (!tokens.every(isValidScopeToken)) throw new TokenServiceError("scope_malformed");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_scope when the scope has a double space"),
      },
      {
        id: "scope-defaults",
        file: "src/token/authorize-grant.ts",
        find: "scopes = record.default_scopes ?? record.scopes;",
        replace: "scopes = record.scopes;",
        tests: t(ENDPOINT, "grants default_scopes when none are requested"),
      },
    ],
  },
  {
    requirement: "`resource` values are absolute URIs without fragment, within the client's `audiences`",
    source: "RFC 8707 §2",
    rules: [
      {
        id: "resource-allowed",
        file: "src/token/authorize-grant.ts",
        find: 'if (!record.audiences.includes(resource)) throw new TokenServiceError("resource_not_allowed");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_target when the resource is not allowed for the client"),
      },
      {
        id: "resource-syntax",
        file: "src/token/authorize-grant.ts",
        find: 'if (!isResourceIndicator(resource)) throw new TokenServiceError("resource_invalid");',
        replace: "",
        tests: t(ENDPOINT, "rejects with invalid_target when the resource has a fragment"),
      },
    ],
  },
  {
    requirement:
      "access tokens are RFC 9068 JWTs (`typ` `at+jwt`), live at most `ACCESS_TOKEN_TTL`, and the token response is `no-store`",
    source: "RFC 9068 §2, RFC 6749 §5.1",
    rules: [
      {
        id: "token-ttl-cap",
        file: "src/token/authorize-grant.ts",
        find: "let ttl = Math.min(record.token_ttl ?? defaults.maxTtl, defaults.maxTtl);",
        replace: "let ttl = record.token_ttl ?? defaults.maxTtl;",
        tests: t(ENDPOINT, "never longer than ACCESS_TOKEN_TTL even when the record asks for more"),
      },
      {
        id: "token-typ",
        file: "src/token/issue-token.ts",
        find: ".setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })",
        replace: ".setProtectedHeader({ alg: key.alg, kid: key.kid })",
        tests: t(ENDPOINT, "for a client signing with ES256"),
      },
      {
        id: "token-no-store",
        file: "src/token/pipeline.ts",
        find: '"Cache-Control": "no-store", Pragma: "no-cache", ...(await nonceHeader(c)) });',
        replace: "...(await nonceHeader(c)) });",
        tests: t(ENDPOINT, "for a client signing with ES256"),
      },
    ],
  },
  {
    requirement:
      "errors are RFC 6749 JSON with a fixed description that never names the internal reason; an outage of KV or the Durable Object is a 503 with `Retry-After`, never a 500",
    source: "RFC 6749 §5.2, RFC 9110 §15.6.4",
    rules: [
      {
        id: "wire-hides-reason",
        file: "src/protocol/error-response.ts",
        find: "JSON.stringify({ error: wire.error, error_description: description })",
        replace: "JSON.stringify({ error: wire.error, error_description: description, reason })",
        tests: t(
          FUZZ,
          "random bodies reach the form parser and, with a valid prefix, the header decoder; always a well-formed 4xx",
        ),
      },
      {
        id: "registry-outage-503",
        file: "src/registry/client-registry.ts",
        find: 'whileAvailable("registry_unavailable", () => kv.get(clientKey(clientId), "text"))',
        replace: 'kv.get(clientKey(clientId), "text")',
        tests: t(OUTCOMES, "a KV failure while reading the client answers 503 with Retry-After"),
      },
      {
        id: "outage-retry-after",
        file: "src/protocol/error-response.ts",
        find: 'else if (wire.status === 503) headers["Retry-After"] = "1";',
        replace: "",
        tests: t(OUTCOMES, "a replay guard failure answers 503 with Retry-After"),
      },
    ],
  },
  {
    requirement:
      "configuration is checked once: `ISSUER` an https origin (http only on loopback), every number within its bounds, `SIGNING_KEYS` private keys whose `alg` fits, only public halves published",
    source: "RFC 8414 §2, security model",
    rules: [
      {
        id: "issuer-https",
        file: "src/config.ts",
        find: 'if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopbackHost(url.hostname))) {',
        replace: "if (false) {",
        tests: t(CONFIG, "rejects a plain-http ISSUER off loopback"),
      },
      {
        id: "issuer-origin",
        file: "src/config.ts",
        find: "if (url.origin !== raw) {",
        replace: "if (false) {",
        tests: t(CONFIG, "rejects an ISSUER with a trailing slash", "rejects an ISSUER with a path"),
      },
      {
        id: "config-bounds",
        file: "src/config.ts",
        find: "if (value < bounds.min || value > bounds.max) {",
        replace: "if (false) {",
        tests: t(CONFIG, "rejects a CLIENT_CACHE_TTL above a minute", "rejects an out-of-range CLOCK_SKEW"),
      },
      {
        id: "signing-key-private",
        file: "src/issuer/signing-keys.ts",
        find: 'if (typeof jwk.d !== "string") fail(`key ${jwk.kid} is not a private key`);',
        replace: "",
        tests: t(SIGNING, "rejects a public key"),
      },
      {
        id: "signing-key-publishes-public-only",
        file: "src/issuer/signing-keys.ts",
        find: 'publicJwk: { ...publicPart, use: "sig", alg, kid: jwk.kid }',
        replace: 'publicJwk: { ...jwk, use: "sig", alg, kid: jwk.kid }',
        tests: t(SIGNING, "publishes only public members, with use, alg and kid"),
      },
    ],
  },
  {
    requirement:
      "under PROFILE=fapi2: PS256, ES256 and EdDSA only (assertions, proofs, the active signing key, the metadata), every token DPoP-bound, CLOCK_SKEW from 10 to 60 s",
    source: "FAPI 2.0 Security Profile §5.3.2, §5.4",
    rules: [
      {
        id: "fapi2-assertion-algs",
        file: "src/assertion/decode.ts",
        find: " || !algorithms.includes(raw.alg)",
        replace: "",
        tests: t(PROFILES, "refuses an assertion signed RS256", "refuses an assertion signed PS384"),
      },
      {
        id: "fapi2-algorithms-config",
        file: "src/config.ts",
        find: 'algorithms: profile === "fapi2" ? FAPI2_ALGORITHMS : ASSERTION_ALGORITHMS,',
        replace: "algorithms: ASSERTION_ALGORITHMS,",
        tests: [
          ...t(PROFILES, "refuses an assertion signed RS256"),
          ...t(DPOP, "under PROFILE=fapi2 a proof signed RS256 is refused"),
        ],
      },
      {
        id: "fapi2-dpop-for-all",
        file: "src/config.ts",
        find: 'requiredForAll: profile === "fapi2",',
        replace: "requiredForAll: false,",
        tests: t(DPOP, "under PROFILE=fapi2 no Bearer token is ever issued"),
      },
      {
        id: "fapi2-signing-key",
        file: "src/issuer/signing-keys.ts",
        find: "if (!(FAPI2_ALGORITHMS as readonly string[]).includes(keys.active.alg)) {",
        replace: "if (false) {",
        tests: t(
          PROFILES,
          "refuses an active signing key outside PS256, ES256 and EdDSA as a configuration error naming the key",
        ),
      },
      {
        id: "fapi2-metadata-algs",
        file: "src/issuer/metadata.ts",
        find: "dpop_signing_alg_values_supported: [...config.algorithms],",
        replace: 'dpop_signing_alg_values_supported: ["RS256", "PS256", "ES256", "EdDSA"],',
        tests: t(PROFILES, "lists only PS256, ES256 and EdDSA in the metadata, for assertions and proofs"),
      },
      {
        id: "fapi2-clock-skew",
        file: "src/config.ts",
        find: 'if (profile === "fapi2" && (clockSkew < FAPI2_CLOCK_SKEW.min || clockSkew > FAPI2_CLOCK_SKEW.max)) {',
        replace: "if (false) {",
        tests: t(
          PROFILES,
          "refuses CLOCK_SKEW=0 as a configuration error naming the variable",
          "refuses CLOCK_SKEW=61 as a configuration error naming the variable",
        ),
      },
    ],
  },
  {
    requirement: "a DPoP proof is one compact JWS, `typ` dpop+jwt, an allowed asymmetric `alg`, its own public `jwk`",
    source: "RFC 9449 §4.2, §4.3 checks 1–6",
    rules: [
      {
        id: "dpop-one-proof",
        file: "src/dpop/decode.ts",
        find: 'if (value.includes(",")) throw new TokenServiceError("dpop_proof_multiple");',
        replace: "",
        tests: [
          ...t(DPOP_DECODE, "refuses two proofs (two DPoP headers arrive joined by a comma)"),
          ...t(DPOP, "two DPoP headers"),
        ],
      },
      {
        id: "dpop-typ",
        file: "src/dpop/decode.ts",
        find: 'if (!isProofType(header.typ)) throw new TokenServiceError("dpop_typ_invalid");',
        replace: "",
        tests: [...t(DPOP_DECODE, "refuses typ JWT", "refuses typ at+jwt"), ...t(DPOP, "wrong typ")],
      },
      {
        id: "dpop-alg-allowlist",
        file: "src/dpop/decode.ts",
        find: "!isAssertionAlgorithm(header.alg) || !algorithms.includes(header.alg)",
        replace: "typeof header.alg !== 'string'",
        tests: t(DPOP_DECODE, "refuses alg none", "refuses an HMAC alg"),
      },
      {
        id: "dpop-alg-profile",
        file: "src/dpop/decode.ts",
        find: " || !algorithms.includes(header.alg)",
        replace: "",
        tests: [
          ...t(DPOP_DECODE, "refuses an alg outside the profile's list (RS256 under FAPI 2.0)"),
          ...t(DPOP, "under PROFILE=fapi2 a proof signed RS256 is refused"),
        ],
      },
      {
        id: "dpop-crit",
        file: "src/dpop/decode.ts",
        find: 'if ("crit" in header || "b64" in header) throw new TokenServiceError("dpop_proof_malformed", "crit or b64");',
        replace: "",
        tests: t(DPOP_DECODE, "refuses crit"),
      },
      {
        id: "dpop-no-other-key",
        file: "src/dpop/decode.ts",
        find: 'if (member in header) throw new TokenServiceError("dpop_jwk_invalid", `header member ${member}`);',
        replace: "",
        tests: t(DPOP_DECODE, "refuses a header naming a key through x5c", "refuses a header naming a key through jku"),
      },
      {
        id: "dpop-jwk-public",
        file: "src/dpop/decode.ts",
        find: "jwk = validatePublicJwk(header.jwk);",
        replace: "jwk = header.jwk as ClientJwk;",
        tests: t(DPOP_DECODE, "refuses a jwk holding the private key"),
      },
      {
        id: "dpop-jwk-fits-alg",
        file: "src/dpop/decode.ts",
        find: 'if (!keyFitsAlgorithm(jwk, header.alg)) throw new TokenServiceError("dpop_jwk_invalid", "jwk does not fit alg");',
        replace: "",
        tests: t(DPOP_DECODE, "refuses a jwk that does not fit the alg"),
      },
      {
        id: "dpop-signature",
        file: "src/dpop/signature.ts",
        find: "await compactVerify(compact, key, { algorithms: [alg] });",
        replace: "",
        tests: t(DPOP, "signed by another key than the one it carries"),
      },
    ],
  },
  {
    requirement:
      "a DPoP proof names this request (`htm`, `htu` the configured endpoint), is recent, and fits the token",
    source: "RFC 9449 §4.3 checks 8–12",
    rules: [
      {
        id: "dpop-jti-present",
        file: "src/dpop/claims.ts",
        find: 'if (typeof jti !== "string" || jti.length === 0 || jti.length > LIMITS.maxDpopJtiLength) {',
        replace: "if (false) {",
        tests: [...t(DPOP_CLAIMS, "refuses a proof without jti"), ...t(DPOP, "no jti")],
      },
      {
        id: "dpop-htm",
        file: "src/dpop/claims.ts",
        find: 'if (htm !== expected.method) throw new TokenServiceError("dpop_htm_mismatch");',
        replace: "",
        tests: [...t(DPOP_CLAIMS, "refuses htm GET for a POST"), ...t(DPOP, "wrong htm")],
      },
      {
        id: "dpop-htu",
        file: "src/dpop/claims.ts",
        find: 'if (!htuMatches(htu, expected.uri)) throw new TokenServiceError("dpop_htu_mismatch");',
        replace: "",
        tests: t(DPOP, "htu on another host", "htu on another path"),
      },
      {
        id: "dpop-htu-compared",
        file: "src/dpop/htu.ts",
        find: "return claimed !== null && claimed === htuTarget(requestUri);",
        replace: "return claimed !== null;",
        tests: t(DPOP_CLAIMS, "does not match with a trailing slash", "does not match with a path in another case"),
      },
      {
        id: "dpop-htu-configured",
        file: "src/token/check-dpop.ts",
        find: "uri: config.tokenEndpoint,",
        replace: "uri: c.req.url,",
        tests: t(DPOP, "naming the URL it was sent to rather than the configured endpoint"),
      },
      {
        id: "dpop-iat-future",
        file: "src/dpop/claims.ts",
        find: 'if (iat > expected.now + expected.skewSeconds) throw new TokenServiceError("dpop_iat_invalid", "iat in the future");',
        replace: "",
        tests: [
          ...t(DPOP_CLAIMS, "refuses an iat beyond the skew in the future, accepts one within it"),
          ...t(DPOP, "an iat in the future"),
        ],
      },
      {
        id: "dpop-iat-max-age",
        file: "src/dpop/claims.ts",
        find: "if (iat < expected.now - expected.maxAgeSeconds - expected.skewSeconds) {",
        replace: "if (false) {",
        tests: t(DPOP_CLAIMS, "refuses an iat older than the max age plus the skew, accepts one within it"),
      },
      {
        id: "dpop-ath",
        file: "src/dpop/claims.ts",
        find: "if (expected.accessTokenHash !== undefined && ath !== expected.accessTokenHash) {",
        replace: "if (false) {",
        tests: t(DPOP_CLAIMS, "checks ath against the access token hash when one is expected"),
      },
      {
        id: "dpop-bound-cnf",
        file: "src/token/issue-token.ts",
        find: "if (subject.jkt !== undefined) claims.cnf = { jkt: subject.jkt };",
        replace: "",
        tests: t(DPOP, "gets a DPoP token bound to the proof key: token_type DPoP and cnf.jkt its RFC 7638 thumbprint"),
      },
      {
        id: "dpop-token-type",
        file: "src/token/pipeline.ts",
        find: 'const type = proof ? DPOP_TOKEN_TYPE : "Bearer";',
        replace: 'const type = "Bearer";',
        tests: t(DPOP, "gets a DPoP token bound to the proof key: token_type DPoP and cnf.jkt its RFC 7638 thumbprint"),
      },
    ],
  },
  {
    requirement: "a client bound to DPoP never gets a Bearer token, whatever KV or the isolate cache still serve",
    source: "RFC 9449 §5.2 (dpop_bound_access_tokens); security model",
    rules: [
      {
        id: "dpop-required",
        file: "src/token/check-dpop.ts",
        find: 'if (config.dpop.requiredForAll) throw new TokenServiceError("dpop_proof_required", "PROFILE=fapi2");',
        replace: "",
        tests: t(DPOP, "under PROFILE=fapi2 no Bearer token is ever issued"),
      },
      {
        id: "dpop-required-by-authority",
        file: "src/client-authority/authority.ts",
        find: 'if (!proof && purpose === "token" && record.dpop_bound_access_tokens === true) return { outcome: "proof_required" };',
        replace: "",
        tests: [
          ...t(GUARD, "refuses a request without a proof when its record binds the client to DPoP, and spends nothing"),
          ...t(
            DPOP,
            "a client with dpop_bound_access_tokens gets no token without a proof",
            "a client made DPoP-bound through the management API gets no Bearer token on its next request, stale KV or not",
          ),
        ],
      },
    ],
  },
  {
    requirement: "each DPoP proof is used once, its jti spent with the assertion's, only when everything else passed",
    source: "RFC 9449 §11.1; security model",
    rules: [
      {
        id: "dpop-jti-sent-to-authority",
        file: "src/token/spend-jti.ts",
        find: "...(proof ? { proof: { jti: proof.jti, retainUntilMs: proofRetainUntilMs } } : {}),",
        replace: "",
        tests: t(
          DPOP,
          "is spent with the assertion's: the same proof with a new assertion is refused as replayed",
          "is refused on the second of 10 concurrent requests carrying it: exactly one token",
        ),
      },
      {
        id: "dpop-replay-before-spending",
        file: "src/client-authority/authority.ts",
        find: 'if (proof && this.#proofs.isSpent(proof.jti, now)) return { outcome: "proof_replayed" };',
        replace: "",
        tests: t(
          GUARD,
          "spends the proof's jti in the same call as the assertion's, and refuses it again with another assertion",
        ),
      },
      {
        id: "dpop-retention-passed",
        file: "src/client-authority/authority.ts",
        find: 'if (proof && proof.retainUntilMs <= now) return { outcome: "proof_expired" };',
        replace: "",
        tests: t(GUARD, "refuses a proof whose retention has already passed by its own clock, and writes nothing"),
      },
      {
        id: "dpop-purge",
        file: "src/client-authority/authority.ts",
        find: "[this.#replay.purge(now), this.#proofs.purge(now), this.#revocations.purge(now)]",
        replace: "[this.#replay.purge(now), this.#revocations.purge(now)]",
        tests: t(GUARD, "purges proof jtis past their retention from its alarm"),
      },
    ],
  },
  {
    requirement: "with DPOP_NONCE=required, a proof carries a current nonce this service issued",
    source: "RFC 9449 §8, §4.3 check 10",
    rules: [
      {
        id: "dpop-nonce-required",
        file: "src/token/check-dpop.ts",
        find: 'if (nonceRequired && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, c.get("now"));',
        replace: "",
        tests: t(
          DPOP,
          "a proof without a nonce gets use_dpop_nonce and a DPoP-Nonce; with that nonce the token is issued",
          "a forged nonce is refused",
        ),
      },
      {
        id: "dpop-nonce-mac",
        file: "src/dpop/nonce.ts",
        find: "return sameBytes(mac, await macOf(secret, step));",
        replace: "return true;",
        tests: t(
          DPOP_NONCE,
          "refuses a nonce made under another secret",
          "refuses a nonce whose step was changed to a current one",
        ),
      },
      {
        id: "dpop-nonce-window",
        file: "src/dpop/nonce.ts",
        find: "if (step > now + 1 || step <= now - LIMITS.dpopNonceAcceptedSteps) return false;",
        replace: "",
        tests: t(
          DPOP_NONCE,
          "accepts a nonce for its own step and the steps the limit allows, and not after",
          "accepts a nonce one step ahead (a location whose clock is a moment behind), not two",
        ),
      },
      {
        id: "dpop-nonce-secret-required",
        file: "src/config.ts",
        find: 'throw new TokenServiceError("config_invalid", \'DPOP_NONCE_SECRET is not set (DPOP_NONCE is "required")\');',
        replace: "",
        tests: t(CONFIG, "rejects DPOP_NONCE=required without its secret, naming it"),
      },
    ],
  },
  {
    requirement:
      "a resource server accepts only this issuer's tokens, for its audience, bound tokens only with a matching proof",
    source: "RFC 9068 §4, RFC 6750 §3, RFC 9449 §7, §9",
    rules: [
      {
        id: "rs-typ",
        file: "src/resource-server/access-token.ts",
        find: 'if (!isAccessTokenType(header.typ)) throw new TokenServiceError("rs_token_typ_invalid");',
        replace: "",
        tests: t(RS, "rejects a token whose typ is not at+jwt with rs_token_typ_invalid"),
      },
      {
        id: "rs-alg-allowlist",
        file: "src/resource-server/access-token.ts",
        find: 'if (typeof header.alg !== "string" || !(algorithms as readonly string[]).includes(header.alg)) {',
        replace: "if (false) {",
        tests: t(
          RS,
          "rejects an unsigned token (alg none) with rs_token_alg_not_allowed",
          "rejects a token signed with an algorithm left out of the allowlist with rs_token_alg_not_allowed",
        ),
      },
      {
        id: "rs-signature",
        file: "src/resource-server/verifier.ts",
        find: "await signature(token, decoded.alg);",
        replace: "",
        tests: t(
          RS,
          "rejects a token signed by another key under the issuer's kid with rs_token_signature_invalid",
          "rejects a token whose kid the issuer does not publish with rs_token_signature_invalid",
        ),
      },
      {
        id: "rs-iss",
        file: "src/resource-server/access-token.ts",
        find: 'if (iss !== expected.issuer) throw new TokenServiceError("rs_token_issuer_invalid");',
        replace: "",
        tests: t(RS, "rejects a token of another issuer with rs_token_issuer_invalid"),
      },
      {
        id: "rs-aud",
        file: "src/resource-server/access-token.ts",
        find: 'if (!audienceIncludes(aud, expected.audience)) throw new TokenServiceError("rs_token_audience_invalid");',
        replace: "",
        tests: t(RS, "rejects a token for another audience with rs_token_audience_invalid"),
      },
      {
        id: "rs-aud-exact",
        file: "src/resource-server/access-token.ts",
        find: 'if (typeof aud === "string") return aud === audience;',
        replace: 'if (typeof aud === "string") return aud.startsWith(audience);',
        tests: t(
          RS,
          "rejects a token whose aud starts with this audience but is not it with rs_token_audience_invalid",
        ),
      },
      {
        id: "rs-exp",
        file: "src/resource-server/access-token.ts",
        find: 'if (exp <= expected.now - expected.skewSeconds) throw new TokenServiceError("rs_token_expired");',
        replace: "",
        tests: t(RS, "rejects an expired token with rs_token_expired"),
      },
      {
        id: "rs-iat-future",
        file: "src/resource-server/access-token.ts",
        find: 'if (iat > expected.now + expected.skewSeconds) throw new TokenServiceError("rs_token_not_yet_valid", "iat");',
        replace: "",
        tests: t(RS, "rejects a token issued in the future beyond the skew with rs_token_not_yet_valid"),
      },
      {
        id: "rs-sub-client-id",
        file: "src/resource-server/access-token.ts",
        find: "if (!isNonEmptyString(sub) || sub !== clientId) {",
        replace: "if (!isNonEmptyString(sub)) {",
        tests: t(RS, "rejects a token whose sub and client_id differ with rs_token_claims_invalid"),
      },
      {
        id: "rs-bound-needs-dpop",
        file: "src/resource-server/verifier.ts",
        find: 'if (token.jkt !== undefined && scheme !== "DPoP") throw new TokenServiceError("rs_token_bound_needs_dpop");',
        replace: "",
        tests: t(RS, "refuses a bound token presented as Bearer, even with a valid proof beside it"),
      },
      {
        id: "rs-unbound-not-dpop",
        file: "src/resource-server/verifier.ts",
        find: 'if (token.jkt === undefined && scheme === "DPoP") throw new TokenServiceError("rs_token_not_bound");',
        replace: "",
        tests: t(RS, "refuses an unbound token sent with the DPoP scheme and a proof"),
      },
      {
        id: "rs-proof-checked",
        file: "src/resource-server/verifier.ts",
        find: "const proof = accepted.jkt === undefined ? undefined : await checkProof(request, token, config, now);",
        replace: "const proof = undefined as Awaited<ReturnType<typeof checkProof>> | undefined;",
        tests: t(
          RS,
          "refuses a bound token sent with the DPoP scheme but no DPoP header",
          "refuses a proof for another method",
          "refuses a proof for another URI",
        ),
      },
      {
        id: "rs-jkt-match",
        file: "src/resource-server/verifier.ts",
        find: 'if (proof && proof.jkt !== accepted.jkt) throw new TokenServiceError("rs_dpop_key_mismatch");',
        replace: "",
        tests: t(RS, "refuses a proof by another key than the token is bound to"),
      },
      {
        id: "rs-ath",
        file: "src/resource-server/verifier.ts",
        find: "accessTokenHash: await accessTokenHash(token),",
        replace: "",
        tests: t(RS, "refuses a proof whose ath is another token's"),
      },
      {
        id: "rs-proof-replay",
        file: "src/resource-server/verifier.ts",
        find: 'if (!fresh) throw new TokenServiceError("dpop_replayed");',
        replace: "",
        tests: t(
          RS,
          "refuses a replayed proof with dpop_replayed",
          "refuses the same proof again until iat + max age + skew has passed",
        ),
      },
      {
        id: "rs-replay-store-full",
        file: "src/resource-server/proof-replay.ts",
        find: 'throw new Error("MemoryProofReplayStore is full of live proof jtis");',
        replace: "this.#spent.delete(this.#spent.keys().next().value as string);",
        tests: t(RS_REPLAY, "rejects when full of live jtis, rather than forget one"),
      },
      {
        id: "rs-proof-retention",
        file: "src/resource-server/verifier.ts",
        find: "const retainUntilMs = (proof.iat + config.dpopProofMaxAge + config.clockSkew) * 1000;",
        replace: "const retainUntilMs = proof.iat * 1000;",
        tests: t(
          RS,
          "refuses the same proof again until iat + max age + skew has passed",
          "is spent in the store given, until iat + max age + skew",
        ),
      },
      {
        id: "rs-proof-spent-last",
        file: "src/resource-server/verifier.ts",
        find: "  checkScopes(scopes, accepted.scope);\n  // Online mode, once every offline check passed: a token the issuer refuses leaves its proof unspent too.\n  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);\n  if (proof) await spendProof(proof, config, replay);",
        replace:
          "  if (proof) await spendProof(proof, config, replay);\n  checkScopes(scopes, accepted.scope);\n  // Online mode, once every offline check passed: a token the issuer refuses leaves its proof unspent too.\n  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);",
        tests: t(RS, "a proof refused for insufficient scope is not spent: the same proof is then accepted"),
      },
      {
        id: "rs-scope",
        file: "src/resource-server/verifier.ts",
        find: 'if (missing.length > 0) throw new TokenServiceError("rs_scope_insufficient", `missing ${missing.length} scope(s)`);',
        replace: "",
        tests: t(
          RS,
          "rejects a token without every required scope with rs_scope_insufficient (403) and scope= in the challenge",
        ),
      },
      {
        id: "rs-nonce-required",
        file: "src/resource-server/verifier.ts",
        find: "if (proof && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, now);",
        replace: "",
        tests: t(
          RS,
          "refuses a proof without a nonce with use_dpop_nonce (401) and a current nonce in DPoP-Nonce",
          "refuses a nonce made under another secret with dpop_nonce_invalid",
        ),
      },
      {
        id: "rs-nonce-current",
        file: "src/dpop/nonce.ts",
        find: "if (nonce !== undefined && (await isCurrentNonce(secret, nonce, nowSeconds))) return;",
        replace: "if (nonce !== undefined) return;",
        tests: [
          ...t(
            RS,
            "refuses a nonce made under another secret with dpop_nonce_invalid",
            "refuses a nonce older than the accepted steps with dpop_nonce_invalid",
          ),
          ...t(DPOP, "a forged nonce is refused"),
        ],
      },
      {
        id: "rs-nonce-before-spend",
        file: "src/resource-server/verifier.ts",
        find: "  if (proof && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, now);\n  // State last: a request refused for any reason above, its scopes included, leaves its proof unspent.\n  checkScopes(scopes, accepted.scope);\n  // Online mode, once every offline check passed: a token the issuer refuses leaves its proof unspent too.\n  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);\n  if (proof) await spendProof(proof, config, replay);",
        replace:
          "  checkScopes(scopes, accepted.scope);\n  // Online mode, once every offline check passed: a token the issuer refuses leaves its proof unspent too.\n  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);\n  if (proof) await spendProof(proof, config, replay);\n  if (proof && nonceSecret !== undefined) await requireCurrentNonce(nonceSecret, proof.nonce, now);",
        tests: t(
          RS,
          "a proof refused for its nonce is not spent: the same proof id with a good nonce is then accepted",
        ),
      },
      {
        id: "rs-nonce-header",
        file: "src/dpop/nonce.ts",
        find: 'headers: { "DPoP-Nonce": await currentNonce(secret, nowSeconds) },',
        replace: "",
        tests: [
          ...t(RS, "refuses a proof without a nonce with use_dpop_nonce (401) and a current nonce in DPoP-Nonce"),
          ...t(
            DPOP,
            "a proof without a nonce gets use_dpop_nonce and a DPoP-Nonce; with that nonce the token is issued",
          ),
        ],
      },
      {
        id: "rs-nonce-status-401",
        file: "src/resource-server/challenge.ts",
        find: 'return { status: 401, error: wire.error, description: "Resource server requires nonce in DPoP proof" };',
        replace: "return wire;",
        tests: t(RS, "refuses a proof without a nonce with use_dpop_nonce (401) and a current nonce in DPoP-Nonce"),
      },
      {
        id: "rs-nonce-returned",
        file: "src/resource-server/verifier.ts",
        find: "if (nonceSecret !== undefined) verified.dpopNonce = await currentNonce(nonceSecret, now);",
        replace: "",
        tests: t(RS, "accepts a proof carrying the nonce it was given, and returns the current nonce as dpopNonce"),
      },
      {
        id: "rs-nonce-secret-length",
        file: "src/resource-server/options.ts",
        find: 'if (typeof value !== "string" || value.length < LIMITS.minDpopNonceSecretLength) {',
        replace: 'if (typeof value !== "string") {',
        tests: t(RS, "createVerifier refuses a dpopNonceSecret shorter than the minimum, naming the option"),
      },
    ],
  },
  {
    requirement:
      "revocation and introspection callers authenticate with private_key_jwt exactly as at the token endpoint, their jti spent by the same replay guard; only a client whose record allows it, by its authority's current record, may introspect; a client bound to DPoP needs no proof to call either",
    source: "RFC 7009 §2.1, RFC 7662 §2.1, §4",
    rules: [
      {
        id: "introspection-permission",
        file: "src/client-authority/authority.ts",
        find: 'if (purpose === "introspection" && record.introspection !== true) return { outcome: "not_permitted" };',
        replace: "",
        tests: t(
          INTROSPECTION,
          "a client its record does not allow, with 403, spending nothing: the same assertion works once allowed",
          "a client whose permission its authority withdrew, while KV still serves the record that allowed it",
        ),
      },
      {
        id: "introspection-permission-refuses",
        file: "src/token/spend-jti.ts",
        find: 'case "not_permitted":\n        throw new TokenServiceError("introspection_not_allowed", "its authority\'s record does not allow introspection");',
        replace: 'case "not_permitted":\n        return next();',
        tests: t(
          INTROSPECTION,
          "a client its record does not allow, with 403, spending nothing: the same assertion works once allowed",
        ),
      },
      {
        id: "dpop-proof-token-only",
        file: "src/client-authority/authority.ts",
        find: 'if (!proof && purpose === "token" && record.dpop_bound_access_tokens === true)',
        replace: "if (!proof && record.dpop_bound_access_tokens === true)",
        tests: t(INTROSPECTION, "lets a client bound to DPoP introspect without a proof: it asks for no token"),
      },
    ],
  },
  {
    requirement:
      "a client revokes only its own tokens: another's is refused with `unauthorized_client`, stays active, and the caller's jti is not spent; an invalid, unknown or expired token gets 200; a revoked token's jti is kept until its `exp` + `CLOCK_SKEW`, then purged",
    source: "RFC 7009 §2.1, §2.2",
    rules: [
      {
        id: "revocation-owner",
        file: "src/issued-tokens/endpoints.ts",
        find: 'if (presented && presented.client_id !== c.get("client").record.client_id) {',
        replace: "if (false) {",
        tests: t(
          REVOCATION,
          "another client's token, which stays active, and spends nothing: the same assertion revokes its own",
        ),
      },
      {
        id: "revocation-stored",
        file: "src/client-authority/authority.ts",
        find: "this.#revocations.revoke(request.jti, request.retainUntilMs, now);",
        replace: "",
        tests: [
          ...t(REVOCATION, "makes it inactive at the next introspection"),
          ...t(INTROSPECTION, "for a token its client revoked"),
        ],
      },
      {
        id: "revocation-retention",
        file: "src/issued-tokens/endpoints.ts",
        find: 'const retainUntilMs = (presented.exp + c.get("config").clockSkew) * 1000;',
        replace: "const retainUntilMs = presented.exp * 1000;",
        tests: t(REVOCATION, "keeps the revoked jti until the token's expiry plus the clock skew, then purges it"),
      },
      {
        id: "revocation-purge",
        file: "src/client-authority/authority.ts",
        find: "[this.#replay.purge(now), this.#proofs.purge(now), this.#revocations.purge(now)]",
        replace: "[this.#replay.purge(now), this.#proofs.purge(now)]",
        tests: t(REVOCATION, "keeps the revoked jti until the token's expiry plus the clock skew, then purges it"),
      },
    ],
  },
  {
    requirement:
      "introspection answers `active: true` with the token's claims only for an unexpired `at+jwt` this issuer signed with a key it still publishes, whose client is registered and active, whose key is neither retired nor removed, issued after the client's cut-off and not revoked; anything else is `{\"active\": false}` and nothing more; admin tokens die the same way",
    source: "RFC 7662 §2.2, §4",
    rules: [
      {
        id: "introspection-typ",
        file: "src/issued-tokens/own-token.ts",
        find: "typ: ACCESS_TOKEN_TYPE,",
        replace: "",
        tests: t(
          INTROSPECTION,
          "for a token of ours whose typ is not at+jwt, and for a value that is not a token at all",
        ),
      },
      {
        id: "introspection-issuer",
        file: "src/issued-tokens/own-token.ts",
        find: "      issuer,\n",
        replace: "",
        tests: t(INTROSPECTION, "for a token of this server naming another issuer"),
      },
      {
        id: "introspection-expiry",
        file: "src/issued-tokens/own-token.ts",
        find: "currentDate: new Date(now * 1000),",
        replace: "currentDate: new Date(0),",
        tests: t(INTROSPECTION, "for an expired token"),
      },
      {
        id: "introspection-unknown-client",
        file: "src/client-authority/token-status.ts",
        find: 'if (record === null) return { active: false, reason: "client_unknown" };',
        replace: "if (record === null) return { active: true };",
        tests: t(
          INTROSPECTION,
          "for the tokens of a removed client, and still after the same client_id is registered again",
        ),
      },
      {
        id: "introspection-key-retired",
        file: "src/client-authority/token-status.ts",
        find: 'if (retiredKidsOf(record).includes(query.keyId)) return { active: false, reason: "key_retired" };',
        replace: "",
        tests: t(
          INTROSPECTION,
          "for a token obtained with a key listed as retired (how a jwks_uri client's key is retired)",
        ),
      },
      {
        id: "introspection-revoked",
        file: "src/client-authority/token-status.ts",
        find: 'if (revocation.revoked) return { active: false, reason: "token_revoked" };',
        replace: "",
        tests: [
          ...t(INTROSPECTION, "for a token its client revoked"),
          ...t(REVOCATION, "ends an admin token at once: the admin API refuses it on its next request"),
        ],
      },
      {
        id: "introspection-cutoff",
        file: "src/client-authority/token-status.ts",
        find: "if (revocation.cutoff !== null && query.issuedAt < revocation.cutoff) {",
        replace: "if (false) {",
        tests: t(
          INTROSPECTION,
          "for every token issued before revoke-tokens, in its second too, while a token issued after it is active",
          "for the tokens of a removed client, and still after the same client_id is registered again",
        ),
      },
      {
        id: "cutoff-whole-second",
        file: "src/client-authority/token-revocations.ts",
        find: "Math.floor(nowMs / 1000) + 1",
        replace: "Math.floor(nowMs / 1000)",
        tests: t(
          INTROSPECTION,
          "for every token issued before revoke-tokens, in its second too, while a token issued after it is active",
        ),
      },
      {
        id: "removal-cutoff",
        file: "src/client-authority/authority.ts",
        find: 'if (change.kind === "delete") this.#revocations.revokeAllBefore(Date.now());',
        replace: "",
        tests: t(
          INTROSPECTION,
          "for the tokens of a removed client, and still after the same client_id is registered again",
        ),
      },
      {
        id: "introspection-inactive-shape",
        file: "src/issued-tokens/endpoints.ts",
        find: "presented && status.active ? activeAnswer(presented) : { active: false }",
        replace: "presented ? activeAnswer(presented) : { active: false }",
        tests: t(INTROSPECTION, "for a token its client revoked"),
      },
    ],
  },
  {
    requirement:
      "the verifier's online mode refuses a token the issuer's introspection says is inactive, and fails closed (503) on any answer that is not a 200 JSON object with a boolean `active` about this very token; it asks only after every offline check passed and before the proof's `jti` is spent, and reuses an answer at most `cacheSeconds`, never past the token's `exp`",
    source: "RFC 7662 §2.2, §4",
    rules: [
      {
        id: "rs-online-inactive",
        file: "src/resource-server/introspection.ts",
        find: 'if ((await answerFor(token, nowMs)) === "inactive") throw new TokenServiceError("rs_token_inactive");',
        replace: "await answerFor(token, nowMs);",
        tests: [
          ...t(
            RS_ONLINE,
            "online mode: the answer › refuses a token the issuer says is inactive with rs_token_inactive (401 invalid_token)",
          ),
          ...t(
            RS_ONLINE,
            "online mode against this service's own introspection endpoint › accepts a token the endpoint says is active, and refuses it with rs_token_inactive once it is revoked",
          ),
        ],
      },
      {
        id: "rs-online-status",
        file: "src/resource-server/introspection.ts",
        find: 'if (response.status !== 200 || mediaType !== "application/json") {',
        replace: 'if (mediaType !== "application/json") {',
        tests: t(
          RS_ONLINE,
          "online mode: the answer › answers 503 rs_introspection_unavailable to a 201 with an active answer",
        ),
      },
      {
        id: "rs-online-active-boolean",
        file: "src/resource-server/introspection.ts",
        find: 'if (typeof active !== "boolean") throw unavailable("active is not a boolean");',
        replace: "",
        tests: t(
          RS_ONLINE,
          "online mode: the answer › answers 503 rs_introspection_unavailable to an answer without active",
        ),
      },
      {
        id: "rs-online-same-token",
        file: "src/resource-server/introspection.ts",
        find: 'if (jti !== token.jti || clientId !== token.clientId) throw unavailable("the answer is about another token");',
        replace: "",
        tests: t(
          RS_ONLINE,
          "online mode: the answer › answers 503 rs_introspection_unavailable to an active answer about another jti",
          "online mode: the answer › answers 503 rs_introspection_unavailable to an active answer for another client_id",
        ),
      },
      {
        id: "rs-online-cache-exp",
        file: "src/resource-server/introspection.ts",
        find: "const untilMs = Math.min(nowMs + cacheMs, token.exp * 1000);",
        replace: "const untilMs = nowMs + cacheMs;",
        tests: t(RS_ONLINE, "online mode: the answer cache › never reuses an answer past the token's exp"),
      },
      {
        id: "rs-online-before-spend",
        file: "src/resource-server/verifier.ts",
        find: "  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);\n  if (proof) await spendProof(proof, config, replay);",
        replace:
          "  if (proof) await spendProof(proof, config, replay);\n  if (introspect) await introspect(tokenToIntrospect(token, accepted, decoded.claims), nowMs);",
        tests: t(
          RS_ONLINE,
          "online mode: its place among the checks › a DPoP-bound token refused as inactive leaves its proof unspent: the same proof passes once the issuer answers active",
        ),
      },
    ],
  },
  {
    requirement:
      "an external token (workload identity federation) is accepted only for the client named by `client_id`, under a trust whose issuer and exact subject it carries, for the trust's audience alone, within its exp, nbf and the trust's maximum age, with every claim condition met, signed by a key its issuer publishes",
    source: "RFC 7523 §3, §2.1; draft-ietf-oauth-spiffe-client-auth",
    rules: [
      {
        id: "federation-client-id-spiffe",
        file: "src/token/parse-request.ts",
        find: 'else if (spiffe) throw new TokenServiceError("federated_client_id_missing", "jwt-spiffe without client_id");',
        replace: "",
        tests: t(FEDERATION, "without client_id is refused as federated_client_id_missing, whichever way it is sent"),
      },
      {
        id: "federation-client-id-grant",
        file: "src/token/parse-request.ts",
        find: 'if (clientId === undefined) throw new TokenServiceError("federated_client_id_missing", "jwt-bearer grant");',
        replace: "",
        tests: t(FEDERATION, "without client_id is refused as federated_client_id_missing, whichever way it is sent"),
      },
      {
        id: "federation-client-id-assertion",
        file: "src/token/authenticate-client.ts",
        find: 'throw new TokenServiceError("federated_client_id_missing", "an external token needs client_id");',
        replace: "",
        tests: t(FEDERATION, "without client_id is refused as federated_client_id_missing, whichever way it is sent"),
      },
      {
        id: "federation-trust-issuer",
        file: "src/federation/external-token.ts",
        find: "const forIssuer = trusts.filter((trust) => trust.issuer === iss);",
        replace: "const forIssuer = trusts;",
        tests: t(FEDERATION, "refuses a token from an issuer the client has no trust for"),
      },
      {
        id: "federation-trust-subject",
        file: "src/federation/external-token.ts",
        find: "const trust = forIssuer.find((candidate) => candidate.subject === sub);",
        replace: "const trust = forIssuer[0];",
        tests: t(FEDERATION, "refuses another subject"),
      },
      {
        id: "federation-audience",
        file: "src/federation/external-token.ts",
        find: 'if (single !== audience) throw new TokenServiceError("federated_audience_mismatch");',
        replace: "",
        tests: t(FEDERATION, "refuses another audience"),
      },
      {
        id: "federation-audience-alone",
        file: "src/federation/external-token.ts",
        find: "const single = Array.isArray(aud) && aud.length === 1 ? aud[0] : aud;",
        replace: "const single = Array.isArray(aud) && aud.includes(audience) ? audience : aud;",
        tests: t(FEDERATION, "refuses the issuer among other audiences"),
      },
      {
        id: "federation-not-before",
        file: "src/federation/external-token.ts",
        find: 'if (nbf !== undefined && nbf > now + policy.clockSkew) throw new TokenServiceError("not_yet_valid");',
        replace: "",
        tests: t(FEDERATION, "refuses a token not yet valid"),
      },
      {
        id: "federation-iat-required",
        file: "src/federation/external-token.ts",
        find: 'if (iat === undefined) throw new TokenServiceError("federated_iat_missing");',
        replace: "",
        tests: t(FEDERATION, "refuses no iat (its age is unknown)"),
      },
      {
        id: "federation-max-age",
        file: "src/federation/external-token.ts",
        find: 'if (now - iat > maxAge + policy.clockSkew) throw new TokenServiceError("federated_token_too_old");',
        replace: "",
        tests: [
          ...t(FEDERATION, "refuses a token older than the maximum age"),
          ...t(FEDERATION, "older than the trust's max_age is refused, younger is accepted"),
        ],
      },
      {
        id: "federation-claim-conditions",
        file: "src/federation/external-token.ts",
        find: "if (claimAt(claims, name) !== expected)",
        replace: "if (false)",
        tests: [
          ...t(FEDERATION, "refuses another owner", "refuses no owner claim"),
          ...t(FEDERATION, "is checked by a nested claim (kubernetes.io.namespace) and its array audience"),
        ],
      },
      {
        id: "federation-claim-own-members",
        file: "src/federation/external-token.ts",
        find: "if (Object.hasOwn(value, path)) return",
        replace: "if (path in value) return",
        tests: t(TRUST, "finds nothing through the prototype or a missing member"),
      },
      {
        id: "federation-signature",
        file: "src/token/authenticate-federated.ts",
        find: "const key = await verifyWithKeySource(assertion.compact, assertion.header, (refetch) =>\n    issuerKeys(trust, options, refetch),\n  );",
        replace: "const key = (await issuerKeys(trust, options)).keys[0]!;",
        tests: t(FEDERATION, "refuses a token signed by a key the issuer does not publish, under its kid or another"),
      },
      {
        id: "federation-grant-invalid-grant",
        file: "src/protocol/error-response.ts",
        find: 'if (assertionGrant && wire.error === "invalid_client") wire = INVALID_GRANT;',
        replace: "",
        tests: t(FEDERATION, "trades a GitLab CI token; its refusals are invalid_grant with the same reason codes"),
      },
    ],
  },
  {
    requirement:
      "an external token is spent once (in its client's authority, apart from the client's own jtis) unless its trust allows reuse; it needs a jti then; the access token never outlives it; a trust may require DPoP; its tokens die with the trust",
    source: "security model",
    rules: [
      {
        id: "federation-jti-required",
        file: "src/federation/external-token.ts",
        find: 'if (jti === undefined && trust.allow_reuse !== true) throw new TokenServiceError("federated_jti_missing");',
        replace: "",
        tests: [
          ...t(FEDERATION, "refuses no jti, under a trust that spends it"),
          ...t(FEDERATION, "without jti is accepted again and again under allow_reuse, and refused without it"),
        ],
      },
      {
        id: "federation-reuse-only-when-allowed",
        file: "src/token/spend-jti.ts",
        find: "...(client.federated?.reusable ? { reusable: true } : {}),",
        replace: "reusable: true as const,",
        tests: t(FEDERATION, "is accepted once: the same token again is a replay"),
      },
      {
        id: "federation-jti-namespace",
        file: "src/token/authenticate-federated.ts",
        find: ": `${keyId}:${checked.jti}`;",
        replace: ": checked.jti;",
        tests: t(
          FEDERATION,
          "of an external token and of the client's own assertion are spent apart: neither blocks the other",
        ),
      },
      {
        id: "federation-token-ends-with-external",
        file: "src/token/grant-for.ts",
        find: "grant.ttl = Math.min(grant.ttl, left);",
        replace: "",
        tests: t(
          FEDERATION,
          "gives an access token that ends when the external token does, if that is sooner than the TTL",
        ),
      },
      {
        id: "federation-require-dpop",
        file: "src/token/grant-for.ts",
        find: 'if (federated.trust.require_dpop === true && !c.get("dpop"))',
        replace: "if (false)",
        tests: t(FEDERATION, "refuses a request without a proof and binds the token with one"),
      },
      {
        id: "federation-token-dies-with-trust",
        file: "src/client-authority/token-status.ts",
        find: "return trustIds.includes(keyId);",
        replace: "return true;",
        tests: t(
          FEDERATION,
          "ends when its trust leaves the record, or is named in retired_kids, while other trusts' tokens live on",
        ),
      },
    ],
  },
  {
    requirement:
      "a trust is refused at registration when it could not be safe: a shared issuer (GitHub Actions, GitLab.com) without an owner pin, a Kubernetes `default` service account without an explicit allowance, an issuer whose keys would be fetched from an IP literal, a private name or another port; its issuer's discovery document must name it, and a loopback issuer is fetched only with `ALLOW_INSECURE_JWKS_URI`",
    source: "security model",
    rules: [
      {
        id: "federation-shared-issuer-pin",
        file: "src/registry/federated-trust.ts",
        find: "if (shared && !shared.pinClaims.some((claim) => trust.claims?.[claim] !== undefined)) {",
        replace: "if (false) {",
        tests: t(
          TRUST,
          "refuses a GitHub Actions trust (https://token.actions.githubusercontent.com) without an owner pin, saying why",
          "refuses a GitLab.com trust (https://gitlab.com) without an owner pin, saying why",
        ),
      },
      {
        id: "federation-default-service-account",
        file: "src/registry/federated-trust.ts",
        find: "if (isDefaultServiceAccount(trust.subject) && trust.allow_default_service_account !== true) {",
        replace: "if (false) {",
        tests: t(TRUST, "refuses a Kubernetes default service account unless allowed"),
      },
      {
        id: "federation-issuer-host-policy",
        file: "src/registry/federated-trust.ts",
        find: "const problem = issuerNameProblem(raw.issuer) ?? (raw.jwks === undefined ? jwksUriProblem(raw.issuer) : null);",
        replace: "const problem = issuerNameProblem(raw.issuer);",
        tests: t(
          TRUST,
          "refuses an issuer with an IP literal, since its keys would be fetched",
          "refuses an issuer with a private name, since its keys would be fetched",
        ),
      },
      {
        id: "federation-discovery-issuer",
        file: "src/federation/issuer-keys.ts",
        find: 'if (document.issuer !== issuer) throw new Error("discovery document names another issuer");',
        replace: "",
        tests: t(
          FEDERATION,
          "are not taken from a discovery document that names another issuer, or a jwks_uri on an IP address",
        ),
      },
      {
        id: "federation-loopback-issuer",
        file: "src/federation/issuer-keys.ts",
        find: "if (!isJwksUri(issuer) || (isLoopbackHost(new URL(issuer).hostname) && !options.allowInsecure))",
        replace: "if (false)",
        tests: t(FEDERATION, "are never fetched from a loopback issuer unless ALLOW_INSECURE_JWKS_URI is set"),
      },
      {
        id: "federation-record-needs-keys-or-trust",
        file: "src/registry/record.ts",
        find: "if (record.federation === undefined)",
        replace: "if (false)",
        tests: t(TRUST, "still needs a key or a federation"),
      },
    ],
  },
  {
    requirement: "access tokens live at most an hour, the exposure of a token a resource server validates offline",
    source: "security model",
    rules: [
      {
        id: "ttl-max-hour",
        file: "src/protocol/constants.ts",
        find: "accessTokenTtl: { min: 60, max: 3_600, default: 600 },",
        replace: "accessTokenTtl: { min: 60, max: 86_400, default: 600 },",
        tests: t(CONFIG, "rejects an ACCESS_TOKEN_TTL over an hour (offline resource servers cannot see a revocation)"),
      },
    ],
  },
];

export const RULES: MutationRule[] = REQUIREMENTS.flatMap((r) => r.rules);
