// The ETag a read or a command hands out: the session's revision as a strong ETag. If-Match
// is decoded by the adapter (routeKit.ts) with its schema in bodies.ts.

/** `"<revision>"`: the ETag of a session at a revision of its stream. */
export const etagOf = (revision: bigint | number): string => `"${revision}"`
