#!/usr/bin/env python3
"""Mutation check for the security rules: removes one check at a time from src/ and runs the worker suite,
which must then fail. Restores every file afterwards. Slow (one suite run per rule): `npm run test:mutations`.
Never edits anything outside src/, and never leaves a mutation behind (the original is restored in `finally`)."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# (rule, file, exact text, replacement)
MUTATIONS = [
    ("iss must equal sub", "src/assertion/claims.ts",
     'if (iss !== sub) throw new TokenServiceError("iss_sub_mismatch");', ""),
    ("client_id parameter must match", "src/assertion/claims.ts",
     'if (clientIdParam !== undefined && clientIdParam !== iss) throw new TokenServiceError("client_id_mismatch");', ""),
    ("aud must be an accepted value", "src/assertion/claims.ts",
     "!policy.acceptedAudiences.includes(aud)", "false"),
    ("aud must be a single string", "src/assertion/claims.ts",
     'if (typeof aud !== "string") throw new TokenServiceError("aud_invalid", "aud is not a single string");\n  if (!policy.acceptedAudiences.includes(aud))',
     'if (!(Array.isArray(aud) ? aud : [aud]).some((a) => policy.acceptedAudiences.includes(a as string)))'),
    ("exp must not have passed", "src/assertion/claims.ts", "now - policy.clockSkew >= exp", "false"),
    ("exp is required", "src/assertion/claims.ts",
     'if (exp === undefined) throw new TokenServiceError("exp_missing");\n  if (!isNumericDate(exp))',
     'if (exp !== undefined && !isNumericDate(exp))'),
    ("nbf is honoured", "src/assertion/claims.ts", "nbf > now + policy.clockSkew", "false"),
    ("iat may not be in the future", "src/assertion/claims.ts", "iat > now + policy.clockSkew", "false"),
    ("lifetime cap without iat", "src/assertion/claims.ts", "exp - now > policy.maxLifetime + policy.clockSkew", "false"),
    ("lifetime cap with iat", "src/assertion/claims.ts", "exp - iat > policy.maxLifetime", "false"),
    ("jti is required", "src/assertion/claims.ts",
     'if (jti === undefined) throw new TokenServiceError("jti_missing");\n  if (typeof jti',
     'if (jti !== undefined && typeof jti'),
    ("alg allowlist", "src/assertion/decode.ts", "!isAssertionAlgorithm(raw.alg)", "typeof raw.alg !== 'string'"),
    ("no crit", "src/assertion/decode.ts", 'if ("crit" in raw || "b64" in raw) throw new TokenServiceError("crit_not_supported");', ""),
    ("no key material in the header", "src/assertion/decode.ts",
     'if (member in raw) throw new TokenServiceError("header_key_material", `header member ${member}`);', ""),
    ("explicit typ allowlist", "src/assertion/decode.ts", "!isAcceptedAssertionType(raw.typ)", "false"),
    ("no JWE", "src/assertion/decode.ts",
     'if ("enc" in raw || "zip" in raw) throw new TokenServiceError("assertion_encrypted", "JWE header members");', ""),
    ("duplicate JSON members", "src/lib/strict-json.ts", "if (hasDuplicateMembers(text)) return null;", ""),
    ("canonical base64url", "src/lib/strict-json.ts",
     '!== segment) return null;', '!== segment && false) return null;'),
    ("client must be active", "src/registry/client-registry.ts",
     'if (record.status !== "active") throw new TokenServiceError("client_disabled");', ""),
    ("record must match its key", "src/registry/record.ts", "raw.client_id !== expectedClientId", "false"),
    ("kid selects the key", "src/assertion/signature.ts",
     "return fitting.filter((key) => key.kid === header.kid);", "return fitting;"),
    ("kid-less search tries a bounded number of keys", "src/assertion/signature.ts",
     "const tried = fitting.slice(0, LIMITS.maxKeysTriedPerRequest);", "const tried = fitting.slice();"),
    ("key must fit the algorithm", "src/protocol/jwk.ts",
     "if (jwk.alg !== undefined && !sameAlgorithm(jwk.alg, alg)) return false;", ""),
    ("replay is refused", "src/token/pipeline.ts", 'throw new TokenServiceError("replayed");', "return next();"),
    ("rate limit is enforced", "src/token/pipeline.ts",
     'throw new TokenServiceError("rate_limited", undefined, result.retryAfterSeconds);', "return next();"),
    ("kill switch refuses a revoked client or key", "src/token/pipeline.ts",
     'throw new TokenServiceError("client_revoked");', "return next();"),
    ("an assertion the guard could not retain is refused", "src/token/pipeline.ts",
     'throw new TokenServiceError("expired", "assertion expired before its jti could be spent");', "return next();"),
    ("only a fresh jti issues a token", "src/token/pipeline.ts",
     'throw new TokenServiceError("replay_guard_unavailable", "unknown replay guard outcome");', "return next();"),
    ("guard never spends past the retention", "src/client-object/replay-guard.ts",
     'if (retainUntilMs <= now) return { outcome: "expired" };', ""),
    ("guard refuses a replay before the rate limit", "src/client-object/replay-guard.ts",
     'if (spent.length > 0) return { outcome: "replayed" };', ""),
    ("admin API requires the admin scope", "src/admin/api.ts",
     '!scope.split(" ").includes(ADMIN_SCOPE)', "false"),
    ("admin API requires the admin audience", "src/admin/api.ts", "audience: config.adminAudience,", ""),
    ("jwks_uri refetch honours the cooldown", "src/registry/remote-jwks.ts",
     "refetch ? coolingDown : fresh", "refetch ? false : fresh"),
    ("jwks_uri failed fetch starts a cooldown", "src/registry/remote-jwks.ts",
     "if (failedAtMs !== undefined && options.nowMs - failedAtMs < COOLDOWN_MS) {", "if (false) {"),
    ("jwks_uri waits on a shared fetch are bounded", "src/registry/remote-jwks.ts",
     "return settleWithin(flight.promise, FLIGHT_BOUND_MS);", "return flight.promise;"),
    ("admin API honours the operator's kill switch", "src/admin/api.ts",
     'if (revocations.client) throw new TokenServiceError("admin_token_invalid", "the token\'s client is disabled");', ""),
    ("a registry outage is a 503, not a 500", "src/registry/client-registry.ts",
     'whileAvailable("registry_unavailable", () => kv.get(clientKey(clientId), "text"))', 'kv.get(clientKey(clientId), "text")'),
    ("jwks_uri redirects stay on the origin", "src/registry/remote-jwks.ts", "next.origin !== url.origin", "false"),
    ("jwks_uri plain http needs the flag", "src/registry/remote-jwks.ts",
     '(new URL(uri).protocol === "http:" && !options.allowInsecure)', "false"),
    ("jwks_uri size cap", "src/registry/remote-jwks.ts", "readBoundedText(response, JWKS_URI.maxBytes)", "readBoundedText(response, 1e9)"),
    ("admin retire checks before the kill switch", "src/admin/api.ts",
     "const next = await checkRecordChange(c.env.CLIENTS, id, withoutKey);",
     "const next = JSON.parse((await c.env.CLIENTS.get(clientKey(id), 'text')) ?? '{}');"),
    ("token endpoint audience needs the legacy flag", "src/assertion/claims.ts",
     "if (aud !== issuer && !legacyAudienceAllowed) {", "if (false) {"),
    ("parameters at most once", "src/token/parse-request.ts",
     'if (!REPEATABLE.has(name)) throw new TokenServiceError("duplicate_parameter", `parameter ${name.slice(0, 40)}`);', ""),
    ("one client authentication method", "src/token/parse-request.ts",
     'throw new TokenServiceError(assertion ? "multiple_auth_methods" : "client_secret_not_accepted");', ""),
    ("HTTP authentication with an assertion is a second method", "src/token/parse-request.ts",
     'if (assertion || assertionType || one("client_secret") !== undefined) throw new TokenServiceError("multiple_auth_methods");', ""),
    ("HTTP authentication alone is refused with a challenge", "src/token/parse-request.ts",
     'throw new TokenServiceError("client_secret_not_accepted", "Authorization header", undefined, {\n      "WWW-Authenticate": challengeFor(authorizationHeader),\n    });', ""),
    ("body size limit (streamed)", "src/lib/bounded-body.ts", "if (size > maxBytes) {", "if (false) {"),
    ("body size limit (declared)", "src/lib/bounded-body.ts", "!(Number(declared) <= maxBytes)", "false"),
    ("scope must be allowed", "src/token/authorize-grant.ts",
     'if (scopes.some((s) => !record.scopes.includes(s))) throw new TokenServiceError("scope_not_allowed");', ""),
    ("resource must be allowed", "src/token/authorize-grant.ts",
     'if (!record.audiences.includes(resource)) throw new TokenServiceError("resource_not_allowed");', ""),
    ("private key material refused", "src/protocol/jwk.ts", "if (member in jwk) {", "if (false) {"),
    ("RSA minimum size", "src/protocol/jwk.ts", "bits < LIMITS.minRsaModulusBits", "false"),
]

def run_suite() -> bool:
    result = subprocess.run(
        ["npx", "vitest", "run", "--config", "test/vitest.worker.config.ts", "--bail", "1"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={**__import__("os").environ, "WRANGLER_SEND_METRICS": "false", "CLOUDFLARE_CF_FETCH_ENABLED": "false"},
    )
    return result.returncode == 0

def main() -> int:
    only = sys.argv[1:] 
    survivors = []
    for rule, name, text, replacement in MUTATIONS:
        if only and not any(o in rule for o in only):
            continue
        path = ROOT / name
        original = path.read_text()
        if original.count(text) != 1:
            print(f"STALE  {rule}: the check's text was not found exactly once in {name}")
            survivors.append(rule)
            continue
        try:
            path.write_text(original.replace(text, replacement))
            passed = run_suite()
        finally:
            path.write_text(original)
        print(f"{'SURVIVED' if passed else 'killed  '} {rule}", flush=True)
        if passed:
            survivors.append(rule)
    print(f"{len(survivors)} rule(s) without a failing test" if survivors else "every rule has a test that fails without it")
    return 1 if survivors else 0

if __name__ == "__main__":
    sys.exit(main())
