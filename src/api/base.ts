// The API's root path, apart from the schemas: the CLI client needs the path, not zod.

/** Every route of the monitor lives under this path (the seed's). */
export const API_BASE = '/api/v1/proxy/monitor';
