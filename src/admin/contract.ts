// The admin API's public contract: its path prefix and the scope its tokens must carry. Pure data, imported by the
// Worker and by the CLI (which cannot import the Hono app), so the two never drift apart.

/** Every admin route lives under this path; its access tokens are issued for the audience `<ISSUER>` + this path. */
export const ADMIN_PATH = "/admin";

/** The scope an access token must carry to call the admin API. */
export const ADMIN_SCOPE = "admin";
