// Bench-only Worker: writes many client records into the CLIENTS KV namespace in one request (POST a JSON array of
// [key, value] pairs), so setting up 10,000 clients takes seconds. Setup only: never timed, never deployed.
export default {
  async fetch(request, env) {
    const entries = await request.json();
    await Promise.all(entries.map(([key, value]) => env.CLIENTS.put(key, value)));
    return Response.json({ written: entries.length });
  },
};
