#!/usr/bin/env bash
# The whole private_key_jwt flow with nothing but openssl and curl (README "With plain openssl and curl").
# Usage: docs/examples/openssl-curl.sh [ISSUER] [CLIENT_ID]   — needs `npm run dev` running and the CLI for step 2.
# Never sends the private key anywhere: only the public key is registered, only the signed assertion is sent.
set -euo pipefail
ISSUER=${1:-http://localhost:8787}
CLIENT_ID=${2:-curl-demo}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# 1. Client: make a key pair. The private key never leaves the client.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/client.key.pem" 2>/dev/null
openssl pkey -in "$WORK/client.key.pem" -pubout -out "$WORK/client.pub.pem"

# 2. Operator: register the public key (local registry; add --remote for the deployed one).
npm run --silent cli -- clients add "$CLIENT_ID" --jwks "$WORK/client.pub.pem" --scope "orders.read" \
  --audience https://api.example.com ${PERSIST_TO:+--persist-to "$PERSIST_TO"} >&2

# 3. Client: sign a short-lived assertion (RS256) with openssl.
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
NOW=$(date +%s)
HEADER=$(printf '{"alg":"RS256","typ":"JWT"}' | b64url)
CLAIMS=$(printf '{"iss":"%s","sub":"%s","aud":"%s","jti":"%s","iat":%d,"exp":%d}' \
  "$CLIENT_ID" "$CLIENT_ID" "$ISSUER" "$(openssl rand -hex 16)" "$NOW" "$((NOW + 60))" | b64url)
SIGNATURE=$(printf '%s.%s' "$HEADER" "$CLAIMS" | openssl dgst -sha256 -sign "$WORK/client.key.pem" | b64url)

# 4. Client: trade it for an access token.
curl -sS "$ISSUER/token" \
  -d grant_type=client_credentials \
  -d client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer \
  -d client_assertion="$HEADER.$CLAIMS.$SIGNATURE" \
  -d scope=orders.read
echo
