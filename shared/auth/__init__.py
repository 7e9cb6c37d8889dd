"""Who is calling, and what they may see: signed tokens, roles with rights, masking.

- `claims`: the token's claims and the `Caller` every route resolves (its scope in the org tree);
- `rights`: the roles, the rights each holds, the commands each may submit;
- `tokens`: verification (ES256/RS256 against a JWKS file or URL) and, for local use, keys and minting;
- `masking`: which personal data a caller sees in clear, and how the rest is masked (pure);
- `http`: the FastAPI dependencies (401/403), the `?reveal=` unmask and the check that every
  route of an app declares its right;
- `local`: where local tools (demo, simulator, chaos, benchmarks) find a token.
`python -m shared.auth keys|token` writes a key pair and mints tokens (see `make token`).
"""
