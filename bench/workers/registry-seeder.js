// Bench-only Worker: writes many client records into one registry's KV namespace in one request (POST /few or /many
// with a JSON array of [key, value] pairs), so setting up 10,000 clients takes seconds. Setup only: never timed,
// never deployed.
export default {
  async fetch(request, env) {
    const namespace = env[new URL(request.url).pathname.slice(1)];
    if (!namespace) return new Response("unknown registry", { status: 404 });
    const entries = await request.json();
    await Promise.all(entries.map(([key, value]) => namespace.put(key, value)));
    return Response.json({ written: entries.length });
  },
};
